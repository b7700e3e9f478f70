import Foundation

/// A compiled model on one backend: every tensor allocated for the largest batch, the layers of
/// the `GraphPasses` plan in order, the embeddings and the optimizers. One `train` call is one
/// iteration.
final class CompiledGraph {
    let backend: any Backend
    let solver: Solver
    let maxBatch: Int
    let seed: UInt64
    /// One variable per label of the Input, `(maxBatch, label dim)`, in data order (names sorted).
    let labels: [Variable]
    /// Each label's first column in a batch's label rows, paired with `labels`.
    private let labelOffsets: [Int]
    let dense: Variable
    let embeddings: [(table: HashEmbedding, sparseIndex: Int, output: Variable)]
    let layers: [any Layer]
    let losses: [any Loss]
    /// Each loss's task weight (`Model.compile(lossNames:lossWeights:)`), paired with `losses`.
    let lossWeights: [Float]
    /// The losses with a regularizer (`use_regularizer`), whose term covers all of `parameters`.
    let regularizedLosses: [any Loss]
    let parameters: [Variable]
    let optimizer: DenseOptimizer
    /// The loss of the last training iteration, `Σ weight·loss` over the tasks (waits for the device).
    var lastLoss: Float { solver.genLossSummary ? weightedLoss() : 0 }
    let inputSpec: Input

    /// Runs `GraphPasses` over the analysed layers, then allocates the tensors and builds the plan.
    convenience init(analysis: GraphAnalysis, solver: Solver, optimizer: OptimizerParams, seed: UInt64, backend: any Backend) throws {
        try self.init(analysis: analysis, solver: solver, optimizer: optimizer, seed: seed, backend: backend,
                      rows: max(solver.batchsize, solver.batchsizeEval), embeddingOutputs: nil)
    }

    /// One worker's replica of the dense network of a model trained on several (`WorkerGroup`):
    /// tensors for `rows` samples, no tables of its own; the layers read `embeddingOutputs`
    /// (one per embedding, in add order), which the group's sharded embeddings fill.
    convenience init(replicaOf analysis: GraphAnalysis, solver: Solver, optimizer: OptimizerParams, seed: UInt64,
                     backend: any Backend, rows: Int, embeddingOutputs: [Variable]) throws {
        try self.init(analysis: analysis, solver: solver, optimizer: optimizer, seed: seed, backend: backend, rows: rows,
                      embeddingOutputs: embeddingOutputs)
    }

    private init(analysis: GraphAnalysis, solver: Solver, optimizer: OptimizerParams, seed: UInt64, backend: any Backend,
                 rows: Int, embeddingOutputs: [Variable]?) throws {
        let input = analysis.input
        let halfType = solver.useMixedPrecision ? solver.mixedPrecisionType : nil
        let plan = try GraphPasses.plan(analysis.layers, labelNames: Set(input.labelNames), halfType: halfType)
        self.backend = backend
        self.solver = solver
        self.seed = seed
        inputSpec = input
        maxBatch = rows
        let columns = input.labelColumns
        labels = columns.map { Variable(name: $0.name, shape: [rows, $0.width], backend: backend) }
        labelOffsets = columns.map(\.offset)
        dense = Variable(name: input.denseName, shape: [maxBatch, input.denseDim], backend: backend)
        var tensors = [dense.name: dense]
        for label in labels { tensors[label.name] = label }
        var embeddings: [(HashEmbedding, Int, Variable)] = []
        for output in embeddingOutputs ?? [] { tensors[output.name] = output }
        for spec in analysis.embeddings where embeddingOutputs == nil {
            let index = input.dataReaderSparseParamArray.firstIndex { $0.topName == spec.bottomName }!
            let sparse = input.dataReaderSparseParamArray[index]
            let table = try Self.makeEmbedding(spec, sparse: sparse, modelOptimizer: optimizer, maxBatch: maxBatch,
                                               seed: seed, backend: backend)
            let output = Variable(name: spec.sparseEmbeddingName, value: table.output, grad: table.outputGrad)
            tensors[output.name] = output
            embeddings.append((table, index, output))
        }
        self.embeddings = embeddings
        layers = try Self.build(plan, tensors: tensors, factory: LayerFactory(backend: backend, seed: seed, halfType: halfType))
        losses = layers.compactMap { $0 as? any Loss }
        lossWeights = losses.map { analysis.lossWeights[$0.label.name]! }
        for (loss, weight) in zip(losses, lossWeights) { loss.scaler = solver.scaler * weight }
        regularizedLosses = losses.filter { $0.regularization != nil }
        parameters = layers.flatMap(\.parameters)
        self.optimizer = try DenseOptimizer(optimizer, weights: parameters.map { ($0.value, $0.grad) }, backend: backend)
    }

