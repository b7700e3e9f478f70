import CTRCore

/// One embedding spread over the workers of data-parallel training as `ShardingPlan` places it:
/// worker g keeps its keys in its own `HashEmbedding` (a shard), every worker receives the whole
/// batch's keys, and the pooled vectors of each worker's samples reach it through a `Collective`
/// (API spec §5.6–5.8):
///
/// - Distributed (`key mod N`): each shard pools the keys it owns into partial sums for all
///   samples, a reduce-scatter adds them up and leaves each worker its samples' rows; `mean`
///   divides afterwards by the count of all the segment's keys. Backward: an all-gather gives every
///   shard the whole batch's output gradient.
/// - Localized and OneHot (`slot mod N`): each shard pools its slots completely, an all-to-all
///   sends each worker its samples' rows, which are put back into slot order. Backward: the
///   inverse reorder and all-to-all.
///
/// A new key starts from the vector it would have had on one worker: its row of the one-worker
/// table, in the order the batch first shows the keys (`HashEmbedding.initialRows`), so N workers
/// train what one worker trains, up to the order of float additions. The model files are those
/// of the one-worker table too (`ShardedEmbedding+SparseModel.swift`).
///
/// A process holds the shards of the workers it drives (`collective.localWorkers`: all of them
/// in one process, its own under MPI); every array below is per local worker, in that order.
///
/// ```swift
/// let plan = ShardingPlan(.distributedSlotSparseEmbeddingHash, workers: 2, slots: 26)
/// let embedding = try ShardedEmbedding(name: "sparse_embedding1", plan: plan, vecSize: 16, combiner: .sum,
///                                      table: .hash(capacity: 100_000, initialValues: .uniform(0.05)),
///                                      maxBatch: 4096, maxKeysPerSample: 26, optimizer: .sgd, seed: 1,
///                                      backends: [cpu, cpu], collective: InProcessCollective(backends: [cpu, cpu]))
/// try embedding.forward(keys: sparse.keys, offsets: sparse.rowOffsets, batch: 4096, batchSize: 4096, training: true)
/// // embedding.outputs[g] is worker g's [2048, 26, 16]; after the dense networks filled outputGrads:
/// embedding.backward(rowWeights: [0.5, 0.5])
/// embedding.update(lr: 0.001, scaler: 1)
/// ```
public final class ShardedEmbedding {
    public let name: String
    public let plan: ShardingPlan
    public let vecSize: Int
    public let combiner: Combiner
    public let optimizer: SparseOptimizer
    /// The local workers' parts of the table.
    public let shards: [HashEmbedding]
    /// The workers whose shards this process holds, ascending (`collective.localWorkers`).
    public let local: [Int]
    /// The rows of the same table on one worker (the capacity its files are written for).
    public let capacity: Int
    /// Per local worker, `[maxBatch / N, slots, vec]`: the pooled vectors of its samples, which its
    /// dense network reads, and their gradient, which it writes.
    public let outputs: [Tensor], outputGrads: [Tensor]
    /// Keys in the whole table (over all workers; every row for OneHot).
    public internal(set) var size: Int
    let table: Table
    let collective: any Collective
    let backends: [any Backend]
    let seed: UInt64
    /// Hash tables: the one-worker row of each row of each local shard, in shard row order.
    var logicalRows: [[Int]]
    /// Per local worker: the receive (forward) and send (backward) buffer of the all-to-all.
    let exchange: [Tensor]
    /// Per local worker: the `mean` scale (1/n, or 1 when n ≤ 1) of each segment (Distributed).
    let meanScales: [Tensor]
    /// The last batch's host `mean` scales over all its segments.
    var batchScales: [Float] = []
    var samples = 0, chunk = 0

    /// What the table holds.
    public enum Table: Sendable {
        /// A hash table of `capacity` rows on one worker; each Distributed shard gets as many
        /// (HugeCTR's `max_vocabulary_size_per_gpu`), a Localized shard with `.perSlot(sizes)` the
        /// sizes of its slots, else `capacity` too.
        case hash(capacity: Int, initialValues: HashEmbedding.InitialValues)
        /// LocalizedSlotSparseEmbeddingOneHot: key k of slot s is row `k − bounds[s] + local offset`
        /// of the slot's owner, which holds the sizes of its slots.
        case oneHot(slotSizes: [Int])
    }

