import CTRCPU

/// A HugeCTR model: an `Input`, sparse embeddings and dense layers added in order, compiled into a
/// graph on a backend and trained with `fit`.
///
/// ```swift
/// let model = try Model(solver, reader, optimizer)
/// model.add(Input(labelDim: 1, labelName: "label", denseDim: 13, denseName: "dense",
///                 dataReaderSparseParamArray: [DataReaderSparseParam("data1", 1, true, 26)]))
/// model.add(SparseEmbedding(embeddingType: .distributedSlotSparseEmbeddingHash, workspaceSizePerGPUInMB: 8,
///                           embeddingVecSize: 16, combiner: "sum", sparseEmbeddingName: "emb", bottomName: "data1"))
/// model.add(DenseLayer(.reshape, bottomNames: ["emb"], topNames: ["flat"], leadingDim: 416))
/// model.add(DenseLayer(.innerProduct, bottomNames: ["flat"], topNames: ["fc"], numOutput: 1))
/// model.add(DenseLayer(.binaryCrossEntropyLoss, bottomNames: ["fc", "label"], topNames: ["loss"]))
/// try model.compile()
/// try model.fit(maxIter: 1000, display: 100, evalInterval: 500)
/// ```
public final class Model {
    public let solver: Solver
    /// Under mpirun with several processes: the exchange between them, one worker each; with
    /// several GPUs in this process: NCCL between them (`deviceBackends`, one per worker).
    let collective: (any Collective)?
    public let deviceBackends: [CUDABackend]?
    public let readerParams: DataReaderParams
    public let optimizerParams: OptimizerParams
    public let backend: any Backend
    /// The seed in use (the solver's, or one drawn when the solver's is 0).
    public let seed: UInt64
    /// Receives a record at every display and evaluation point of `fit`.
    public var onRecord: ((TrainingRecord) -> Void)?
    /// Prints the progress line and evaluation results to standard error.
    public var printsProgress = true
    /// HugeCTR's `CreateSolver(training_callbacks:)`: told when `fit` starts and ends and around
    /// each evaluation; one returning true from `onEvalEnd` stops training.
    public var trainingCallbacks: [any TrainingCallback] = []
    /// Training reads the loss every this many iterations (waiting for the device), besides each
    /// display point and snapshot, and stops with an error naming the iteration and the first
    /// non-finite layer output when it is NaN or Inf; 0 checks only at displays and snapshots.
    public var finiteCheckInterval = 100

    private(set) var input: Input?
    private(set) var embeddingSpecs: [SparseEmbedding] = []
    private(set) var layerSpecs: [DenseLayer] = []
    private var orderProblem: SwiftCTRError?
    /// `compile(lossNames:lossWeights:)`'s weights, by label name.
    private var lossWeights: [String: Float] = [:]
    /// The compiled dense network: the only one for one worker, worker 0's replica for several.
    var graph: CompiledGraph?
    /// What steps run on: `graph` for one worker, the `WorkerGroup` for several.
    var runner: (any StepRunner)?
    var scheduler: LearningRateScheduler
    /// The rate `setLearningRate` gave, which `train(batch:)` and `train()` use instead of the scheduler's.
    var setRate: Float?
    /// Training iterations run so far over all `fit` calls (drives dropout masks).
    var step = 0
    var trainReader: (any BatchSource)?
    /// Seconds `train()` has spent waiting for the training reader's batches (for benchmarks:
    /// near zero while the reader keeps ahead of the trainer).
    public internal(set) var readerWaitSeconds = 0.0
    var evalReader: (any BatchSource)?
    /// The evaluation pass in progress: `eval()` adds to it, `getEvalMetrics()` ends it.
    var evalSums = EvaluationSums()
    /// The batch whose probabilities the losses hold (`eval()` or `predict`), for `exportPredictions`.
    var lastEvaluated: Batch?
    /// The pass whose values the graph's tensors hold and its batch size, for `checkOutTensor`.
    var lastPass: (type: TensorType, samples: Int, batchSize: Int)?
    /// The last iteration whose loss a check found finite.
    var lastFiniteCheck = 0
    /// Where the current (or last) `fit` stands in its data, for snapshots.
    var position = DataPosition()
    /// Where the next `fit` starts, set by `resume(from:)`.
    var resumePosition: DataPosition?