    /// The layers of `plan` in order, reading `tensors` (the input's and the embeddings') and the
    /// outputs of the layers before.
    private static func build(_ plan: [PlannedLayer], tensors: [String: Variable], factory: LayerFactory) throws -> [any Layer] {
        var tensors = tensors, layers: [any Layer] = []
        /// The parts of each folded Concat, by its top name.
        var folded: [String: [Variable]] = [:]
        /// The shared operand each reader of a `SharedOperandConcat` takes, by the Slice top it names.
        var sharedUses: [String: SharedOperand.Use] = [:]
        for planned in plan {
            var spec = planned.spec
            let layer: any Layer
            let shared = spec.bottomNames.count == 1 ? sharedUses[spec.bottomNames[0]] : nil
            if planned.sharesOperand, planned.isFanOutSlice, let concat = layers.last as? SharedOperandConcat,
               concat.outputs[0].name == spec.bottomNames[0] {
                // The readers' backward runs in reverse order: the last one writes the gradient.
                for (k, top) in spec.topNames.enumerated() {
                    tensors[top] = concat.outputs[0]
                    sharedUses[top] = SharedOperand.Use(concat.operand, addsGradient: k < spec.topNames.count - 1)
                }
                continue
            }
            if planned.sharesOperand, spec.layerType == .concat,
               case let inputs = spec.bottomNames.map({ tensors[$0]! }), ConcatFolding.canFold(inputs) {
                layer = SharedOperandConcat(name: spec.topNames[0], inputs: inputs, alignment: factory.backend.gemmAlignment,
                                            type: factory.halfType ?? .float32, backend: factory.backend)
            } else if let dropout = planned.fusedDropout {
                // The producer is the last layer built unless a Concat between did not fold.
                let producer = planned.addsProducerBias ? layers.last as? InnerProduct : nil
                producer?.biasAddedByConsumer = true
                producer?.biasGradientByConsumer = true
                layer = ReLUDropout(name: dropout.name, input: tensors[spec.bottomNames[0]]!, rate: dropout.dropoutRate,
                                    bias: producer?.parameters[1], outputType: planned.outputType,
                                    backend: factory.backend)
            } else if spec.layerType == .innerProduct, spec.bottomNames.count == 1 {
                let parts = folded[spec.bottomNames[0]] ?? [tensors[spec.bottomNames[0]]!]
                layer = try factory.makeInnerProduct(spec, concatenating: parts, halfType: planned.halfType,
                                                     outputType: planned.outputType, shared: shared)
            } else {
                let inputs = spec.bottomNames.map { tensors[$0]! }
                if planned.foldsIntoInnerProduct, ConcatFolding.canFold(inputs) {
                    folded[spec.topNames[0]] = inputs
                    continue
                }
                if planned.isFanOutSlice {
                    spec.ranges = Array(repeating: [0, inputs[0].shape.last], count: spec.topNames.count)
                }
                layer = try factory.make(spec, inputs: inputs, outputType: planned.outputType, shared: shared)
            }
            for output in layer.outputs { tensors[output.name] = output }
            layers.append(layer)
        }
        return layers
    }

    deinit { backend.discardRepeated(owner: self) }

