/// Everything the gossip transport counted since it started (plain values; metrics wiring reads them).
public struct TransportCounters: Hashable, Sendable {
    /// Datagrams read from the sockets, before any check.
    public var datagramsReceived = 0
    /// Bytes of those datagrams (oversize ones counted up to the receive buffer).
    public var bytesReceived = 0
    /// Datagrams handed to the inbound stream.
    public var datagramsDelivered = 0
    /// Dropped: larger than `maxDatagramBytes` (never decoded).
    public var droppedOversize = 0
    /// Dropped: their source address exceeded its rate limit.
    public var droppedSourceRateLimited = 0
    /// Dropped: all sources together exceeded the global rate limit.
    public var droppedGlobalRateLimited = 0
    /// Dropped: the inbound queue was full (newest dropped).
    public var droppedQueueFull = 0
    /// Datagrams admitted through the shared overflow bucket (source table full).
    public var overflowSourceAdmissions = 0
    /// Socket read errors (the socket stays open).
    public var readErrors = 0
    /// Datagrams written, one per path.
    public var datagramsSent = 0
    /// Bytes written.
    public var bytesSent = 0
    /// Path writes that failed (ENETUNREACH, EHOSTUNREACH, …).
    public var sendErrors = 0
    /// Paths skipped because no local socket has the destination's address family.
    public var sendNoLocalSocket = 0
    /// Sockets bound again after NIO closed them on an error (e.g. while the address was gone).
    public var socketsReopened = 0
    /// Attempts to bind a closed socket again that failed (the address was still missing).
    public var socketReopenFailures = 0
    /// Sends refused because the datagram exceeds `maxDatagramBytes`.
    public var sendOversize = 0
    /// Source addresses currently holding a rate-limit bucket (a gauge).
    public var trackedSources = 0

    public init() {}
}