    public init(name: String, plan: ShardingPlan, vecSize: Int, combiner: Combiner, table: Table, maxBatch: Int,
                maxKeysPerSample: Int, optimizer: SparseOptimizer, seed: UInt64, backends: [any Backend],
                collective: any Collective) throws {
        let workers = plan.workers
        precondition(collective.workers == workers && backends.count == collective.localWorkers.count,
                     "a collective over the plan's workers, and one backend per local worker")
        guard plan.placesByKey || plan.slots >= workers else {
            throw SwiftCTRError(.config, "SparseEmbedding '\(name)' (\(plan.embeddingType.rawValue)) keeps each of its \(plan.slots) slots on one worker, so it needs at least as many slots as the \(workers) workers. Train with at most \(plan.slots) workers, or use DistributedSlotSparseEmbeddingHash, which spreads keys over any number.")
        }
        self.name = name
        self.plan = plan
        self.vecSize = vecSize
        self.combiner = combiner
        self.optimizer = optimizer
        self.table = table
        self.collective = collective
        self.seed = seed
        self.backends = backends
        local = collective.localWorkers
        let rowsPerWorker = maxBatch / workers, slots = plan.slots
        var shards: [HashEmbedding] = []
        for (g, backend) in zip(local, backends) {
            let owned = plan.ownedSlots(g)
            switch table {
            case .hash(let capacity, let initial):
                var shardCapacity = capacity, shardInitial = initial
                if case .perSlot(let sizes) = initial, !plan.placesByKey {
                    shardCapacity = max(1, owned.reduce(0) { $0 + sizes[$1] })
                    shardInitial = .perSlot(owned.map { sizes[$0] })
                }
                // Distributed shards pool sums; `mean` needs the count of every worker's keys.
                shards.append(HashEmbedding(
                    name: name, vecSize: vecSize, slots: owned.count, combiner: plan.placesByKey ? .sum : combiner,
                    capacity: shardCapacity, maxBatch: maxBatch, maxKeysPerSample: maxKeysPerSample, optimizer: optimizer,
                    initialValues: shardInitial, seed: seed, backend: backend,
                    recordsSlots: plan.embeddingType == .localizedSlotSparseEmbeddingHash))
            case .oneHot(let sizes):
                let shard = try HashEmbedding(oneHot: name, vecSize: vecSize, slots: owned.count, slotSizes: owned.map { sizes[$0] },
                                              combiner: combiner, maxBatch: maxBatch, maxKeysPerSample: maxKeysPerSample,
                                              optimizer: optimizer, seed: seed, backend: backend)
                // Each slot's block starts as the same block of the one-worker table.
                var start = 0, bounds = [0]
                for size in sizes { bounds.append(bounds.last! + size) }
                for s in owned {
                    let rows = HashEmbedding.initialRows(.perSlot(sizes), rows: bounds[s]..<bounds[s + 1], vecSize: vecSize,
                                                         name: name, seed: seed)
                    backend.upload(rows, to: shard.values.view(from: start * vecSize, [rows.count]))
                    start += sizes[s]
                }
                shards.append(shard)
            }
        }
        self.shards = shards
        switch table {
        case .hash(let capacity, _):
            self.capacity = capacity
            size = 0
        case .oneHot(let sizes):
            capacity = sizes.reduce(0, +)
            size = capacity
        }
        logicalRows = Array(repeating: [], count: local.count)
        outputs = backends.map { $0.makeTensor([rowsPerWorker, slots, vecSize], .float32) }
        outputGrads = backends.map { $0.makeTensor([rowsPerWorker, slots, vecSize], .float32) }
        exchange = plan.placesByKey ? [] : backends.map { $0.makeTensor([rowsPerWorker * slots * vecSize], .float32) }
        meanScales = plan.placesByKey && combiner == .mean ? backends.map { $0.makeTensor([maxBatch * slots], .float32) } : []
    }

    public var slots: Int { plan.slots }
    var workers: Int { plan.workers }
    /// Sparse updates so far (every shard's counter is the same).
    public var step: Int { shards[0].step }
    public var savesSlotIDs: Bool { shards[0].savesSlotIDs }

