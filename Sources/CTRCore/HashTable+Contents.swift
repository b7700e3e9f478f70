extension HashTable {
    /// The keys in row order: element r is the key of row r, for the `size` rows in use. Waits for
    /// the device. Cost: two `bucketCount`-long int64 downloads.
    ///
    /// ```swift
    /// let keys = table.keysByRow(backend)   // [7, 3, 12]: key 7 got row 0, key 3 row 1, …
    /// ```
    public func keysByRow(_ backend: any Backend) -> [Int64] {
        let size = backend.hashTableState(self).size
        let bucketKeys = backend.int64s(keys), bucketRows = backend.int64s(rows)
        var byRow = [Int64](repeating: 0, count: size)
        for (key, row) in zip(bucketKeys, bucketRows) where row >= 0 && row < Int64(size) {
            byRow[Int(row)] = key
        }
        return byRow
    }

    /// Replaces the table's contents by `keys`, key i at row i, so that the next insertion gets row
    /// `keys.count` (HugeCTR's loading of a sparse model: rows restart at 0). The buckets are built
    /// on the host with the probing every backend uses, then uploaded. Returns the index of the first
    /// key that repeats an earlier one (nothing is changed then); the caller checks
    /// `keys.count <= capacity`.
    ///
    /// ```swift
    /// if let repeated = table.replaceContents(with: [7, 3, 12], backend) { … }
    /// ```
    public func replaceContents(with keys: [Int64], _ backend: any Backend) -> Int? {
        precondition(keys.count <= capacity, "\(keys.count) keys exceed the capacity \(capacity)")
        let mask = bucketCount - 1
        var bucketKeys = [Int64](repeating: 0, count: bucketCount)
        var bucketRows = [Int64](repeating: -1, count: bucketCount)
        for (row, key) in keys.enumerated() {
            var b = Int(HashTable.mix(key) & UInt64(mask))
            while bucketRows[b] >= 0 {
                if bucketKeys[b] == key { return row }
                b = (b + 1) & mask
            }
            bucketKeys[b] = key
            bucketRows[b] = Int64(row)
        }
        backend.upload(bucketKeys, to: self.keys)
        backend.upload(bucketRows, to: rows)
        backend.upload([Int64(keys.count), 0], to: state)
        size = keys.count
        return nil
    }
}
