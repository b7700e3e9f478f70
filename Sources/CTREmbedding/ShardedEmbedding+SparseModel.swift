import CTRCore

/// The model files of a sharded embedding are those of the same table on one worker: one sparse
/// model folder with the keys in one-worker row order (slot ids counted over the whole input),
/// and optimizer states of `max(capacity, size)` rows in that order. Loading routes each key to
/// its owner (Distributed: `key mod N`; Localized and OneHot: `slot_id mod N`, spec §4.5), so
/// files written by any number of workers load into any other number.
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
            for (g, shard) in shards.enumerated() {
                let part = shard.sparseModel(), owned = plan.ownedSlots(g)
                for (row, logical) in logicalRows[g].enumerated() {
                    model.keys[logical] = part.keys[row]
                    model.vectors.replaceSubrange(logical * vecSize..<(logical + 1) * vecSize,
                                                  with: part.vectors[row * vecSize..<(row + 1) * vecSize])
                    if let local = part.slotIDs?[row] { model.slotIDs?[logical] = UInt64(owned[Int(local)]) }
                }
            }
            return model
        case .oneHot(let sizes):
            var vectors = [Float](repeating: 0, count: capacity * vecSize), slotIDs: [UInt64] = []
            let parts = shards.map { $0.sparseModel() }
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
        for (g, shard) in shards.enumerated() { try shard.load(parts[g], source: source + " (worker \(g)'s keys)") }
        if case .hash = table {
            logicalRows = rows
            size = n
        }
    }

    public var stateRows: Int { max(capacity, size) }

    /// Hash tables: shard row r of worker g is file row `logicalRows[g][r]`; one-hot: the key's row.
    private func fileRows(_ g: Int) -> [Int] {
        switch table {
        case .hash: return logicalRows[g]
        case .oneHot(let sizes):
            var bounds = [0]
            for size in sizes { bounds.append(bounds.last! + size) }
            return plan.ownedSlots(g).flatMap { bounds[$0]..<bounds[$0 + 1] }
        }
    }

    public func floatStates() -> [[Float]] {
        let stateCount = shards[0].floatStates().count
        return (0..<stateCount).map { k in
            var file = [Float](repeating: optimizer.initialState, count: stateRows * vecSize)
            for (g, shard) in shards.enumerated() {
                let state = shard.floatStates()[k]
                for (row, logical) in fileRows(g).enumerated() {
                    file.replaceSubrange(logical * vecSize..<(logical + 1) * vecSize, with: state[row * vecSize..<(row + 1) * vecSize])
                }
            }
            return file
        }
    }

    public func lastSteps() -> [Int64]? {
        guard shards[0].lastSteps() != nil else { return nil }
        var file = [Int64](repeating: 0, count: stateRows)
        for (g, shard) in shards.enumerated() {
            let steps = shard.lastSteps()!
            for (row, logical) in fileRows(g).enumerated() { file[logical] = steps[row] }
        }
        return file
    }

    public func loadStates(_ floats: [[Float]], lastSteps: [Int64]?) {
        for (g, shard) in shards.enumerated() {
            let rows = fileRows(g)
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
}
