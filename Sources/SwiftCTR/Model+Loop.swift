/// The low-level loop of HugeCTR's `single_node_test.py` (API spec §1.13): the model reads its own
/// batches, `train()` runs one iteration, `eval()` adds one evaluation batch to the running
/// metrics and `getEvalMetrics()` ends the pass. With the solver's seed and schedule it trains
/// exactly as `fit` does.
///
/// ```swift
/// try model.compile()
/// try model.startDataReading()
/// for i in 0..<2000 {
///     try model.train()
///     if i % 100 == 0 { print("iter \(i) loss \(model.currentLoss)") }
///     if i % 1000 == 0 && i != 0 {
///         for _ in 0..<solver.maxEvalBatches { try model.eval() }
///         print(try model.getEvalMetrics())        // [("AUC", 0.79…)]
///     }
/// }
/// ```
extension Model {
    /// Starts the training and evaluation readers (HugeCTR's `start_data_reading`), where the
    /// last `fit` or `train()` left the data, or where `resume(from:)`'s snapshot stood.
    public func startDataReading() throws {
        _ = try compiled()
        stopReaders()
        if let resumePosition {
            position = resumePosition
            self.resumePosition = nil
        }
        trainReader = try makeTrainReader()
        evalReader = try makeEvalReader()
    }

    /// One training iteration on the next batch of the training data (HugeCTR's `train()`), with
    /// the rate `setLearningRate` gave, else the scheduler's next one. Returns false, having
    /// trained nothing, when the data of an epoch ends (`repeatDataset` false); the next call
    /// starts the next pass. An incomplete batch (the last of an epoch, or of each pass over a Raw
    /// file) is passed over when `dropIncompleteBatch` is on.
    /// Needs `startDataReading()` first.
    @discardableResult
    public func train() throws -> Bool {
        let graph = try running()
        guard let reader = trainReader else {
            throw SwiftCTRError(.config, "train(): the data readers are not started; call startDataReading() first (fit starts and stops its own).")
        }
        let waitStart = ContinuousClock.now
        var next = try reader.next()
        while let batch = next, solver.dropIncompleteBatch, batch.count < solver.batchsize {
            position.trainBatches += 1
            next = try reader.next()
        }
        readerWaitSeconds += (ContinuousClock.now - waitStart).inSeconds
        guard let batch = next else {
            guard !solver.repeatDataset else {
                throw SwiftCTRError(.data, "training data ended although repeat_dataset is true.")
            }
            reader.stop()
            position.epoch += 1
            position.trainBatches = 0
            trainReader = try makeTrainReader()
            return false
        }
        position.trainBatches += 1
        let lr = setRate ?? scheduler.next()
        try trainStep(graph, batch: batch, lr: lr, iteration: position.iteration + 1)
        try checkDevices()
        step += 1
        position.iteration += 1
        try checkLoss(iteration: position.iteration, batch: batch, lr: lr)
        return true
    }

    /// Runs the forward pass on the next evaluation batch and adds it to the metrics of the pass
    /// in progress (HugeCTR's `eval()`). Returns false, having read nothing, at the end of the
    /// evaluation data (never when `repeatDataset` is true); the next call starts over.
    @discardableResult
    public func eval() throws -> Bool {
        try evaluateNextBatch()
    }

    /// Ends the evaluation pass of the `eval()` calls since the last call (HugeCTR's
    /// `get_eval_metrics`): the metrics the solver's `metricsSpec` lists, by HugeCTR's names in
    /// its order, of those SwiftCTR computes (`"AUC"`, `"AverageLoss"`). Throws when no batch was
    /// evaluated.
    ///
    /// ```swift
    /// try model.getEvalMetrics()   // [("AUC", 0.7931)] with the default metricsSpec [.auc: 1]
    /// ```
    public func getEvalMetrics() throws -> [(String, Double)] {
        reported(try finishEvaluation())
    }

    /// The metrics the solver's `metricsSpec` lists, by HugeCTR's names in its order, of those
    /// SwiftCTR computes.
    func reported(_ metrics: EvalMetrics) -> [(String, Double)] {
        solver.metricsSpec.keys.sorted().compactMap { type in
            switch type {
            case .auc: (type.rawValue, metrics.auc)
            case .averageLoss: (type.rawValue, metrics.averageLoss)
            case .hitRate, .ndcg, .smape: nil
            }
        }
    }

    // MARK: shared with fit and evaluate

    /// The training reader at `position`.
    func makeTrainReader() throws -> any BatchSource {
        if readerParams.dataReaderType == .raw, solver.dropIncompleteBatch, readerParams.numSamples < solver.batchsize {
            throw SwiftCTRError(.config, "the Raw training file holds \(readerParams.numSamples) samples, fewer than one batch of \(solver.batchsize), and drop_incomplete_batch drops that partial batch; lower batchsize or set dropIncompleteBatch: false.")
        }
        return try makeReader(list: readerParams.source[0], batch: solver.batchsize, repeat: solver.repeatDataset,
                       skip: position.trainBatches)
    }

    private func makeEvalReader() throws -> any BatchSource {
        try makeReader(list: readerParams.evalSource, batch: solver.batchsizeEval, repeat: solver.repeatDataset,
                       skip: position.evalBatches, numSamples: readerParams.evalNumSamples)
    }

    /// One evaluation batch into `evalSums` and the graph's AUC histograms; false, reading
    /// nothing, at the end of the evaluation data, where the next call starts over.
    func evaluateNextBatch() throws -> Bool {
        let graph = try running()
        if evalReader == nil { evalReader = try makeEvalReader() }
        guard let batch = try evalReader!.next() else {
            evalReader = nil
            position.evalBatches = 0
            lastEvaluated = nil
            return false
        }
        position.evalBatches += 1
        let loss = try graph.evaluate(batch: batch)
        lastEvaluated = batch
        lastPass = (.evaluate, batch.count, solver.batchsizeEval)
        try checkDevices()
        evalSums.add(loss: loss, samples: batch.count)
        return true
    }

    /// The metrics of the pass in `evalSums` (AUC over several tasks: the mean of their AUCs);
    /// resets it and the AUC histograms.
    func finishEvaluation() throws -> EvalMetrics {
        let graph = try running()
        let sums = evalSums
        evalSums = EvaluationSums()
        let tasks = graph.evaluationAUCs()
        guard sums.samples > 0 else {
            throw SwiftCTRError(.data, "evaluation has no samples: no batch of '\(readerParams.evalSource)' was evaluated since the last metrics. Call eval() first; when it returns false at once, the evaluation files hold no samples.")
        }
        let auc = tasks.count == 1 ? tasks[0].auc : tasks.reduce(0) { $0 + $1.auc } / Double(tasks.count)
        return EvalMetrics(auc: auc, averageLoss: sums.averageLoss, samples: sums.samples,
                           taskAUCs: Dictionary(uniqueKeysWithValues: tasks.map { ($0.label, $0.auc) }))
    }
}