    public init(_ solver: Solver, _ reader: DataReaderParams, _ optimizer: OptimizerParams,
                backend: (any Backend)? = nil) throws {
        let processes = MPIRuntime.launchedByMPI ? try MPIRuntime.shared() : nil
        let solver = try processes.map { try Self.solver(solver, over: $0) } ?? solver
        try solver.validate()
        if solver.devices == .cuda, solver.vvgpu.count > 1, (processes?.size ?? 1) == 1 {
            throw SwiftCTRError(.config, "Solver: vvgpu \(solver.vvgpu) names \(solver.vvgpu.count) nodes, which need one process each under mpirun; on one host list its GPUs in one node, e.g. vvgpu: [\(solver.vvgpu.flatMap { $0 })].")
        }
        guard !reader.source.isEmpty, !reader.source[0].isEmpty else {
            throw SwiftCTRError(.config, "DataReaderParams: source is empty; give the training file list.")
        }
        guard !reader.evalSource.isEmpty else {
            throw SwiftCTRError(.config, "DataReaderParams: eval_source is empty; give the evaluation file list.")
        }
        guard reader.dataReaderType != .rawAsync else {
            throw SwiftCTRError(.config, "DataReaderParams: data_reader_type RawAsync is not available in this version; use .raw (the same file, read by worker threads), .norm or .parquet.")
        }
        if reader.dataReaderType == .raw {
            for (key, count) in [("num_samples", reader.numSamples), ("eval_num_samples", reader.evalNumSamples)] where count < 1 {
                throw SwiftCTRError(.config, "DataReaderParams: a Raw reader needs \(key), the exact number of samples of its file, found \(count); set numSamples and evalNumSamples.")
            }
        }
        try optimizer.validateForDense()
        // Under mpirun a process drives its own node's device (vvgpu[rank]); given no backend,
        // `.cuda` with several GPUs in the list trains one worker on each, over NCCL.
        let devices = solver.vvgpu[processes.map { $0.size > 1 ? $0.rank : 0 } ?? 0]
        var gpus: [CUDABackend] = []
        if backend == nil, solver.devices == .cuda {
            gpus = try devices.map { try CUDABackend(ordinal: $0) }
        }
        let backend: any Backend = try backend ?? gpus.first ?? CPUBackend()
        if solver.useMixedPrecision && !backend.supportsMixedPrecision {
            throw SwiftCTRError(.config, "Solver: use_mixed_precision needs a GPU backend; \(backend.name) computes in fp32. Set useMixedPrecision: false.")
        }
        if let gpu = backend as? CUDABackend {
            gpu.gemmPrecision = solver.useMixedPrecision ? (solver.mixedPrecisionType == .float16 ? .fp16 : .bf16)
                : solver.enableTF32Compute ? .tf32 : .fp32
        }
        self.solver = solver
        deviceBackends = gpus.count > 1 ? gpus : nil
        collective = try processes.flatMap { $0.size > 1 ? try MPICollective(backend: backend) : nil }
            ?? (gpus.count > 1 ? NCCLCollective(backends: gpus) : nil)
        self.readerParams = reader
        self.optimizerParams = optimizer
        self.backend = backend
        seed = solver.seed != 0 ? solver.seed : UInt64.random(in: 1...UInt64.max)
        scheduler = try LearningRateScheduler(baseLR: solver.lr, warmupSteps: solver.warmupSteps,
                                              decayStart: solver.decayStart, decaySteps: solver.decaySteps,
                                              decayPower: solver.decayPower, endLR: solver.endLR)
        printsProgress = isFirstProcess
    }

    // MARK: building

    public func add(_ input: Input) {
        if self.input != nil {
            orderProblem = orderProblem ?? SwiftCTRError(.config, "Input was added twice; a model has exactly one Input.")
        } else if !embeddingSpecs.isEmpty || !layerSpecs.isEmpty {
            orderProblem = orderProblem ?? SwiftCTRError(.config, "Input must be added first, before embeddings and dense layers.")
        }
        self.input = input
    }

    public func add(_ embedding: SparseEmbedding) {
        if !layerSpecs.isEmpty {
            orderProblem = orderProblem ?? SwiftCTRError(.config, "SparseEmbedding '\(embedding.sparseEmbeddingName)' was added after dense layers; add every embedding right after the Input.")
        }
        embeddingSpecs.append(embedding)
    }

    public func add(_ layer: DenseLayer) {
        layerSpecs.append(layer)
    }

