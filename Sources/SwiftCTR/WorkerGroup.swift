/// What `Model` runs its steps, evaluations and predictions on: one worker's `CompiledGraph`, or
/// a `WorkerGroup` of replicas over sharded embeddings.
///
/// ```swift
/// let runner: any StepRunner = try model.running()
/// try runner.train(batch: batch, lr: 0.001, iteration: 0, checkingLoss: false)
/// print(runner.lastLoss)
/// ```
protocol StepRunner: AnyObject {
    /// The most samples a batch may hold.
    var maxBatch: Int { get }
    /// The loss of the last training iteration (waits for the device).
    var lastLoss: Float { get }
    /// Every replica of the dense network, worker 0's first (one for a single worker); all hold
    /// the same weights.
    var replicas: [CompiledGraph] { get }
    /// Every embedding as the model files see it, in add order.
    var embeddingStores: [any EmbeddingStore] { get }
    func train(batch: Batch, lr: Float, iteration: Int, checkingLoss: Bool) throws
    func evaluate(batch: Batch) throws -> Float
    func evaluationAUCs() -> [(label: String, auc: Double)]
    func predict(batch: Batch) throws -> Predictions
    func diagnoseNonFinite(batch: Batch, iteration: Int) throws -> String
    /// The first loss's probabilities of the `batch` last evaluated or predicted.
    func lastProbabilities(_ batch: Batch) -> [Float]
    func summary() -> String
}

extension CompiledGraph: StepRunner {
    var replicas: [CompiledGraph] { [self] }
    var embeddingStores: [any EmbeddingStore] { embeddings.map(\.table) }

    func lastProbabilities(_ batch: Batch) -> [Float] {
        let loss = losses[0]
        return backend.floats(loss.predictions, count: batch.count * loss.predictions.shape.last)
    }
}

/// A model trained data-parallel on N workers in one process (HugeCTR's multi-GPU training,
/// simulated on the CPU): each worker has a replica of the dense network and its shard of every
/// embedding (`ShardedEmbedding`, placed by `ShardingPlan`), and they exchange through a
/// `Collective`. One step: every worker sees the whole batch's keys and pools its shards' part;
/// the exchange leaves worker g the vectors of its samples, rows `[g·B/N, (g+1)·B/N)`, on which
/// its replica runs forward and backward; the dense gradients are all-reduced, each worker's
/// weighted by its share of the batch (1/N for a full batch: averaged, as HugeCTR's sum of
/// per-GPU `1/(B/N·N)` gradients), so every replica applies the same update; the embedding
/// gradients go back to the keys' owners, which update their rows. The regularizers' term is
/// taken once over the whole batch; evaluation sums the workers' AUC histograms and weights their
/// losses by their samples. So N workers train what one worker trains, up to the order of float
/// additions (dropout masks and BatchNorm statistics aside: both are per worker, as in HugeCTR).
/// A process runs the replicas and shards of its own workers (`Collective.localWorkers`): all of
/// them with `InProcessCollective`, one under MPI, where every process reads the whole batch.
///
/// ```swift
/// let solver = Solver(batchsizeEval: 1024, batchsize: 1024, vvgpu: [[0, 1, 2, 3]])   // four workers
/// let model = try Model(solver, reader, optimizer)
/// // add the Input, embeddings and layers, then:
/// try model.compile()            // a WorkerGroup of four replicas
/// try model.fit(maxIter: 1000)
/// ```
final class WorkerGroup: StepRunner {
    let replicas: [CompiledGraph]
    let embeddings: [(table: ShardedEmbedding, sparseIndex: Int)]
    let collective: any Collective
    let solver: Solver
    let maxBatch: Int
    let input: Input
    /// The workers this process runs (`collective.localWorkers`), one replica each.
    let local: [Int]
    /// Every worker's share of the last training batch.
    private var weights: [Float]

