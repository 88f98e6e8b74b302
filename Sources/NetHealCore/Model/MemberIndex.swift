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
    /// Inlinable: the simulator calls it several times per delivered datagram. Branch-free halving (a
    /// conditional move per step, as many steps for every member), then one comparison: the same
    /// answer as a textbook binary search (the lower bound, if it holds `member`), without the
    /// mispredicted branches.
    @inlinable @inline(__always)
    public func positionInSorted(of member: MemberIndex) -> Int? {
        withUnsafeBufferPointer { $0.positionInSorted(of: member) }
    }
}

extension UnsafeBufferPointer where Element == MemberIndex {
    /// `Array.positionInSorted(of:)` over this ascending buffer (the simulator keeps neighbour rows in
    /// flat storage of its own).
    @inlinable @inline(__always)
    public func positionInSorted(of member: MemberIndex) -> Int? {
        var n = count
        guard n > 0 else { return nil }
        let key = member.rawValue
        var base = 0
        while n > 1 {
            let half = n &>> 1
            base = self[base &+ half].rawValue < key ? base &+ half : base
            n &-= half
        }
        let low = self[base].rawValue < key ? base &+ 1 : base
        return low < count && self[low].rawValue == key ? low : nil
    }
}