    /// The solver of one process among `processes` started by mpirun, each running one worker
    /// (HugeCTR's multi-node `vvgpu`, one list per node, here of one device each): the default one
    /// device becomes one per process; a `vvgpu` of other counts is an error.
    static func solver(_ solver: Solver, over processes: MPIRuntime) throws -> Solver {
        let n = processes.size
        guard n > 1 else { return solver }
        var solver = solver
        if solver.workerCount == 1 { solver.vvgpu = Array(repeating: solver.vvgpu[0], count: n) }
        guard solver.vvgpu.count == n, solver.vvgpu.allSatisfy({ $0.count == 1 }) else {
            throw SwiftCTRError(.config, "Solver: mpirun started \(n) processes, each of which runs one worker, but vvgpu \(solver.vvgpu) lists \(solver.workerCount) devices on \(solver.vvgpu.count) nodes. Give one device per process (vvgpu = [[0], [0], …], \(n) lists), or start mpirun with -np \(solver.vvgpu.count) and one device per list.")
        }
        return solver
    }

    /// Throws the first error any of the model's devices recorded.
    func checkDevices() throws {
        try backend.check()
        for gpu in deviceBackends ?? [] { try gpu.check() }
    }

    /// Whether this process prints and writes files: always, except under mpirun, where only the
    /// process of worker 0 does.
    public var isFirstProcess: Bool { collective.map { $0.localWorkers.contains(0) } ?? true }

    /// Checks the whole definition, allocates every tensor and initializes the weights.
    public func compile() throws {
        if let orderProblem { throw orderProblem }
        guard let input else {
            throw SwiftCTRError(.config, "the model has no Input; add Input(labelDim:labelName:denseDim:denseName:dataReaderSparseParamArray:) first.")
        }
        let analysis = try GraphAnalysis(input: input, embeddings: embeddingSpecs, layers: layerSpecs,
                                         lossWeights: lossWeights)
        if solver.workerCount > 1 {
            let group = try WorkerGroup(analysis: analysis, solver: solver, optimizer: optimizerParams, seed: seed,
                                        backend: backend, backends: deviceBackends, collective: collective)
            (graph, runner) = (group.replicas[0], group)
        } else {
            let graph = try CompiledGraph(analysis: analysis, solver: solver, optimizer: optimizerParams, seed: seed,
                                          backend: backend)
            (self.graph, runner) = (graph, graph)
        }
        try checkDevices()
    }

    /// Sets each named label's loss weight, then compiles (HugeCTR's `compile(loss_names,
    /// loss_weights)`). The training loss is `Σ weight·loss` over the tasks and each task's
    /// gradient is scaled by its weight; labels not named keep the Input's `labelWeights` (or 1).
    ///
    /// ```swift
    /// try model.compile(lossNames: ["clicked", "liked"], lossWeights: [0.7, 0.3])
    /// ```
    public func compile(lossNames: [String], lossWeights: [Float]) throws {
        guard lossNames.count == lossWeights.count else {
            throw SwiftCTRError(.config, "compile: \(lossNames.count) loss names but \(lossWeights.count) loss weights; give one weight per name.")
        }
        guard Set(lossNames).count == lossNames.count else {
            throw SwiftCTRError(.config, "compile: loss names \(lossNames) repeat a name; name each label once.")
        }
        self.lossWeights = Dictionary(uniqueKeysWithValues: zip(lossNames, lossWeights))
        try compile()
    }

    func compiled() throws -> CompiledGraph {
        guard let graph else { throw SwiftCTRError(.config, "the model is not compiled; call compile() first.") }
        return graph
    }

    /// What steps, evaluations and predictions run on.
    func running() throws -> any StepRunner {
        guard let runner else { throw SwiftCTRError(.config, "the model is not compiled; call compile() first.") }
        return runner
    }

    /// The layer table and memory plan; printed and returned.
    @discardableResult
    public func summary() -> String {
        let text = runner?.summary() ?? "model not compiled; call compile() first"
        print(text)
        return text
    }

    // MARK: training