    /// `collective` spans the workers of every process (default: all simulated in this one, on
    /// `backend`); `backends` gives each local worker its own (several GPUs), else all use `backend`.
    init(analysis: GraphAnalysis, solver: Solver, optimizer: OptimizerParams, seed: UInt64, backend: any Backend,
         backends: [any Backend]? = nil, collective: (any Collective)? = nil) throws {
        let workers = solver.workerCount, input = analysis.input
        let collective = collective ?? InProcessCollective(backends: backends ?? Array(repeating: backend, count: workers))
        precondition(collective.workers == workers, "the collective spans the solver's \(workers) workers")
        let backends = backends ?? Array(repeating: backend, count: collective.localWorkers.count)
        precondition(backends.count == collective.localWorkers.count, "one backend per local worker")
        let maxBatch = max(solver.batchsize, solver.batchsizeEval)
        var embeddings: [(ShardedEmbedding, Int)] = []
        for spec in analysis.embeddings {
            let index = input.dataReaderSparseParamArray.firstIndex { $0.topName == spec.bottomName }!
            let sparse = input.dataReaderSparseParamArray[index]
            let resolved = try EmbeddingTableSpec(spec, sparse: sparse, modelOptimizer: optimizer, backend: backend)
            let table = try ShardedEmbedding(
                name: spec.sparseEmbeddingName, plan: ShardingPlan(spec.embeddingType, workers: workers, slots: sparse.slotNum),
                vecSize: spec.embeddingVecSize, combiner: Combiner(rawValue: spec.combiner)!, table: resolved.table,
                maxBatch: maxBatch, maxKeysPerSample: sparse.maxFeatureNum, optimizer: resolved.optimizer, seed: seed,
                backends: backends, collective: collective)
            embeddings.append((table, index))
        }
        local = collective.localWorkers
        replicas = try local.indices.map { i in
            let outputs = zip(analysis.embeddings, embeddings).map { spec, embedding in
                Variable(name: spec.sparseEmbeddingName, value: embedding.0.outputs[i], grad: embedding.0.outputGrads[i])
            }
            return try CompiledGraph(replicaOf: analysis, solver: solver, optimizer: optimizer, seed: seed,
                                     backend: backends[i], rows: maxBatch / workers, embeddingOutputs: outputs)
        }
        self.embeddings = embeddings
        self.maxBatch = maxBatch
        self.collective = collective
        self.solver = solver
        self.input = input
        weights = Array(repeating: 1 / Float(workers), count: workers)
    }

    var workers: Int { collective.workers }
    var embeddingStores: [any EmbeddingStore] { embeddings.map(\.table) }

    var lastLoss: Float {
        let mine = zip(replicas, local).reduce(0.0) { weights[$1.1] > 0 ? $0 + Double(weights[$1.1] * $1.0.lastLoss) : $0 }
        return Float(collective.sumOverProcesses([mine])[0])
    }

    /// This process's replicas with their workers' samples of a batch split as `shares`.
    private func mine(_ shares: [Range<Int>]) -> Zip2Sequence<[CompiledGraph], [Range<Int>]> {
        zip(replicas, local.map { shares[$0] })
    }

    /// Each worker's samples of a batch of `count` when batches hold `batchSize`; throws when
    /// the batch is larger, since the workers' shares are fixed.
    private func split(_ count: Int, batchSize: Int, _ what: String) throws -> [Range<Int>] {
        guard count <= batchSize else {
            throw SwiftCTRError(.data, "a \(what) batch of \(count) samples is larger than the \(batchSize) that \(workers) workers split into shares of \(batchSize / workers). Give batches of at most \(batchSize) samples.")
        }
        return (0..<workers).map { ShardingPlan.sampleRows($0, workers: workers, batchSize: batchSize, count: count) }
    }

    /// Worker g's samples of `batch` (labels and dense values; the keys reach it through the embeddings).
    private func share(_ batch: Batch, _ rows: Range<Int>) -> Batch {
        let l = input.labelDim, d = input.denseDim
        return Batch(count: rows.count, labels: Array(batch.labels[rows.lowerBound * l..<rows.upperBound * l]),
                     dense: Array(batch.dense[rows.lowerBound * d..<rows.upperBound * d]), sparse: [])
    }

    private func forwardEmbeddings(_ batch: Batch, batchSize: Int, training: Bool) throws {
        for (table, index) in embeddings {
            let sparse = batch.sparse[index]
            try table.forward(keys: sparse.keys.array, offsets: sparse.rowOffsets.array, batch: batch.count, batchSize: batchSize,
                              training: training)
        }
    }

    func train(batch: Batch, lr: Float, iteration: Int, checkingLoss: Bool) throws {
        let shares = try split(batch.count, batchSize: solver.batchsize, "training")
        // BatchNorm's statistics, put back when the loss check stops the step.
        let statistics = checkingLoss ? replicas.map { $0.nonTrainableValues() } : []
        try forwardEmbeddings(batch, batchSize: solver.batchsize, training: true)
        var contexts: [StepContext?] = []
        for (replica, rows) in mine(shares) {
            guard !rows.isEmpty else {
                contexts.append(nil)
                continue
            }
            var context = try replica.load(share(batch, rows), training: true)
            context.iteration = iteration
            replica.forwardLayers(context)
            contexts.append(context)
        }
        weights = shares.map { Float($0.count) / Float(max(batch.count, 1)) }
        if checkingLoss {
            let loss = lastLoss
            guard loss.isFinite else {
                for (replica, values) in zip(replicas, statistics) { replica.restore(values) }
                throw NonFiniteLoss(loss: loss)
            }
        }
        for (i, replica) in replicas.enumerated() {
            let g = local[i]
            if let context = contexts[i] {
                replica.backwardLayers(context)
            } else {
                for parameter in replica.parameters { replica.backend.fill(parameter.grad, 0) }
            }
            if weights[g] != 1 {
                for parameter in replica.parameters {
                    replica.backend.unary(.scale(weights[g]), parameter.grad, into: parameter.grad, count: parameter.grad.count)
                }
            }
        }
        for i in replicas[0].parameters.indices {
            collective.allReduceSum(replicas.map { $0.parameters[i].grad }, count: replicas[0].parameters[i].grad.count)
        }
        let whole = StepContext(batch: batch.count, training: true, iteration: iteration, seed: replicas[0].seed)
        for replica in replicas { replica.updateDense(lr: lr, context: whole) }
        for (table, _) in embeddings {
            table.backward(rowWeights: weights)
            table.update(lr: lr, scaler: solver.scaler)
        }
    }

