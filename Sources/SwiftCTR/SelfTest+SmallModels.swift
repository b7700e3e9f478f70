import CTRCore

extension BackendSelfTest {
    /// The small DeepFM, DIN, BST and two-task models (`SmallModels`) trained for five steps from the same
    /// seed and batches, in fp32: the per-step losses on the device must be the CPU's. Dropout
    /// masks are drawn from (seed, step, layer) on every backend, so DeepFM keeps its dropout.
    static func smallModelCases(seed: UInt64) -> [Case] {
        let models: [(String, SmallModel, [Batch])] = [
            ("DeepFM", SmallModels.DeepFM.model(), SmallModels.DeepFM.batches(5, size: 64, seed: seed)),
            ("DIN", SmallModels.DIN.model(), SmallModels.DIN.batches(5, size: 64, seed: seed)),
            ("BST", SmallModels.BST.model(), SmallModels.BST.batches(5, size: 64, seed: seed)),
            ("two-task", SmallModels.TwoTask.model(), SmallModels.TwoTask.batches(5, size: 64, seed: seed)),
        ]
        return models.map { name, spec, batches in
            Case(name: "small \(name) model, 5 training steps: losses", tolerance: 1e-4) { b in
                try smallModelLosses(spec, batches: batches, seed: seed, backend: b).map(Double.init)
            }
        }
    }

    /// One training step of `spec` on each of `batches` on `backend`, with Adam at lr 0.001.
    static func smallModelLosses(_ spec: SmallModel, batches: [Batch], seed: UInt64, backend: any Backend) throws -> [Float] {
        let model = try spec.compiled(batchSize: batches[0].count, seed: seed, backend: backend)
        try giveEachKeyItsOwnRow(model, batches: batches, seed: seed)
        return try SmallModel.trainingLosses(model, batches: batches)
    }

    /// Inserts every key of `batches` and sets its row to values drawn from (seed, embedding, key).
    /// A GPU's hash insertion hands out rows in a racy order, and rows start from values drawn by
    /// row index, so without this a key would start from different values on the two backends.
    static func giveEachKeyItsOwnRow(_ model: Model, batches: [Batch], seed: UInt64) throws {
        let b = model.backend
        for (embedding, index, _) in model.graph!.embeddings {
            guard case .hash(let table) = embedding.keyMap else { continue }  // one-hot rows are their keys
            let keys = Set(batches.flatMap { $0.sparse[index].keys }).sorted()
            guard !keys.isEmpty else { continue }
            let tk = b.makeTensor([keys.count], .int64), rows = b.makeTensor([keys.count], .int64)
            b.upload(keys, to: tk)
            guard b.hashLookup(table, keys: tk, count: keys.count, rows: rows, insert: true),
                  !b.hashTableState(table).overflowed else {
                throw SwiftCTRError(.capacity, "self-test: embedding '\(embedding.name)' overflowed")
            }
            let vec = embedding.vecSize, stream = CounterRNG.stream(named: embedding.name)
            var values = b.floats(embedding.values)
            for (key, row) in zip(keys, b.int64s(rows)) {
                var rng = CounterRNG(seed: seed, stream: stream, counter: UInt64(bitPattern: key) &* UInt64(vec))
                for d in 0..<vec { values[Int(row) * vec + d] = Float(rng.nextUniform(-0.05, 0.05)) }
            }
            b.upload(values, to: embedding.values)
        }
    }
}