    /// Trains for `maxIter` iterations (or `numEpochs` passes when the solver's `repeatDataset` is
    /// false), printing progress every `display` iterations and evaluating every `evalInterval`.
    /// Every `snapshot` iterations it writes `saveParamsToFiles(prefix: snapshotPrefix, iter: i)`
    /// as HugeCTR does: after iteration i + 1 for each positive multiple i of `snapshot`. After
    /// `resume(from:)` it continues at the snapshot's iteration, epoch and data position, so
    /// `maxIter` and `numEpochs` count from the start of the interrupted run.
    @discardableResult
    public func fit(numEpochs: Int = 0, maxIter: Int = 2000, display: Int = 200, evalInterval: Int = 1000,
                    snapshot: Int = 10000, snapshotPrefix: String = "") throws -> [TrainingRecord] {
        let graph = try running()
        if solver.repeatDataset {
            guard maxIter > 0 else { throw SwiftCTRError(.config, "fit: max_iter must be ≥ 1 when repeat_dataset is true, found \(maxIter).") }
        } else {
            guard numEpochs > 0 else { throw SwiftCTRError(.config, "fit: num_epochs must be ≥ 1 when repeat_dataset is false, found \(numEpochs).") }
        }
        var progress = Progress(total: solver.repeatDataset ? maxIter : nil, batch: solver.batchsize, enabled: printsProgress)
        if snapshot > 0 { try ModelFileNames(prefix: snapshotPrefix, iteration: 0).checkFolder() }
        var records: [TrainingRecord] = []
        position = resumePosition ?? DataPosition()
        resumePosition = nil
        var iter = position.iteration
        var stoppedAt: Int?
        lastFiniteCheck = 0
        defer { stopReaders() }
        for callback in trainingCallbacks { try callback.onTrainingStart() }
        /// One iteration and its display/eval bookkeeping; false once training should stop.
        func iterate(_ batch: Batch) throws -> Bool {
            let lr = scheduler.next()
            try trainStep(graph, batch: batch, lr: lr, iteration: iter + 1, snapshotPrefix: snapshot > 0 ? snapshotPrefix : nil)
            try checkDevices()
            step += 1
            iter += 1
            progress.step(samples: batch.count)
            let displays = display > 0 && iter % display == 0
            // HugeCTR's condition on its 0-based iteration: the file suffix N follows N + 1 iterations.
            let snapshots = snapshot > 0 && (iter - 1) % snapshot == 0 && iter > 1
            let loss = try checkLoss(iteration: iter, batch: batch, lr: lr, force: displays || snapshots,
                                     snapshotPrefix: snapshot > 0 ? snapshotPrefix : nil)
            if displays, let loss {
                let record = progress.display(iteration: iter, lr: lr, loss: loss)
                records.append(record)
                onRecord?(record)
            }
            if evalInterval > 0 && iter % evalInterval == 0 {
                backend.synchronize()
                progress.pauseForEvaluation()
                for callback in trainingCallbacks { _ = try callback.onEvalStart(currentIter: iter - 1) }
                let metrics = try evaluate()
                let record = progress.evaluation(iteration: iter, metrics: metrics)
                records.append(record)
                onRecord?(record)
                var stop = false
                for callback in trainingCallbacks where try callback.onEvalEnd(currentIter: iter - 1, evalResults: Dictionary(uniqueKeysWithValues: reported(metrics))) {
                    stop = true
                }
                if stop {
                    progress.note("a training callback stopped training at iteration \(iter)")
                    stoppedAt = iter - 1
                    return false
                }
                if let threshold = solver.metricsSpec[.auc], metrics.auc > Double(threshold) {
                    progress.note("Hit target accuracy AUC \(threshold) at iteration \(iter)")
                    return false
                }
            }
            if snapshots {
                try checkWeights(iteration: iter, lr: lr, snapshotPrefix: snapshotPrefix)
                position.iteration = iter
                let names = ModelFileNames(prefix: snapshotPrefix, iteration: iter - 1)
                try writeModelFiles(names)
                progress.note("snapshot written: \(names.manifest)")
            }
            return true
        }
        if solver.repeatDataset {
            let reader = try makeTrainReader()
            trainReader = reader
            while iter < maxIter {
                guard let batch = try reader.next() else {
                    throw SwiftCTRError(.data, "training data ended although repeat_dataset is true.")
                }
                position.trainBatches += 1
                // Only a Raw file's last batch of each pass can be short while repeating.
                if batch.count < solver.batchsize && solver.dropIncompleteBatch { continue }
                guard try iterate(batch) else { break }
            }
        } else {
            epochs: while position.epoch < numEpochs {
                let reader = try makeTrainReader()
                trainReader = reader
                while let batch = try reader.next() {
                    position.trainBatches += 1
                    if batch.count < solver.batchsize && solver.dropIncompleteBatch { continue }
                    guard try iterate(batch) else { break epochs }
                }
                position.epoch += 1
                position.trainBatches = 0
            }
        }
        position.iteration = iter
        progress.finish()
        for callback in trainingCallbacks { try callback.onTrainingEnd(currentIter: stoppedAt ?? iter - 1) }
        return records
    }

