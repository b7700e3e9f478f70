import CTRCore
import Foundation

/// The keys of one sparse input for a batch, as CSR rows in sample-major order: the keys of
/// sample `b`, slot `s` are `keys[rowOffsets[b*slotNum+s] ..< rowOffsets[b*slotNum+s+1]]`.
///
/// ```swift
/// let row = sb.keys[Int(sb.rowOffsets[r]) ..< Int(sb.rowOffsets[r + 1])]
/// ```
public struct SparseBatch: Sendable {
    public let rowOffsets: HostArray<Int64>
    public let keys: HostArray<Int64>
    /// Every row holds exactly one key (offsets are 0, 1, …, n), so a trainer may skip uploading
    /// them. Computed once here, on the reader's thread.
    public let isOneHot: Bool
    /// The offsets were built by a reader from counts it checked: they start at 0, never decrease
    /// and end at `keys.count`, so a trainer need not scan them again.
    public let offsetsChecked: Bool

    public init(rowOffsets: [Int64], keys: [Int64]) {
        self.init(rowOffsets: HostArray(rowOffsets), keys: HostArray(keys))
    }

    public init(rowOffsets: HostArray<Int64>, keys: HostArray<Int64>) {
        self.rowOffsets = rowOffsets
        self.keys = keys
        isOneHot = keys.count + 1 == rowOffsets.count && rowOffsets.withUnsafeBufferPointer { offsets in
            var i = 0
            while i < offsets.count && offsets[i] == Int64(i) { i += 1 }
            return i == offsets.count
        }
        offsetsChecked = isOneHot
    }

    /// One key per row: the offsets are the shared identity array of `keys.count + 1` entries,
    /// so a reader writes and allocates none.
    init(oneHotKeys keys: HostArray<Int64>) {
        self.keys = keys
        rowOffsets = IdentityOffsets.shared.offsets(keys.count + 1)
        isOneHot = true
        offsetsChecked = true
    }

    /// Offsets a reader built while counting each row's keys.
    init(checkedOffsets: HostArray<Int64>, keys: HostArray<Int64>) {
        rowOffsets = checkedOffsets
        self.keys = keys
        isOneHot = false
        offsetsChecked = true
    }

    /// Keys of one CSR row.
    public func row(_ r: Int) -> Slice<HostArray<Int64>> {
        keys[Int(rowOffsets[r]) ..< Int(rowOffsets[r + 1])]
    }
}

/// The offsets 0, 1, …, n-1 of one-hot batches, one array per length in use, shared by every
/// batch of that length (they are immutable, so sharing them across threads is safe).
final class IdentityOffsets: @unchecked Sendable {
    static let shared = IdentityOffsets()
    private let lock = NSLock()
    private var arrays: [Int: HostArray<Int64>] = [:]

    func offsets(_ count: Int) -> HostArray<Int64> {
        lock.lock()
        defer { lock.unlock() }
        if let cached = arrays[count] { return cached }
        // A reader sees two lengths (its batch size and the last partial batch); keep a few.
        if arrays.count >= 8 { arrays.removeAll() }
        let buffer = HostBuffer(byteCount: count * 8)
        let out = buffer.pointer.assumingMemoryBound(to: Int64.self)
        for i in 0 ..< count { out[i] = Int64(i) }
        let made = HostArray<Int64>(buffer: buffer, count: count)
        arrays[count] = made
        return made
    }
}
