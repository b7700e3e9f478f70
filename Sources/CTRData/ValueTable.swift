/// An open-addressing hash map from 64-bit values to 32-bit numbers (occurrence counts while
/// counting, ids when mapping), kept in two flat buffers so a lookup touches no reference count.
///
/// ```swift
/// let t = ValueTable()
/// t.add(0x1A2B, count: 1)
/// t[0x1A2B]            // 1
/// ```
final class ValueTable {
    /// Marks an empty slot; the value itself is kept in `maxEntry`.
    private static let empty = UInt64.max
    private var keys: UnsafeMutablePointer<UInt64>
    private var numbers: UnsafeMutablePointer<UInt32>
    private var mask: Int
    private var maxEntry: UInt32?
    /// Distinct values stored.
    private(set) var count = 0

    init(capacity: Int = 1024) {
        var size = 16
        while size < 2 * capacity { size <<= 1 }
        mask = size - 1
        keys = .allocate(capacity: size)
        keys.initialize(repeating: Self.empty, count: size)
        numbers = .allocate(capacity: size)
        numbers.initialize(repeating: 0, count: size)
    }

    deinit {
        keys.deallocate()
        numbers.deallocate()
    }

    @inline(__always)
    private func slot(of value: UInt64) -> Int {
        var i = Int(truncatingIfNeeded: (value &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
        while keys[i] != value && keys[i] != Self.empty { i = (i + 1) & mask }
        return i
    }

    /// Adds `count` to the number of `value` (saturating), inserting it at 0 first if needed.
    @inline(__always)
    func add(_ value: UInt64, count n: UInt32) {
        if value == Self.empty {
            maxEntry = (maxEntry ?? 0).addingReportingOverflow(n).overflow ? .max : (maxEntry ?? 0) + n
            return
        }
        var i = slot(of: value)
        if keys[i] == Self.empty {
            if 2 * (count + 1) > mask + 1 {
                grow()
                i = slot(of: value)
            }
            keys[i] = value
            count += 1
        }
        let (sum, overflow) = numbers[i].addingReportingOverflow(n)
        numbers[i] = overflow ? .max : sum
    }

    /// Sets the number of `value`.
    func set(_ value: UInt64, _ number: UInt32) {
        if value == Self.empty {
            maxEntry = number
            return
        }
        add(value, count: 0)
        numbers[slot(of: value)] = number
    }

    /// The number of `value`, nil when it is not stored.
    @inline(__always)
    subscript(value: UInt64) -> UInt32? {
        if value == Self.empty { return maxEntry }
        let i = slot(of: value)
        return keys[i] == Self.empty ? nil : numbers[i]
    }

    /// Every stored value and its number, in no particular order.
    func forEach(_ body: (UInt64, UInt32) -> Void) {
        for i in 0 ... mask where keys[i] != Self.empty { body(keys[i], numbers[i]) }
        if let maxEntry { body(Self.empty, maxEntry) }
    }

    private func grow() {
        let (oldKeys, oldNumbers, oldSize) = (keys, numbers, mask + 1)
        mask = 2 * oldSize - 1
        keys = .allocate(capacity: 2 * oldSize)
        keys.initialize(repeating: Self.empty, count: 2 * oldSize)
        numbers = .allocate(capacity: 2 * oldSize)
        numbers.initialize(repeating: 0, count: 2 * oldSize)
        for i in 0 ..< oldSize where oldKeys[i] != Self.empty {
            let j = slot(of: oldKeys[i])
            keys[j] = oldKeys[i]
            numbers[j] = oldNumbers[i]
        }
        oldKeys.deallocate()
        oldNumbers.deallocate()
    }
}