    /// Looks up (training: inserts) the keys of a batch of `batch` samples, CSR over `batch ×
    /// slots` segments, on their owners, and leaves each worker's samples' pooled vectors in
    /// `outputs` (worker g: rows `plan.sampleRows(g, batchSize:count:)`). `batchSize` is the
    /// configured size that splits the samples.
    public func forward(keys: [Int64], offsets: [Int64], batch: Int, batchSize: Int, training: Bool) throws {
        let maxBatch = shards[0].maxBatch
        try HashEmbedding.checkBatch(name: name, slots: slots, maxBatch: maxBatch, maxKeys: shards[0].maxKeys,
                                     keyCount: keys.count, offsets: offsets, batch: batch, oneHot: false)
        precondition(batchSize % workers == 0 && batchSize <= maxBatch, "the batch size splits evenly over the workers")
        samples = batch
        chunk = batchSize / workers
        var routes = plan.route(keys: keys, offsets: offsets, samples: batch)
        if case .oneHot(let sizes) = table { try translateOneHot(&routes, sizes: sizes) }
        routes = local.map { routes[$0] }
        for (shard, route) in zip(shards, routes) { try shard.stage(keys: route.keys, offsets: route.offsets, batch: batch) }
        let before = shards.map(\.size)
        for shard in shards { try shard.findRows(training: training) }
        if training, case .hash(_, let initial) = table { startNewRows(routes, before: before, initial) }
        for shard in shards { shard.pool() }
        if plan.placesByKey {
            collective.reduceScatterSum(shards.map(\.output), into: outputs, count: chunk * slots * vecSize)
            if combiner == .mean { scaleMeans(offsets) }
        } else {
            collective.allToAll(shards.map(\.output), into: exchange, counts: blockCounts(senderIsShard: true))
            for i in local.indices { reorder(local: i, toSlotOrder: true) }
        }
    }

    /// Element counts of the all-to-all between shards and workers: shard g's slots for each
    /// worker's samples (`counts[g][h]` when the shards send, `counts[h][g]` when they receive).
    private func blockCounts(senderIsShard: Bool) -> [[Int]] {
        (0..<workers).map { a in
            (0..<workers).map { b in chunk * plan.slotCount(senderIsShard ? a : b) * vecSize }
        }
    }

    /// Moves local worker i's samples between the all-to-all buffer (shard blocks `[chunk, S_g, vec]`
    /// in g order) and `outputs` / `outputGrads` (`[rows, S, vec]` in slot order).
    private func reorder(local i: Int, toSlotOrder: Bool) {
        let rows = plan.sampleRows(local[i], batchSize: chunk * workers, count: samples).count
        guard rows > 0 else { return }
        let backend = backends[i], width = slots * vecSize
        var blockStart = 0
        for g in 0..<workers {
            let owned = plan.ownedSlots(g), blockWidth = owned.count * vecSize
            let block = exchange[i].view(from: blockStart, [chunk * blockWidth])
            for (j, s) in owned.enumerated() {
                if toSlotOrder {
                    backend.copyColumns(block, srcWidth: blockWidth, srcStart: j * vecSize, into: outputs[i], dstWidth: width,
                                        dstStart: s * vecSize, rows: rows, width: vecSize, accumulate: false)
                } else {
                    backend.copyColumns(outputGrads[i], srcWidth: width, srcStart: s * vecSize, into: block, dstWidth: blockWidth,
                                        dstStart: j * vecSize, rows: rows, width: vecSize, accumulate: false)
                }
            }
            blockStart += chunk * blockWidth
        }
    }

    /// Distributed `mean`: divides each worker's summed rows by the count of all their keys.
    private func scaleMeans(_ offsets: [Int64]) {
        batchScales = (0..<samples * slots).map { segment in
            let n = offsets[segment + 1] - offsets[segment]
            return n > 1 ? 1 / Float(n) : 1
        }
        for (i, h) in local.enumerated() {
            let rows = plan.sampleRows(h, batchSize: chunk * workers, count: samples)
            guard !rows.isEmpty else { continue }
            backends[i].upload(Array(batchScales[rows.lowerBound * slots..<rows.upperBound * slots]), to: meanScales[i])
            backends[i].binary(.multiply, outputs[i], meanScales[i], into: outputs[i], count: rows.count * slots * vecSize,
                               broadcast: .column(vecSize))
        }
    }