    private static func makeEmbedding(_ spec: SparseEmbedding, sparse: DataReaderSparseParam, modelOptimizer: OptimizerParams,
                                      maxBatch: Int, seed: UInt64, backend: any Backend) throws -> HashEmbedding {
        let table = try EmbeddingTableSpec(spec, sparse: sparse, modelOptimizer: modelOptimizer, backend: backend)
        let vec = spec.embeddingVecSize, combiner = Combiner(rawValue: spec.combiner)!
        switch table.table {
        case .oneHot(let sizes):
            return try HashEmbedding(oneHot: spec.sparseEmbeddingName, vecSize: vec, slots: sparse.slotNum, slotSizes: sizes,
                                     combiner: combiner, maxBatch: maxBatch, maxKeysPerSample: sparse.maxFeatureNum,
                                     optimizer: table.optimizer, seed: seed, backend: backend)
        case .hash(let capacity, let initial):
            return HashEmbedding(name: spec.sparseEmbeddingName, vecSize: vec, slots: sparse.slotNum, combiner: combiner,
                                 capacity: capacity, maxBatch: maxBatch, maxKeysPerSample: sparse.maxFeatureNum,
                                 optimizer: table.optimizer, initialValues: initial, seed: seed, backend: backend,
                                 recordsSlots: spec.embeddingType == .localizedSlotSparseEmbeddingHash)
        }
    }

    func load(_ batch: Batch, training: Bool) throws -> StepContext {
        guard batch.count <= maxBatch else {
            throw SwiftCTRError(.data, "a batch of \(batch.count) samples exceeds the compiled batch size \(maxBatch).")
        }
        uploadLabels(batch)
        backend.upload(batch.dense, to: dense.value)
        for (table, index, _) in embeddings {
            let sparse = batch.sparse[index]
            try table.stage(keys: sparse.keys, offsets: sparse.rowOffsets, batch: batch.count, oneHot: sparse.isOneHot,
                            offsetsChecked: sparse.offsetsChecked)
        }
        if profiling { backend.mark("embedding forward") }
        for (table, _, _) in embeddings { try table.lookup(training: training) }
        return StepContext(batch: batch.count, training: training, iteration: 0, seed: seed)
    }

    /// A host buffer for one label's columns of a multi-label batch.
    private var labelColumns: [Float] = []

    /// The batch's labels into `labels`: as they are for one label, else each label's columns.
    private func uploadLabels(_ batch: Batch) {
        guard labels.count > 1 else { return backend.upload(batch.labels, to: labels[0].value) }
        let stride = inputSpec.labelDim
        for (label, offset) in zip(labels, labelOffsets) {
            let width = label.shape.last
            labelColumns.removeAll(keepingCapacity: true)
            for sample in 0..<batch.count {
                labelColumns += batch.labels[sample * stride + offset..<sample * stride + offset + width]
            }
            backend.upload(labelColumns, to: label.value)
        }
    }

    private func weightedLoss() -> Float {
        zip(losses, lossWeights).reduce(0) { $0 + $1.1 * $1.0.loss(on: backend) }
    }

    /// Seconds per phase of `train`, in step order, when `profiling` is on. Phases are timed by
    /// backend marks (events on a GPU), so the device runs as it would unprofiled;
    /// "host: queue the step" is the host's time to issue one step's work.
    var profile: [(phase: String, seconds: Double)] = []
    /// How many spans each label of `profile` summed (a kernel runs several times per step).
    var profileCalls: [String: Int] = [:]
    var profiling = false

    private func phase(_ name: @autoclosure () -> String, _ body: () throws -> Void) rethrows {
        if profiling { backend.mark(name()) }
        try body()
    }

    private func addProfile(_ spans: [(label: String, seconds: Double)]) {
        for (label, seconds) in spans {
            profileCalls[label, default: 0] += 1
            if let i = profile.firstIndex(where: { $0.phase == label }) {
                profile[i].seconds += seconds
            } else {
                profile.append((label, seconds))
            }
        }
    }

