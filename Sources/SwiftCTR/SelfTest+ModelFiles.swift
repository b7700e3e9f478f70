import CTRCore
import CTREmbedding

extension BackendSelfTest {
    /// Cases of what model files need from a backend: a hash table rebuilt from a key file
    /// (`HashTable.replaceContents`, built on the host and uploaded) that lookups then find at
    /// their file rows while new keys get the following rows; and a Localized embedding recording
    /// each key's slot (`recordKeySlots`), saved as a `SparseModel` and loaded into a fresh one.
    /// Rows of keys inserted in one GPU batch come in any order, so results are keyed by key.
    static func modelFileCases(seed: UInt64) -> [Case] {
        var rng = CounterRNG(seed: seed, stream: 141)
        let loaded = (0..<300).map { Int64($0) * 7_919 - 500_000 }
        let fresh = (0..<40).map { Int64($0) * 13 + 1_000_003 }
        let batch = (0..<400).map { i in i % 5 == 0 ? fresh[rng.nextInt(below: fresh.count)] : loaded[rng.nextInt(below: loaded.count)] }

        func rebuiltTable(_ b: any Backend) throws -> [Double] {
            let table = HashTable(capacity: 500, backend: b)
            guard table.replaceContents(with: loaded, b) == nil else { throw SwiftCTRError(.data, "self-test keys repeat") }
            let keys = b.makeTensor([batch.count], .int64), rows = b.makeTensor([batch.count], .int64)
            b.upload(batch, to: keys)
            _ = b.hashLookup(table, keys: keys, count: batch.count, rows: rows, insert: true)
            let rowOf = b.int64s(rows), state = b.hashTableState(table)
            let known = Set(loaded)
            let loadedRows = zip(batch, rowOf).filter { known.contains($0.0) }.map { Double($0.1) }
            let newRows = Set(zip(batch, rowOf).filter { !known.contains($0.0) }.map(\.1)).sorted().map(Double.init)
            return [Double(state.size), state.overflowed ? 1 : 0] + loadedRows + newRows
                + table.keysByRow(b).prefix(loaded.count).map(Double.init)
        }

        let slots = 3, samples = 50
        var keys: [Int64] = [], offsets: [Int64] = [0]
        for segment in 0..<(samples * slots) {
            for _ in 0..<rng.nextInt(below: 3) { keys.append(Int64(segment % slots) * 1_000 + Int64(rng.nextInt(below: 60))) }
            offsets.append(Int64(keys.count))
        }
        func localized(_ b: any Backend) throws -> [Double] {
            func make() -> HashEmbedding {
                HashEmbedding(name: "selftest_localized", vecSize: 4, slots: slots, combiner: .sum, capacity: 400,
                              maxBatch: samples, maxKeysPerSample: 2 * slots, optimizer: .sgd, initialValues: .uniform(0.05),
                              seed: seed, backend: b, recordsSlots: true)
            }
            let emb = make()
            try emb.forward(keys: keys, offsets: offsets, batch: samples, training: true)
            let model = emb.sparseModel()
            let copy = make()
            try copy.load(model, source: "self-test")
            let bySlot = zip(model.keys, model.slotIDs ?? []).sorted { $0.0 < $1.0 }.flatMap { [Double($0.0), Double($0.1)] }
            return [Double(model.keys.count), copy.sparseModel() == model ? 1 : 0] + bySlot
        }

        return [
            Case(name: "hash table rebuilt from a key file, then lookups and new keys", tolerance: 0) { try rebuiltTable($0) },
            Case(name: "Localized embedding: key slots recorded, saved and loaded", tolerance: 0) { try localized($0) },
        ]
    }
}
