import NetHealCore

/// A view together with its exact signed bytes (fields followed by the origin's 64-byte signature).
///
/// Only the encoder (signing) and the decoder (verifying) make these, so `bytes` is always a valid
/// signed encoding of `view` for the roster it was made with. The shell keeps the latest `SignedView`
/// of each member and relays `bytes` unchanged; the origin's signature travels with them. A signed view
/// belongs to the roster it was made with: drop kept views when the cluster file changes.
///
/// Immutable, and held in one shared box: copying a signed view (relaying it, keeping it) retains one
/// reference instead of the view's arrays and the bytes one by one.
public struct SignedView: Hashable, Sendable {
    /// The immutable pair, shared by every copy. The bytes first: their reference and the view's origin
    /// share the object's first cache line (what an encoder relaying the view reads first).
    @usableFromInline
    final class Storage: Sendable {
        @usableFromInline let bytes: [UInt8]
        @usableFromInline let view: ReachabilityView

        init(view: ReachabilityView, bytes: [UInt8]) {
            self.view = view
            self.bytes = bytes
        }
    }

    @usableFromInline let storage: Storage

    init(view: ReachabilityView, bytes: [UInt8]) {
        storage = Storage(view: view, bytes: bytes)
    }

    /// The decoded fields.
    @inlinable
    public var view: ReachabilityView {
        _read { yield storage.view }
    }

    /// The view exactly as its origin signed it: fields then signature (docs/protocol.md, "Signed view").
    @inlinable
    public var bytes: [UInt8] {
        _read { yield storage.bytes }
    }

    /// The member that signed this view.
    @inlinable
    public var origin: MemberIndex { storage.view.origin }
    /// The view's (incarnation, sequence).
    @inlinable
    public var version: ViewVersion { storage.view.version }
    /// The detached signature: the last 64 bytes of `bytes`.
    public var signature: ArraySlice<UInt8> { bytes[(bytes.count - WireFormat.signatureBytes)...] }

    /// Equal when view and bytes are equal (what the two stored fields compared before the box).
    public static func == (lhs: SignedView, rhs: SignedView) -> Bool {
        lhs.storage === rhs.storage || (lhs.storage.view == rhs.storage.view && lhs.storage.bytes == rhs.storage.bytes)
    }

    /// Hashes the view, then the bytes.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(storage.view)
        hasher.combine(storage.bytes)
    }
}
