/// The position of a member in the cluster file's member list (0-based).
///
/// Every node holds the same cluster file, so an index names the same member everywhere; the
/// reachability bitmap of a view is laid out in this order.
public struct MemberIndex: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16

    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ value: Int) {
        precondition(value >= 0 && value <= Int(UInt16.max), "member index out of range: \(value)")
        self.rawValue = UInt16(value)
    }

    /// The index as an `Int`, for array subscripts.
    public var int: Int { Int(rawValue) }

    public static func < (lhs: MemberIndex, rhs: MemberIndex) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { "#\(rawValue)" }
}

extension Array where Element == MemberIndex {
    /// The position of `member` in this ascending list, or nil when it is not in it (binary search).
    /// Inlinable: the simulator calls it several times per delivered datagram.
    @inlinable
    public func positionInSorted(of member: MemberIndex) -> Int? {
        var low = 0
        var high = count
        while low < high {
            let mid = (low + high) / 2
            if self[mid] < member { low = mid + 1 } else { high = mid }
        }
        return low < count && self[low] == member ? low : nil
    }
}