    func evaluate(batch: Batch) throws -> Float {
        let shares = try split(batch.count, batchSize: solver.batchsizeEval, "evaluation")
        try forwardEmbeddings(batch, batchSize: solver.batchsizeEval, training: false)
        var loss = 0.0
        for (replica, rows) in mine(shares) where !rows.isEmpty {
            loss += Double(rows.count) / Double(batch.count)
                * Double(try replica.evaluate(batch: share(batch, rows), penaltyBatch: batch.count))
        }
        return Float(collective.sumOverProcesses([loss])[0])
    }

    func evaluationAUCs() -> [(label: String, auc: Double)] {
        for (l, histograms) in replicas[0].aucHistograms.enumerated() {
            for c in histograms.indices {
                collective.allReduceSum(replicas.map { $0.aucHistograms[l][c] }, count: AUCHistogram.count)
            }
        }
        // Every replica's histograms are read (which clears them); worker 0's give the result.
        let aucs = replicas.map { $0.evaluationAUCs() }
        return aucs[0]
    }

    func predict(batch: Batch) throws -> Predictions {
        let shares = try split(batch.count, batchSize: solver.batchsizeEval, "prediction")
        try forwardEmbeddings(batch, batchSize: solver.batchsizeEval, training: false)
        var all = Predictions(samples: batch.count, tasks: [])
        for (replica, rows) in mine(shares) where !rows.isEmpty {
            let part = try replica.predict(batch: share(batch, rows))
            if all.tasks.isEmpty {
                all.tasks = part.tasks
            } else {
                for t in part.tasks.indices {
                    all.tasks[t].probabilities += part.tasks[t].probabilities
                    all.tasks[t].labels += part.tasks[t].labels
                }
            }
        }
        guard local.count < workers else { return all }
        // The other processes' samples, in worker order (a process without samples has no tasks yet).
        if all.tasks.isEmpty { all.tasks = replicas[0].predictionTasks(samples: 0) }
        for t in all.tasks.indices {
            all.tasks[t].probabilities = everyProcess(all.tasks[t].probabilities)
            all.tasks[t].labels = everyProcess(all.tasks[t].labels)
        }
        return all
    }

    func lastProbabilities(_ batch: Batch) -> [Float] {
        let shares = (0..<workers).map {
            ShardingPlan.sampleRows($0, workers: workers, batchSize: solver.batchsizeEval, count: batch.count)
        }
        let mine = self.mine(shares).flatMap { replica, rows in
            rows.isEmpty ? [] : replica.lastProbabilities(share(batch, rows))
        }
        return local.count < workers ? everyProcess(mine) : mine
    }

    /// This process's values followed by the other processes', in worker order.
    private func everyProcess(_ values: [Float]) -> [Float] {
        collective.allGather(local.indices.map { $0 == 0 ? values : [] }).flatMap { $0 }
    }

    func diagnoseNonFinite(batch: Batch, iteration: Int) throws -> String {
        let shares = try split(batch.count, batchSize: solver.batchsize, "training")
        try forwardEmbeddings(batch, batchSize: solver.batchsize, training: true)
        for (i, g) in local.enumerated() where !shares[g].isEmpty {
            let rows = shares[g]
            for (table, _) in embeddings {
                if let problem = replicas[i].nonFinite(table.outputs[i], rows: rows.count) {
                    return "the first non-finite output is embedding '\(table.name)' (worker \(g)'s samples): \(problem); its rows went non-finite in an update."
                }
            }
        }
        for (i, g) in local.enumerated() where !shares[g].isEmpty {
            let rows = shares[g]
            if let finding = try replicas[i].nonFiniteFinding(batch: share(batch, rows), iteration: iteration) {
                return "on worker \(g) (samples \(rows.lowerBound)..<\(rows.upperBound)): " + finding
            }
        }
        return try replicas[0].diagnoseNonFinite(batch: share(batch, shares[local[0]]), iteration: iteration)
    }

    func summary() -> String {
        var text = replicas[0].summary()
        let here = local.count == workers ? "simulated" : "over processes, \(local.count) in this one"
        text += "workers: \(workers) \(here), each with a replica of the dense network for \(maxBatch / workers) samples\n"
        for (table, _) in embeddings {
            let placement = table.plan.placesByKey ? "key mod \(workers)" : "slot mod \(workers)"
            let rows = table.shards.map { "\($0.capacity)" }.joined(separator: ", ")
            let used = table.shards.map { "\($0.size)" }.joined(separator: ", ")
            text += "  embedding '\(table.name)' (\(table.plan.embeddingType.rawValue), \(placement)): rows per worker \(rows) × \(table.vecSize); keys in use \(used)\n"
        }
        return text
    }
}