    /// Forward, backward and update on one batch; read `lastLoss` for its loss. With
    /// `checkingLoss` the step waits for the loss after the forward pass and, when it is NaN or
    /// Inf, throws `NonFiniteLoss` before any update (BatchNorm's statistics put back), so the
    /// weights stay those that produced it.
    func train(batch: Batch, lr: Float, iteration: Int, checkingLoss: Bool = false) throws {
        let start = ContinuousClock.now
        var context = StepContext(batch: 0, training: true)
        try phase("upload") { context = try load(batch, training: true) }
        context.iteration = iteration
        let forward = { [self] in forwardLayers(context) }
        let backwardAndUpdate = { [self] in
            backwardLayers(context)
            updateDense(lr: lr, context: context)
        }
        if checkingLoss {
            let statistics = nonTrainableValues()
            forward()
            let loss = weightedLoss()
            guard loss.isFinite else {
                restore(statistics)
                throw NonFiniteLoss(loss: loss)
            }
            backwardAndUpdate()
        } else if solver.useCudaGraph && !profiling {
            // The dense step: the same kernels every iteration, so a GPU replays it as a graph.
            backend.repeated(owner: self, key: batch.count) {
                forward()
                backwardAndUpdate()
            }
        } else {
            forward()
            backwardAndUpdate()
        }
        phase("embedding backward") { for embedding in embeddings { embedding.table.backward() } }
        phase("embedding update") { for embedding in embeddings { embedding.table.update(lr: lr, scaler: solver.scaler) } }
        if profiling {
            backend.mark("end")
            addProfile([("host: queue the step", (ContinuousClock.now - start).inSeconds)])
            addProfile(backend.markedSpans())
        }
    }

    /// The layers' forward pass of a training step.
    func forwardLayers(_ context: StepContext) {
        for layer in layers { phase("forward \(layer.name) (\(Self.kind(layer)))") { layer.forward(context) } }
    }

    /// Zeroes every dense weight gradient, then runs the layers' backward pass.
    func backwardLayers(_ context: StepContext) {
        phase("zero weight gradients") { for parameter in parameters { backend.fill(parameter.grad, 0) } }
        for layer in layers.reversed() { phase("backward \(layer.name) (\(Self.kind(layer)))") { layer.backward(context) } }
    }

    /// Adds the regularizers' gradients (their term over `context.batch` samples), then applies
    /// the dense optimizer.
    func updateDense(lr: Float, context: StepContext) {
        // After the backward pass: some layers assign their weight gradients.
        for loss in regularizedLosses {
            phase("regularizer of \(loss.name)") { loss.regularize(parameters, context: context, on: backend) }
        }
        phase("dense optimizer") { optimizer.update(lr: lr, scaler: solver.scaler) }
    }

    static func kind(_ layer: any Layer) -> String { layer.typeName }

    /// AUC histograms of the evaluation in progress, on the backend: one per `aucColumns` entry of
    /// each loss.
    lazy var aucHistograms = losses.map { loss in
        loss.aucColumns.map { _ in backend.makeTensor([AUCHistogram.count], .float64) }
    }

    /// Forward only: adds each task's probabilities to its AUC histograms on the backend and returns
    /// the batch's loss, `Σ weight·loss` over the tasks.
    func evaluate(batch: Batch) throws -> Float {
        try evaluate(batch: batch, penaltyBatch: batch.count)
    }

    /// `evaluate(batch:)` with the regularizers' term taken over `penaltyBatch` samples (a
    /// worker's share of a batch takes the whole batch's).
    func evaluate(batch: Batch, penaltyBatch: Int) throws -> Float {
        var context = try forwardEvaluation(batch)
        context.batch = penaltyBatch
        for loss in regularizedLosses { loss.regularize(parameters, context: context, on: backend) }
        for (loss, histograms) in zip(losses, aucHistograms) {
            let predictions = loss.predictions, labels = loss.label.value
            for (column, histogram) in zip(loss.aucColumns, histograms) {
                backend.aucAccumulate(predictions: predictions.view(from: column.prediction, [predictions.count - column.prediction]),
                                      predictionStride: predictions.shape.last,
                                      labels: labels.view(from: column.label, [labels.count - column.label]),
                                      labelStride: labels.shape.last, count: batch.count, histogram: histogram)
            }
        }
        return weightedLoss()
    }

