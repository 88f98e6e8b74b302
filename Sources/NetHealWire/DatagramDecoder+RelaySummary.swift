import NetHealCore

/// What a relayed view says that matters to one receiver, read from its bytes BEFORE its signature is
/// checked: untrusted, used only to decide whether the view is worth a verification (a view judged
/// redundant is skipped, never accepted; see docs/protocol.md §6).
public struct RelayedViewSummary: Sendable, Equatable {
    /// The view's origin.
    public var origin: MemberIndex
    /// The view's (incarnation, sequence).
    public var version: ViewVersion
    /// The origin's upstream judgement.
    public var upstream: UpstreamHealth
    /// The origin's decision state.
    public var decision: DecisionState
    /// The origin's reach of the receiver; nil when the view does not speak of it.
    public var reachOfReceiver: Reach?

    /// A summary with these fields.
    public init(
        origin: MemberIndex, version: ViewVersion, upstream: UpstreamHealth, decision: DecisionState, reachOfReceiver: Reach?
    ) {
        self.origin = origin
        self.version = version
        self.upstream = upstream
        self.decision = decision
        self.reachOfReceiver = reachOfReceiver
    }
}

/// Decides, for one receiver, which relayed views that are newer than their watermark are still not
/// worth verifying, because they would tell the receiver nothing it does not already hold.
public protocol RelayRedundancyJudge {
    /// The receiving member (whose reach the summaries report).
    var receiver: MemberIndex { get }
    /// True when a relayed view with this summary is redundant for the receiver.
    func isRedundant(_ summary: RelayedViewSummary) -> Bool
}

/// A `RelayRedundancyJudge` made of a closure (the agent's: it asks the engine's core).
public struct RelaySkipRule: RelayRedundancyJudge {
    /// The receiving member (whose reach the summaries report).
    public var receiver: MemberIndex
    /// The judgement.
    public var judgement: (RelayedViewSummary) -> Bool

    /// A rule for `receiver`.
    public init(receiver: MemberIndex, isRedundant: @escaping (RelayedViewSummary) -> Bool) {
        self.receiver = receiver
        self.judgement = isRedundant
    }

    /// Asks the closure.
    public func isRedundant(_ summary: RelayedViewSummary) -> Bool { judgement(summary) }
}

extension DatagramDecoder {
    /// The summary of the view of header `h` for `receiver` (structure already checked by `parse`).
    func relayedSummary(_ h: Header, in slice: ArraySlice<UInt8>, receiver: MemberIndex) -> RelayedViewSummary {
        RelayedViewSummary(
            origin: h.origin, version: h.version, upstream: h.upstream, decision: h.decision,
            reachOfReceiver: reach(of: receiver, in: h, slice: slice))
    }

    /// The reach the view of header `h` gives `member`: its 2-bit bitmap slot (dense), or its entry
    /// found by binary search (listed); nil when a listed view has no entry for it.
    func reach(of member: MemberIndex, in h: Header, slice: ArraySlice<UInt8>) -> Reach? {
        let viewStart = slice.startIndex + h.start
        if let entries = h.listed {
            let first = viewStart + 2 + clusterID.count + WireFormat.entriesDelta
            var low = 0
            var high = entries
            while low < high {
                let mid = (low + high) / 2
                let at = first + mid * WireFormat.listedEntryBytes
                let subject = Int(slice[at]) << 8 | Int(slice[at + 1])
                if subject == member.int { return Reach(rawValue: slice[at + 2] & 3) }
                if subject < member.int { low = mid + 1 } else { high = mid }
            }
            return nil
        }
        guard member.int < roster.count else { return nil }
        let byte = slice[viewStart + 2 + clusterID.count + WireFormat.bitmapDelta + (member.int >> 2)]
        return Reach(rawValue: (byte >> UInt8((member.int & 3) * 2)) & 3)
    }
}
