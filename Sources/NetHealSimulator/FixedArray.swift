/// A fixed-size array in storage that is never copied: element `i` is written in place, so two threads
/// may write different elements at the same time (a Swift `Array` stored in a class may be copied by a
/// uniqueness check racing a retain of its buffer on the other thread, and writes are then lost).
///
/// A value of this type is a pointer: copies share the elements. The owner allocates it once and calls
/// `release()` once (the simulation's `deinit`); no bounds checks beyond `assert`.
struct FixedArray<Element> {
    let base: UnsafeMutablePointer<Element>
    let count: Int

    /// `count` copies of `value`.
    init(repeating value: Element, count: Int) {
        self.count = count
        base = .allocate(capacity: max(1, count))
        base.initialize(repeating: value, count: count)
    }

    /// The elements of `array`, in order.
    init(_ array: [Element]) {
        count = array.count
        base = .allocate(capacity: max(1, count))
        _ = UnsafeMutableBufferPointer(start: base, count: count).initialize(from: array)
    }

    subscript(i: Int) -> Element {
        @inline(__always) unsafeAddress {
            assert(i >= 0 && i < count)
            return UnsafePointer(base + i)
        }
        @inline(__always) nonmutating unsafeMutableAddress {
            assert(i >= 0 && i < count)
            return base + i
        }
    }

    /// Deinitializes and frees the elements; the value (and every copy) is invalid afterwards.
    func release() {
        base.deinitialize(count: count)
        base.deallocate()
    }
}