    /// The forward pass of evaluation: each loss's `predictions` hold the batch's probabilities.
    private func forwardEvaluation(_ batch: Batch) throws -> StepContext {
        let context = try load(batch, training: false)
        for layer in layers { layer.forward(context) }
        return context
    }

    /// Each task's probabilities and labels for `batch` (forward only, no AUC accumulated), tasks
    /// by label name in sorted order.
    func predict(batch: Batch) throws -> Predictions {
        _ = try forwardEvaluation(batch)
        return Predictions(samples: batch.count, tasks: predictionTasks(samples: batch.count))
    }

    /// Each loss's probabilities and labels of the first `samples` rows, by label name.
    func predictionTasks(samples: Int) -> [Predictions.Task] {
        losses.sorted { $0.label.name < $1.label.name }.map { loss in
            let width = loss.predictions.shape.last, labelWidth = loss.label.shape.last
            return Predictions.Task(label: loss.label.name, width: width,
                                    probabilities: backend.floats(loss.predictions, count: samples * width),
                                    labelWidth: labelWidth, labels: backend.floats(loss.label.value, count: samples * labelWidth),
                                    categorical: loss is CrossEntropyLoss,
                                    aucColumns: loss.aucColumns.map { .init(prediction: $0.prediction, label: $0.label) })
        }
    }

    /// Each task's AUC over the batches evaluated since the last call (the mean over its loss's
    /// `aucColumns`), by label name in sorted order.
    func evaluationAUCs() -> [(label: String, auc: Double)] {
        zip(losses, aucHistograms).map { loss, histograms in
            (loss.label.name, histograms.reduce(0) { $0 + backend.aucFromHistogram($1) } / Double(histograms.count))
        }.sorted { $0.label < $1.label }
    }

    func summary() -> String {
        var rows: [[String]] = [["layer", "type", "bottoms", "tops", "output shape", "params"]]
        rows.append(["input", "Data", "-", (labels + [dense]).map(\.name).joined(separator: ", "),
                     (labels + [dense]).map { "(\($0.shape.last))" }.joined(separator: ", "), "0"])
        for (table, index, output) in embeddings {
            rows.append([table.name, "SparseEmbedding", inputSpec.dataReaderSparseParamArray[index].topName,
                         output.name, "\(output.perSampleShape)", "\(table.capacity * table.vecSize)"])
        }
        for layer in layers {
            rows.append([layer.name, layer.typeName,
                         layer.inputs.map(\.name).joined(separator: ", "),
                         layer.outputs.map(\.name).joined(separator: ", "),
                         layer.outputs.map { "\($0.perSampleShape)" }.joined(separator: " "),
                         "\(layer.parameters.reduce(0) { $0 + $1.value.count })"])
        }
        var text = Table.render(rows)
        let denseParams = parameters.reduce(0) { $0 + $1.value.count }
        let stateCopies = optimizer.params.stateCopies
        let activationBytes = layers.flatMap(\.outputs).reduce(0) { $0 + 2 * $1.value.byteCount }
        text += "\nmemory plan (batch \(maxBatch), backend \(backend.name)):\n"
        text += "  dense weights: \(denseParams) parameters, \(Table.bytes(denseParams * 4 * (2 + stateCopies))) with gradients and optimizer states\n"
        text += "  activations and gradients: \(Table.bytes(activationBytes))\n"
        for (table, _, _) in embeddings {
            let bytesPerRow = (1 + table.optimizer.stateCount) * 4 * table.vecSize
            let used = table.size
            text += "  embedding '\(table.name)': \(table.capacity) rows × \(table.vecSize), \(Table.bytes(table.capacity * bytesPerRow)) (\(used) keys in use; workspace_size_per_gpu_in_mb for the rows in use: \(max(1, (used * bytesPerRow + (1 << 20) - 1) >> 20)))\n"
        }
        return text
    }
}
