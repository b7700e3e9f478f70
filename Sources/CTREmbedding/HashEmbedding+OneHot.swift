import CTRCore

extension HashEmbedding {
    /// HugeCTR's `LocalizedSlotSparseEmbeddingOneHot` on one worker: no hash table, a key is its
    /// own row. Keys arrive already offset per slot, as HugeCTR expects them (its Raw and Criteo
    /// data hold them so): slot s takes keys `P_s ..< P_s + slotSizes[s]` with `P_s` the sum of the
    /// sizes before it, and HugeCTR's row `key − (P_s − P_s^local)` is the key itself when every slot
    /// lives on this worker. The table has `Σ slotSizes` rows, block s filled with
    /// U(±1/√slotSizes[s]), so a key starts from its own slot's block. A key outside its slot's
    /// range is a data error naming the slot, the key and the range (a GPU backend finds it on
    /// the device and reports it at the next check, as a hash table's overflow; the key adds
    /// nothing meanwhile). Pooling, gradients and the sparse updates are those of the hash tables.
    ///
    /// Differences from HugeCTR, which takes the slot of key i as `i % slots` and so needs exactly
    /// one key per slot and sample, and accepts only `combiner = "sum"` and SGD: the slot comes
    /// from the CSR offsets, so multi-hot slots work, and the mean combiner and Adam (every update
    /// type) work as for the hash tables; Global Adam visits every row.
    ///
    /// ```swift
    /// let emb = try HashEmbedding(oneHot: "sparse_embedding1", vecSize: 16, slots: 2, slotSizes: [10, 5],
    ///                             combiner: .sum, maxBatch: 4096, maxKeysPerSample: 2, optimizer: .sgd,
    ///                             seed: 1, backend: backend)
    /// // sample 0: slot 0 key 3 (row 3), slot 1 key 12 (row 12; local key 2)
    /// try emb.forward(keys: [3, 12], offsets: [0, 1, 2], batch: 1, training: true)
    /// ```
    public convenience init(oneHot name: String, vecSize: Int, slots: Int, slotSizes: [Int], combiner: Combiner,
                            maxBatch: Int, maxKeysPerSample: Int, optimizer: SparseOptimizer, seed: UInt64,
                            backend: any Backend) throws {
        func fail(_ message: String) -> SwiftCTRError {
            SwiftCTRError(.config, "SparseEmbedding '\(name)' (LocalizedSlotSparseEmbeddingOneHot): " + message)
        }
        guard !slotSizes.isEmpty else {
            throw fail("slot_size_array is required: it maps keys to rows. Give one size (the slot's key count) for each of the \(slots) slots.")
        }
        guard slotSizes.count == slots else {
            throw fail("slot_size_array has \(slotSizes.count) entries, expected one for each of the \(slots) slots of the input. Give one size per slot.")
        }
        guard slotSizes.allSatisfy({ $0 >= 0 }), slotSizes.reduce(0, +) >= 1 else {
            throw fail("slot_size_array must hold sizes ≥ 0 with a positive sum, found \(slotSizes). Give each slot its key count.")
        }
        self.init(name: name, vecSize: vecSize, slots: slots, combiner: combiner,
                  keyMap: .oneHot(OneHotIndex(slotSizes: slotSizes, backend: backend)), maxBatch: maxBatch,
                  maxKeysPerSample: maxKeysPerSample, optimizer: optimizer, initialValues: .perSlot(slotSizes),
                  seed: seed, backend: backend)
    }
}
