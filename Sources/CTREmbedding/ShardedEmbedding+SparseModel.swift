import CTRCore

/// The model files of a sharded embedding are those of the same table on one worker: one sparse
/// model folder with the keys in one-worker row order (slot ids counted over the whole input),
/// and optimizer states of `max(capacity, size)` rows in that order. Loading routes each key to
/// its owner (Distributed: `key mod N`; Localized and OneHot: `slot_id mod N`, spec §4.5), so
/// files written by any number of workers load into any other number. Under MPI each process
/// holds its own shards: saving gathers every worker's rows (`Collective.allGather`), so every
/// process has the whole files' contents; loading keeps each process's keys.
///
/// ```swift
/// let model = sharded.sparseModel()               // what one worker's table would save
/// try threeWorkers.load(model, source: "dcn0_sparse_1000.model")
/// ```
extension ShardedEmbedding: EmbeddingStore {
    public func sparseModel() -> SparseModel {
        switch table {
        case .hash:
            var model = SparseModel(keys: Array(repeating: 0, count: size), vectors: Array(repeating: 0, count: size * vecSize),
                                    slotIDs: savesSlotIDs ? Array(repeating: 0, count: size) : nil)
            let parts = everyWorker(shards.map { $0.sparseModel() }), rows = everyWorker(logicalRows)
            for (g, part) in parts.enumerated() {
                let owned = plan.ownedSlots(g)
                for (row, logical) in rows[g].enumerated() {
                    model.keys[logical] = part.keys[row]
                    model.vectors.replaceSubrange(logical * vecSize..<(logical + 1) * vecSize,
                                                  with: part.vectors[row * vecSize..<(row + 1) * vecSize])
                    if let local = part.slotIDs?[row] { model.slotIDs?[logical] = UInt64(owned[Int(local)]) }
                }
            }
            return model
        case .oneHot(let sizes):
            var vectors = [Float](repeating: 0, count: capacity * vecSize), slotIDs: [UInt64] = []
            let parts = everyWorker(shards.map { $0.sparseModel() })
            var start = 0
            for (s, size) in sizes.enumerated() {
                let g = plan.owner(key: 0, slot: s)
                let local = plan.ownedSlots(g).prefix { $0 < s }.reduce(0) { $0 + sizes[$1] }
                vectors.replaceSubrange(start * vecSize..<(start + size) * vecSize,
                                        with: parts[g].vectors[local * vecSize..<(local + size) * vecSize])
                slotIDs += repeatElement(UInt64(s), count: size)
                start += size
            }
            return SparseModel(keys: (0..<Int64(capacity)).map { $0 }, vectors: vectors, slotIDs: slotIDs)
        }
    }

    /// Replaces the rows by `model`'s, each key on its owner with its shard's rows in file order
    /// (HugeCTR's `load_sparse_weights` on several GPUs). Throws, before changing anything, when
    /// the counts disagree or a Localized model has no slot ids; a shard that cannot take its keys
    /// throws as a one-worker table does.
    public func load(_ model: SparseModel, source: String) throws {
        let fail = model.failure(embedding: name, source: source)
        try model.check(vecSize: vecSize, slots: slots, fail: fail)
        let n = model.keys.count
        var parts = Array(repeating: SparseModel(keys: [], vectors: [], slotIDs: savesSlotIDs ? [] : nil), count: workers)
        var rows = Array(repeating: [Int](), count: workers)
        var bounds: [Int64] = [0]
        if case .oneHot(let sizes) = table { for size in sizes { bounds.append(bounds.last! + Int64(size)) } }
        for i in 0..<n {
            var key = model.keys[i], slot = model.slotIDs.map { Int($0[i]) }
            if case .oneHot(let sizes) = table {
                guard key >= 0 && key < Int64(capacity) else {
                    throw fail(.data, "key \(key) (position \(i)) is no row of the one-hot table (0..<\(capacity) from slot_size_array \(sizes)).")
                }
                let own = bounds.lastIndex { $0 <= key }!
                if let slot, slot != own {
                    throw fail(.data, "key \(key) (position \(i)) has slot_id \(slot), whose keys are \(bounds[slot])..<\(bounds[slot + 1]).")
                }
                slot = own
                let owner = plan.ownedSlots(own % workers)
                key += owner.prefix { $0 < own }.reduce(0) { $0 + Int64(sizes[$1]) } - bounds[own]
            }
            guard plan.placesByKey || slot != nil else {
                throw fail(.data, "a \(plan.embeddingType.rawValue) table on \(workers) workers places keys by their slot, but the model gives no slot_id. Load the folder's slot_id file with it.")
            }
            let g = plan.owner(key: model.keys[i], slot: slot ?? 0)
            parts[g].keys.append(key)
            parts[g].vectors += model.vectors[i * vecSize..<(i + 1) * vecSize]
            if let slot { parts[g].slotIDs?.append(UInt64(slot / workers)) }
            rows[g].append(i)
        }
        for (shard, g) in zip(shards, local) { try shard.load(parts[g], source: source + " (worker \(g)'s keys)") }
        if case .hash = table {
            logicalRows = local.map { rows[$0] }
            size = n
        }
    }

