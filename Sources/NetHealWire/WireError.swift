import NetHealCore

/// Why a received datagram was rejected as a whole. Nothing of a rejected datagram is used.
///
/// `reason` is a short, stable, snake_case name per case, for metrics labels and logs; `description`
/// adds the details. The cases are listed in the order the decoder checks them (docs/protocol.md,
/// "Validation order").
public enum WireError: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    /// The datagram is longer than 1,400 bytes (checked before anything else).
    case oversize(byteCount: Int)
    /// The datagram ends before the field being read (header, a view field, the bitmap or a signature).
    case truncated
    /// The first four bytes are not "NHCL": not a netheal-cluster datagram.
    case badMagic
    /// The header's protocol version is not 1, or a view's layout byte is neither 1 (dense) nor 2 (listed).
    case badVersion(UInt8)
    /// The header announces zero views.
    case noViews
    /// A view's cluster id (length or bytes) differs from the roster's: another cluster, or a bad length.
    case unknownCluster
    /// A view's origin index is not a member of the roster.
    case unknownOrigin(UInt16)
    /// Two views in one datagram have the same origin.
    case duplicateOrigin(MemberIndex)
    /// A view's upstream health byte is not a known `UpstreamHealth` (0...2).
    case badUpstreamHealth(UInt8)
    /// A view's decision state byte is not a known `DecisionState` (0...8).
    case badDecisionState(UInt8)
    /// A view's member count differs from the roster's member count.
    case memberCountMismatch(got: Int, expected: Int)
    /// The unused high bits of a view's last bitmap byte are not zero.
    case nonZeroPadding
    /// A view's own slot is not `self` (3), or another member's slot is `self`.
    case badSelfSlot(origin: MemberIndex)
    /// A listed view (layout 2) lists more members than the roster has peers, a member outside the
    /// roster, the origin itself, members out of ascending order, or a reach value other than 0…2.
    case badReachList(origin: MemberIndex)
    /// Bytes follow the last announced view.
    case trailingBytes(count: Int)
    /// The sender's (first) view is not strictly newer than the highest version accepted from its origin.
    case replayed(origin: MemberIndex, version: ViewVersion, watermark: ViewVersion)
    /// A view that would be accepted does not carry a valid Ed25519 signature of its origin.
    case badSignature(origin: MemberIndex)

    /// Every `reason` string, in validation order (for registering metrics up front).
    public static let allReasons: [String] = [
        "oversize", "truncated", "bad_magic", "bad_version", "no_views", "unknown_cluster", "unknown_origin",
        "duplicate_origin", "bad_upstream_health", "bad_decision_state", "member_count_mismatch",
        "nonzero_padding", "bad_self_slot", "bad_reach_list", "trailing_bytes", "replayed", "bad_signature",
    ]

    /// The short stable name of this rejection (a metrics label value).
    public var reason: String {
        switch self {
        case .oversize: "oversize"
        case .truncated: "truncated"
        case .badMagic: "bad_magic"
        case .badVersion: "bad_version"
        case .noViews: "no_views"
        case .unknownCluster: "unknown_cluster"
        case .unknownOrigin: "unknown_origin"
        case .duplicateOrigin: "duplicate_origin"
        case .badUpstreamHealth: "bad_upstream_health"
        case .badDecisionState: "bad_decision_state"
        case .memberCountMismatch: "member_count_mismatch"
        case .nonZeroPadding: "nonzero_padding"
        case .badSelfSlot: "bad_self_slot"
        case .badReachList: "bad_reach_list"
        case .trailingBytes: "trailing_bytes"
        case .replayed: "replayed"
        case .badSignature: "bad_signature"
        }
    }

    public var description: String {
        switch self {
        case .oversize(let n): "oversize: \(n) bytes, limit \(WireFormat.maxDatagramBytes)"
        case .truncated: "truncated: datagram ends inside a field"
        case .badMagic: "bad_magic: not a netheal-cluster datagram"
        case .badVersion(let v): "bad_version: protocol version or view layout \(v), this node reads version \(WireFormat.version), layouts 1 and 2"
        case .noViews: "no_views: header announces 0 views"
        case .unknownCluster: "unknown_cluster: view of another cluster id"
        case .unknownOrigin(let i): "unknown_origin: origin #\(i) is not in the roster"
        case .duplicateOrigin(let o): "duplicate_origin: two views of \(o) in one datagram"
        case .badUpstreamHealth(let v): "bad_upstream_health: value \(v)"
        case .badDecisionState(let v): "bad_decision_state: value \(v)"
        case .memberCountMismatch(let got, let expected):
            "member_count_mismatch: view has \(got) members, roster has \(expected) (cluster files differ?)"
        case .nonZeroPadding: "nonzero_padding: unused bitmap bits are not zero"
        case .badSelfSlot(let o): "bad_self_slot: view of \(o) has a bad self slot"
        case .badReachList(let o): "bad_reach_list: listed view of \(o) has a bad member list"
        case .trailingBytes(let n): "trailing_bytes: \(n) bytes after the last view"
        case .replayed(let o, let v, let w): "replayed: view \(v) of \(o) is not newer than \(w)"
        case .badSignature(let o): "bad_signature: view of \(o) fails its signature"
        }
    }
}
