/// The keys of one sparse input for a batch, as CSR rows in sample-major order: the keys of
/// sample `b`, slot `s` are `keys[rowOffsets[b*slotNum+s] ..< rowOffsets[b*slotNum+s+1]]`.
///
/// ```swift
/// let row = sb.keys[Int(sb.rowOffsets[r]) ..< Int(sb.rowOffsets[r + 1])]
/// ```
public struct SparseBatch: Sendable {
    public let rowOffsets: [Int64]
    public let keys: [Int64]
    /// Every row holds exactly one key (offsets are 0, 1, …, n), so a trainer may skip uploading
    /// them. Computed once here, on the reader's thread.
    public let isOneHot: Bool

    public init(rowOffsets: [Int64], keys: [Int64]) {
        self.rowOffsets = rowOffsets
        self.keys = keys
        isOneHot = keys.count + 1 == rowOffsets.count && rowOffsets.withUnsafeBufferPointer { offsets in
            var i = 0
            while i < offsets.count && offsets[i] == Int64(i) { i += 1 }
            return i == offsets.count
        }
    }

    /// Keys of one CSR row.
    public func row(_ r: Int) -> ArraySlice<Int64> {
        keys[Int(rowOffsets[r]) ..< Int(rowOffsets[r + 1])]
    }
}
