/// The checks `Model.train(batch:)` runs on a batch built by hand: a reader's batches pass them by
/// construction, but a wrong count in a hand-built one would otherwise train on stale rows or trap.
extension Batch {
    /// Throws a `SwiftCTRError` naming the first field that does not fit `input` and a compiled
    /// batch size of `maxBatch`: the sample count, the label and dense value counts, the number of
    /// sparse inputs, and each sparse input's CSR row offsets and keys per sample; without
    /// `i64Keys` (`i64_input_key` false), also that every key is a uint32 value.
    ///
    /// ```swift
    /// try batch.validate(for: input, maxBatch: 2048, i64Keys: false, method: "Model.train(batch:)")
    /// ```
    func validate(for input: Input, maxBatch: Int, i64Keys: Bool, method: String) throws {
        func fail(_ message: String) -> SwiftCTRError { SwiftCTRError(.data, "\(method): " + message) }
        guard count >= 1 && count <= maxBatch else {
            throw fail("the batch count must be 1...\(maxBatch) (the compiled batch size, the larger of batchsize and batchsize_eval), found \(count). Put between 1 and \(maxBatch) samples in a batch.")
        }
        guard labels.count == count * input.labelDim else {
            throw fail("expected \(count * input.labelDim) label values (\(count) samples × label_dim \(input.labelDim)), found \(labels.count). Give label_dim values per sample, sample after sample.")
        }
        guard dense.count == count * input.denseDim else {
            throw fail("expected \(count * input.denseDim) dense values (\(count) samples × dense_dim \(input.denseDim)), found \(dense.count). Give dense_dim values per sample, sample after sample.")
        }
        let params = input.dataReaderSparseParamArray
        guard sparse.count == params.count else {
            throw fail("expected \(params.count) sparse inputs (\(params.map { "'\($0.topName)'" }.joined(separator: ", ")), in the Input's order), found \(sparse.count). Give one SparseBatch per DataReaderSparseParam.")
        }
        for (param, batch) in zip(params, sparse) {
            if let problem = batch.problem(samples: count, slots: param.slotNum, maxFeatureNum: param.maxFeatureNum,
                                           name: param.topName) {
                throw fail(problem)
            }
            if !i64Keys, let key = batch.keys.first(where: { $0 < 0 || $0 > Int64(UInt32.max) }) {
                throw fail("sparse input '\(param.topName)' holds the key \(key), which is not a 32-bit key (0...\(UInt32.max)) although i64_input_key is false. Set Solver(i64InputKey: true) for 64-bit keys.")
            }
        }
    }
}

extension SparseBatch {
    /// The problem with these CSR rows for `samples` samples of `slots` slots with at most
    /// `maxFeatureNum` keys each, or nil when there is none. One pass over the offsets.
    fileprivate func problem(samples: Int, slots: Int, maxFeatureNum: Int, name: String) -> String? {
        let rows = samples * slots
        guard rowOffsets.count == rows + 1 else {
            return "sparse input '\(name)' needs \(rows + 1) row offsets (\(samples) samples × slot_num \(slots) + 1), found \(rowOffsets.count). Give one offset per (sample, slot) row plus the closing one."
        }
        // One key per row: the offsets are 0, 1, …, rows (checked when the batch was made).
        if isOneHot {
            guard slots <= maxFeatureNum else { return Self.tooManyKeys(name, sample: 0, keys: slots, limit: maxFeatureNum) }
            return nil
        }
        return rowOffsets.withUnsafeBufferPointer { offsets -> String? in
            guard offsets[0] == 0 else {
                return "sparse input '\(name)': the first row offset must be 0, found \(offsets[0]). Start the CSR offsets at 0."
            }
            for row in 1..<offsets.count where offsets[row] < offsets[row - 1] {
                return "sparse input '\(name)': row offsets must never decrease, found \(offsets[row]) at position \(row) after \(offsets[row - 1]). Make each offset the previous one plus the keys of its row."
            }
            guard offsets[rows] == Int64(keys.count) else {
                return "sparse input '\(name)': the last row offset must equal the \(keys.count) keys, found \(offsets[rows]). End the offsets at the key count."
            }
            for sample in 0..<samples {
                let keys = Int(offsets[(sample + 1) * slots] - offsets[sample * slots])
                if keys > maxFeatureNum { return Self.tooManyKeys(name, sample: sample, keys: keys, limit: maxFeatureNum) }
            }
            return nil
        }
    }

    private static func tooManyKeys(_ name: String, sample: Int, keys: Int, limit: Int) -> String {
        "sparse input '\(name)': sample \(sample) has \(keys) keys, more than its max_feature_num \(limit) (the sum of nnz_per_slot). Raise nnz_per_slot in the DataReaderSparseParam or drop keys."
    }
}