    /// One-hot keys: checked against their slot's range, as one worker does, then made rows of
    /// their owner's table.
    private func translateOneHot(_ routes: inout [ShardingPlan.Route], sizes: [Int]) throws {
        var bounds: [Int64] = [0]
        for size in sizes { bounds.append(bounds.last! + Int64(size)) }
        for g in 0..<workers {
            let owned = plan.ownedSlots(g)
            var local: [Int64] = [0]
            for s in owned { local.append(local.last! + Int64(sizes[s])) }
            let route = routes[g]
            var keys = route.keys
            for segment in 0..<samples * owned.count {
                let j = segment % owned.count, s = owned[j]
                for i in Int(route.offsets[segment])..<Int(route.offsets[segment + 1]) {
                    guard keys[i] >= bounds[s] && keys[i] < bounds[s + 1] else {
                        throw SwiftCTRError(.data, "embedding '\(name)' (LocalizedSlotSparseEmbeddingOneHot): key \(keys[i]) of slot \(s) is outside the slot's range \(bounds[s])..<\(bounds[s + 1]) (slot_size_array[\(s)] = \(sizes[s]), offset by the sizes of the slots before it). Give keys already offset per slot, as HugeCTR's Raw and Criteo data hold them, or correct slot_size_array.")
                    }
                    keys[i] += local[j] - bounds[s]
                }
            }
            routes[g].keys = keys
        }
    }

    /// Gives the rows the lookups just inserted their one-worker rows, in the order the batch
    /// first shows their keys, and those rows' starting values. Each local shard's new rows are
    /// known here by the batch position of their first key; the processes exchange those
    /// positions, so that every process numbers all workers' new rows the same way.
    private func startNewRows(_ routes: [ShardingPlan.Route], before: [Int], _ initial: HashEmbedding.InitialValues) {
        let after = shards.map(\.size)
        // Per local shard, the batch position of each new row's first key, in row order.
        var firsts: [[Int64]] = []
        for (i, route) in routes.enumerated() {
            var first = [Int64](repeating: .max, count: after[i] - before[i])
            if !first.isEmpty {
                let rows = backends[i].int64s(shards[i].rows, count: route.keys.count)
                for (j, position) in route.positions.enumerated() where rows[j] >= before[i] {
                    let r = Int(rows[j]) - before[i]
                    first[r] = min(first[r], Int64(position))
                }
            }
            firsts.append(first)
        }
        let all = collective.allGather(firsts)
        // Every worker's new rows in the order of their first keys: the next one-worker rows.
        let order = all.enumerated().flatMap { g, rows in rows.enumerated().map { (position: $1, worker: g, row: $0) } }
            .sorted { $0.position < $1.position }
        var logical = Array(repeating: [Int](), count: workers)
        for (g, rows) in all.enumerated() { logical[g] = Array(repeating: -1, count: rows.count) }
        for (n, entry) in order.enumerated() { logical[entry.worker][entry.row] = size + n }
        size += order.count
        for (i, g) in local.enumerated() where after[i] > before[i] {
            logicalRows[i] += logical[g]
            var values: [Float] = []
            values.reserveCapacity((after[i] - before[i]) * vecSize)
            for row in logical[g] {
                values += HashEmbedding.initialRows(initial, rows: row..<row + 1, vecSize: vecSize, name: name, seed: seed)
            }
            backends[i].upload(values, to: shards[i].values.view(from: before[i] * vecSize, [values.count]))
        }
    }

    /// Sends each local worker's output gradient (`outputGrads`, of its rows' share `rowWeights[g]`
    /// of the batch's mean loss; one weight per worker of all processes) to the shards and sums it
    /// per touched row on each.
    public func backward(rowWeights: [Float]) {
        precondition(rowWeights.count == workers, "one weight per worker")
        for (i, h) in local.enumerated() where rowWeights[h] != 1 {
            let rows = plan.sampleRows(h, batchSize: chunk * workers, count: samples).count
            backends[i].unary(.scale(rowWeights[h]), outputGrads[i], into: outputGrads[i], count: rows * slots * vecSize)
        }
        if plan.placesByKey {
            collective.allGather(outputGrads, into: shards.map(\.outputGrad), count: chunk * slots * vecSize)
            if combiner == .mean {
                for (g, shard) in shards.enumerated() {
                    backends[g].upload(batchScales, to: meanScales[g])
                    backends[g].binary(.multiply, shard.outputGrad, meanScales[g], into: shard.outputGrad,
                                       count: samples * slots * vecSize, broadcast: .column(vecSize))
                }
            }
        } else {
            for i in local.indices { reorder(local: i, toSlotOrder: false) }
            collective.allToAll(exchange, into: shards.map(\.outputGrad), counts: blockCounts(senderIsShard: false))
        }
        for shard in shards { shard.backward() }
    }

    /// Applies each shard's sparse optimizer to its rows.
    public func update(lr: Float, scaler: Float) {
        for shard in shards { shard.update(lr: lr, scaler: scaler) }
    }

    /// Sets every shard's update counter (resuming a snapshot).
    package func restore(step: Int) {
        for shard in shards { shard.restore(step: step) }
    }
}