    public var stateRows: Int { max(capacity, size) }

    /// Hash tables: shard row r of worker g is file row `rows[g][r]` (every worker's `logicalRows`);
    /// one-hot: the key's row.
    private func fileRows(_ g: Int, _ rows: [[Int]]) -> [Int] {
        switch table {
        case .hash: return rows[g]
        case .oneHot(let sizes):
            var bounds = [0]
            for size in sizes { bounds.append(bounds.last! + size) }
            return plan.ownedSlots(g).flatMap { bounds[$0]..<bounds[$0 + 1] }
        }
    }

    public func floatStates() -> [[Float]] {
        let stateCount = shards[0].floatStates().count, rows = everyWorker(logicalRows)
        return (0..<stateCount).map { k in
            var file = [Float](repeating: optimizer.initialState, count: stateRows * vecSize)
            for (g, state) in everyWorker(shards.map { $0.floatStates()[k] }).enumerated() {
                for (row, logical) in fileRows(g, rows).enumerated() {
                    file.replaceSubrange(logical * vecSize..<(logical + 1) * vecSize, with: state[row * vecSize..<(row + 1) * vecSize])
                }
            }
            return file
        }
    }

    public func lastSteps() -> [Int64]? {
        guard shards[0].lastSteps() != nil else { return nil }
        var file = [Int64](repeating: 0, count: stateRows)
        let rows = everyWorker(logicalRows)
        for (g, steps) in everyWorker(shards.map { $0.lastSteps()! }).enumerated() {
            for (row, logical) in fileRows(g, rows).enumerated() { file[logical] = steps[row] }
        }
        return file
    }

    public func loadStates(_ floats: [[Float]], lastSteps: [Int64]?) {
        for (i, shard) in shards.enumerated() {
            var own = Array(repeating: [Int](), count: workers)
            own[local[i]] = logicalRows[i]
            let rows = fileRows(local[i], own)
            var states = shard.floatStates()
            for k in states.indices {
                for (row, logical) in rows.enumerated() {
                    states[k].replaceSubrange(row * vecSize..<(row + 1) * vecSize,
                                              with: floats[k][logical * vecSize..<(logical + 1) * vecSize])
                }
            }
            var steps = shard.lastSteps()
            if let lastSteps {
                for (row, logical) in rows.enumerated() { steps?[row] = lastSteps[logical] }
            }
            shard.loadStates(states, lastSteps: steps)
        }
    }

    // MARK: every worker's values

    /// `values` of the local workers → every worker's, in worker order (one process: as given).
    private func everyWorker(_ values: [[Int64]]) -> [[Int64]] {
        local.count == workers ? values : collective.allGather(values)
    }

    private func everyWorker(_ values: [[Int]]) -> [[Int]] {
        local.count == workers ? values : everyWorker(values.map { $0.map(Int64.init) }).map { $0.map(Int.init) }
    }

    private func everyWorker(_ values: [[Float]]) -> [[Float]] {
        local.count == workers ? values : collective.allGather(values)
    }

    private func everyWorker(_ parts: [SparseModel]) -> [SparseModel] {
        guard local.count != workers else { return parts }
        let keys = everyWorker(parts.map(\.keys)), vectors = everyWorker(parts.map(\.vectors))
        let slotIDs = parts.first?.slotIDs == nil ? nil
            : everyWorker(parts.map { ($0.slotIDs ?? []).map { Int64(bitPattern: $0) } })
        return keys.indices.map { g in
            SparseModel(keys: keys[g], vectors: vectors[g], slotIDs: slotIDs.map { $0[g].map { UInt64(bitPattern: $0) } })
        }
    }
}
