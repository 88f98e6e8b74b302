import NetHealCore

/// A view together with its exact signed bytes (fields followed by the origin's 64-byte signature).
///
/// Only the encoder (signing) and the decoder (verifying) make these, so `bytes` is always a valid
/// signed encoding of `view` for the roster it was made with. The shell keeps the latest `SignedView`
/// of each member and relays `bytes` unchanged; the origin's signature travels with them. A signed view
/// belongs to the roster it was made with: drop kept views when the cluster file changes.
public struct SignedView: Hashable, Sendable {
    /// The decoded fields.
    public let view: ReachabilityView
    /// The view exactly as its origin signed it: fields then signature (docs/protocol.md, "Signed view").
    public let bytes: [UInt8]

    init(view: ReachabilityView, bytes: [UInt8]) {
        self.view = view
        self.bytes = bytes
    }

    /// The member that signed this view.
    public var origin: MemberIndex { view.origin }
    /// The view's (incarnation, sequence).
    public var version: ViewVersion { view.version }
    /// The detached signature: the last 64 bytes of `bytes`.
    public var signature: ArraySlice<UInt8> { bytes[(bytes.count - WireFormat.signatureBytes)...] }
}