    /// Runs `batches` evaluation batches (default: the solver's `maxEvalBatches`) and returns AUC
    /// (with several tasks the mean of the tasks' AUCs, each in `taskAUCs`) and average loss.
    public func evaluate(batches: Int? = nil) throws -> EvalMetrics {
        for _ in 0..<(batches ?? solver.maxEvalBatches) {
            guard try evaluateNextBatch() else { break }
        }
        return try finishEvaluation()
    }

    /// Sets the learning rate of the dense network and every embedding for the following
    /// `train(batch:)` calls, which then leave the scheduler alone (HugeCTR's `set_learning_rate`,
    /// for the low-level loop `lr = schedule.next(); setLearningRate(lr); train()`). `fit` keeps
    /// drawing its rates from the solver's schedule.
    ///
    /// ```swift
    /// var schedule = try LearningRateScheduler(baseLR: 0.001, warmupSteps: 100)
    /// try model.setLearningRate(schedule.next())
    /// try model.train(batch: batch)
    /// ```
    public func setLearningRate(_ lr: Float) throws {
        guard lr >= 0 && lr.isFinite else {
            throw SwiftCTRError(.config, "setLearningRate: the learning rate must be finite and ≥ 0, found \(lr).")
        }
        setRate = lr
    }

    /// One training iteration on `batch` with the rate `setLearningRate` gave, else the
    /// scheduler's next one (HugeCTR's low-level `train()`, with the batch given instead of read).
    /// It does not wait for the device; `currentLoss` does. Throws, before any work, when `batch`
    /// does not fit the `Input` or holds more samples than the compiled batch size.
    public func train(batch: Batch) throws {
        let graph = try running()
        try batch.validate(for: input!, maxBatch: graph.maxBatch, i64Keys: solver.i64InputKey, method: "Model.train(batch:)")
        let lr = setRate ?? scheduler.next()
        try trainStep(graph, batch: batch, lr: lr, iteration: step + 1)
        step += 1
        try checkDevices()
        try checkLoss(iteration: step, batch: batch, lr: lr)
    }

    /// Training time per phase (upload, each layer's forward and backward, updates) in seconds,
    /// summed since profiling was switched on, in step order. On a GPU the phases are timed with
    /// events, so the device runs unperturbed; the host waits for each step's timings, though.
    public var profile: [(phase: String, seconds: Double)] { graph?.profile ?? [] }
    /// How many times each label of `profile` was timed (a kernel may run several times a step).
    public var profileCalls: [String: Int] { graph?.profileCalls ?? [:] }

    public var profiling: Bool {
        get { graph?.profiling ?? false }
        set { graph?.profiling = newValue }
    }

    /// The loss of the last training iteration (HugeCTR's `get_current_loss`).
    public var currentLoss: Float { runner?.lastLoss ?? 0 }

    /// A reader of `list` that starts after its first `skip` batches.
    func makeReader(list: String, batch: Int, repeat: Bool, skip: Int, numSamples: Int? = nil) throws -> any BatchSource {
        let format = readerParams.format(numSamples: numSamples ?? readerParams.numSamples)
        var workers = readerParams.numWorkers
        switch format {
        // Each worker reads whole files, so workers beyond the file count would have nothing to read.
        case .norm, .parquet: workers = min(workers, try FileList.read(list).count)
        case .raw: break
        }
        return try format.open(source: list, layout: input!.layout, i64Keys: solver.i64InputKey, batchSize: batch,
                               repeat: `repeat`, numWorkers: max(1, workers), startingAt: skip, pool: backend.hostBufferPool)
    }

    func stopReaders() {
        trainReader?.stop()
        evalReader?.stop()
        trainReader = nil
        evalReader = nil
        position.evalBatches = 0
    }

    /// A copy of the solver's learning-rate schedule as it stands (HugeCTR's
    /// `get_learning_rate_scheduler`), for the low-level loop `lr = schedule.next();
    /// setLearningRate(lr); train()`.
    public var learningRateScheduler: LearningRateScheduler { scheduler }

    /// The learning-rate schedule, for snapshots and `resume(from:)`.
    var schedule: LearningRateScheduler {
        get { scheduler }
        set { scheduler = newValue }
    }
}
