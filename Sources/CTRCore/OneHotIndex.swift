/// The key→row map of a one-hot embedding (HugeCTR's `LocalizedSlotSparseEmbeddingOneHot`): no
/// hash table, the key is the row. Slot s owns rows `bounds[s] ..< bounds[s + 1]`, where
/// `bounds[s]` is the sum of the slot sizes before it, and its keys must already lie there: keys
/// arrive in the global offset space, as HugeCTR's Raw and Criteo data (and `swiftctr generate`)
/// hold them. A key outside its slot's range is recorded in `state` and gets no row.
///
/// ```swift
/// let index = OneHotIndex(slotSizes: [10, 5], backend: backend)
/// index.bounds     // [0, 10, 15]: slot 0 takes keys 0..<10, slot 1 keys 10..<15
/// index.capacity   // 15 rows, all in use from the start
/// ```
public final class OneHotIndex: EmbeddingRows, @unchecked Sendable {
    public let slotSizes: [Int]
    /// The exclusive prefix sums of `slotSizes`, then their total.
    public let bounds: [Int64]
    public let capacity: Int
    /// Every row exists from the start.
    public var size: Int { capacity }
    /// int64 [slots + 1] in backend memory: `bounds`.
    public let deviceBounds: Tensor
    /// int64 [4] in backend memory: rows in use (= `capacity`), then for the first key found out
    /// of its slot's range since the last `clearFailure`: a flag (1), the key, its slot.
    public let state: Tensor

    public init(slotSizes: [Int], backend: any Backend) {
        precondition(slotSizes.allSatisfy { $0 >= 0 }, "slot sizes must not be negative")
        self.slotSizes = slotSizes
        var bounds: [Int64] = [0]
        for size in slotSizes { bounds.append(bounds.last! + Int64(size)) }
        self.bounds = bounds
        capacity = Int(bounds.last!)
        deviceBounds = backend.makeTensor([bounds.count], .int64)
        backend.upload(bounds, to: deviceBounds)
        state = backend.makeTensor([4], .int64)
        clearFailure(backend)
    }

    /// The out-of-range key recorded in `state`, with its slot, or nil (reads backend memory, so
    /// a GPU backend waits for the device).
    public func failure(_ backend: any Backend) -> (key: Int64, slot: Int)? {
        let s = backend.int64s(state)
        return s[1] != 0 ? (s[2], Int(s[3])) : nil
    }

    /// Forgets a recorded out-of-range key.
    public func clearFailure(_ backend: any Backend) {
        backend.upload([Int64(capacity), 0, 0, 0], to: state)
    }
}
