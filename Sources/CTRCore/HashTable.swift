/// An open-addressing map from arbitrary 64-bit keys to table rows, kept in backend memory so the
/// backend that owns it can probe it where the keys are.
///
/// Rows are handed out in first-sight order (`row = size++`); a bucket is empty while its row is -1,
/// so every 64-bit key value is usable. Bucket count is a power of two ≥ capacity / 0.75.
public final class HashTable: @unchecked Sendable {
    /// Rows available in the value matrix; inserting more keys is a capacity error.
    public let capacity: Int
    public let bucketCount: Int
    /// int64 [bucketCount]: the key stored in each bucket.
    public let keys: Tensor
    /// int64 [bucketCount]: the row of each bucket, -1 when empty.
    public let rows: Tensor
    /// Keys inserted so far (= rows in use). A GPU backend keeps the count in `state` and
    /// refreshes this copy in `hashTableState`.
    public var size: Int = 0
    /// int64 [2] in backend memory: keys in use, overflow flag (for backends that count on the device).
    public let state: Tensor

    public init(capacity: Int, backend: any Backend) {
        self.capacity = capacity
        var buckets = 16
        while buckets * 3 < capacity * 4 { buckets <<= 1 }
        bucketCount = buckets
        keys = backend.makeTensor([buckets], .int64)
        rows = backend.makeTensor([buckets], .int64)
        backend.fill(rows, int64: -1)
        state = backend.makeTensor([2], .int64)
    }

    /// Bucket of a key: a 64-bit mix so that offset keys of neighbouring slots spread out.
    @inlinable
    public static func mix(_ key: Int64) -> UInt64 {
        var z = UInt64(bitPattern: key) &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 32)) &* 0xD6E8_FEB8_6659_FD93
        return z ^ (z >> 32)
    }
}
