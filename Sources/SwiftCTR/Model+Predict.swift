import Foundation

/// Predictions of a trained model (the offline inference of API spec §1.15 and HugeCTR's
/// `export_predictions`): probabilities in evaluation mode, per task, with the samples' labels.
///
/// ```swift
/// try model.compile()
/// try model.loadWeights(fromSnapshot: "out/dcn")          // or loadDenseWeights + loadSparseWeights
/// let result = try model.predict(fileList: "data/eval_list.txt")
/// print(result.tasks[0].auc, result.tasks[0].logLoss)
/// ```
extension Model {
    /// The probabilities of `batch` (forward only, dropout off, BatchNorm on its running
    /// statistics), per task; throws when the batch does not fit the `Input` or the batch size.
    public func predict(batch: Batch) throws -> Predictions {
        let graph = try running()
        try batch.validate(for: input!, maxBatch: graph.maxBatch, i64Keys: solver.i64InputKey, method: "Model.predict(batch:)")
        let result = try graph.predict(batch: batch)
        try checkDevices()
        lastEvaluated = batch
        return result
    }

    /// The probabilities of every sample of the Norm files `fileList` names, in list order (one
    /// reader, batches of `batchsizeEval`), read with the solver's key width and the reader's
    /// check type; at most `maxBatches` batches when given. Unknown keys read as zero vectors.
    public func predict(fileList: String, maxBatches: Int? = nil) throws -> Predictions {
        let graph = try running()
        let reader = try readerParams.format(numSamples: readerParams.evalNumSamples)
            .open(source: fileList, layout: input!.layout, i64Keys: solver.i64InputKey, batchSize: solver.batchsizeEval, repeat: false,
                  pool: backend.hostBufferPool)
        defer { reader.stop() }
        var all = Predictions(tasks: [])
        var batches = 0
        while batches < (maxBatches ?? .max), let batch = try reader.next() {
            let part = try graph.predict(batch: batch)
            try checkDevices()
            lastEvaluated = batch
            if all.tasks.isEmpty {
                all.tasks = part.tasks
            } else {
                for (t, task) in part.tasks.enumerated() {
                    all.tasks[t].probabilities += task.probabilities
                    all.tasks[t].labels += task.labels
                }
            }
            all.samples += batch.count
            batches += 1
        }
        guard all.samples > 0 else {
            throw SwiftCTRError(.data, "predict: the files of '\(fileList)' hold no samples; give a file list whose Norm files hold records.")
        }
        return all
    }

    /// Appends the probabilities and the labels of the last batch evaluated (by `eval()`,
    /// `evaluate`, `fit`'s evaluations or `predict`) to two text files, each value followed by a
    /// space (HugeCTR's `export_predictions`, single-label models only). Returns false, writing
    /// nothing, when there is no such batch (the last `eval()` found the end of the data).
    @discardableResult
    public func exportPredictions(outputPredictionFile: String, outputLabelFile: String) throws -> Bool {
        let graph = try compiled()
        guard graph.losses.count == 1 else {
            throw SwiftCTRError(.config, "exportPredictions: writes the predictions of a model with one label, but this one has \(graph.losses.count) (\(graph.losses.map(\.label.name).joined(separator: ", "))). Use predict(fileList:), which returns every task.")
        }
        guard let batch = lastEvaluated else { return false }
        let predictions = try running().lastProbabilities(batch)
        try Self.append(predictions, to: outputPredictionFile)
        try Self.append(batch.labels.array, to: outputLabelFile)
        return true
    }

    /// Appends `values` as text, each followed by a space, creating the file when it is missing.
    private static func append(_ values: [Float], to path: String) throws {
        let text = values.map { "\($0) " }.joined()
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw SwiftCTRError(.io, "exportPredictions: cannot create '\(path)'. Check that its folder exists and is writable.")
            }
        }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw SwiftCTRError(.io, "exportPredictions: cannot open '\(path)' for appending. Check its permissions.")
        }
        defer { try? handle.close() }
        do {
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(text.utf8))
        } catch {
            throw SwiftCTRError(.io, "exportPredictions: cannot append to '\(path)': \(error.localizedDescription)")
        }
    }
}
