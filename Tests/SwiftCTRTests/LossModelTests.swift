import CTRCore
import Foundation
@testable import SwiftCTR
import Testing

// Losses inside a model: L1/L2 regularizers checked by central differences of the whole model's
// loss (regularizer term included) over every dense weight; multi-task models (label columns by
// sorted name, loss weights, per-task AUC, the graph checks on labels).

// MARK: helpers

private let oneSlot = DataReaderSparseParam("data1", 1, true, 1)
private let unusedReader = DataReaderParams(dataReaderType: .norm, source: ["unused_train.txt"],
                                            evalSource: "unused_eval.txt", checkType: .none)

/// A batch of `count` samples: `denseDim` N(0, 1) features, `labelDim` labels per sample from
/// `labels` (0/1 by default), one key per sample.
private func batch(_ count: Int, denseDim: Int, labelDim: Int = 1, seed: UInt64,
                   labels: ((Int, Int) -> Float)? = nil) -> Batch {
    var rng = CounterRNG(seed: seed, stream: 5)
    let dense = (0..<count * denseDim).map { _ in Float(rng.nextNormal()) }
    let values = (0..<count * labelDim).map { i in labels?(i / labelDim, i % labelDim) ?? (rng.nextUniform() < 0.4 ? 1 : 0) }
    return Batch(count: count, labels: values, dense: dense,
                 sparse: [SparseBatch(rowOffsets: (0...count).map(Int64.init), keys: (0..<count).map(Int64.init))])
}

/// dense (4) → InnerProduct (3) → MultiCross (1 layer) → WeightMultiply [3, 2] → InnerProduct (1)
/// → BCE with `regularizer`: every kind of weight gradient (accumulated and, in HugeCTR, assigned).
private func regularizedModel(_ regularizer: Regularization?, batchSize: Int, scaler: Float = 1) throws -> Model {
    let solver = Solver(seed: 3, batchsizeEval: batchSize, batchsize: batchSize, scaler: scaler)
    let model = try Model(solver, unusedReader, CreateOptimizer(optimizerType: .sgd))
    model.printsProgress = false
    model.add(Input(labelDim: 1, labelName: "label", denseDim: 4, denseName: "dense", dataReaderSparseParamArray: [oneSlot]))
    model.add(DenseLayer(.innerProduct, bottomNames: ["dense"], topNames: ["fc1"], numOutput: 3))
    model.add(DenseLayer(.multiCross, bottomNames: ["fc1"], topNames: ["cross"], numLayers: 1))
    model.add(DenseLayer(.weightMultiply, bottomNames: ["cross"], topNames: ["wm"], weightDims: [3, 2]))
    model.add(DenseLayer(.innerProduct, bottomNames: ["wm"], topNames: ["fc2"], numOutput: 1))
    model.add(DenseLayer(.binaryCrossEntropyLoss, bottomNames: ["fc2", "label"], topNames: ["loss"],
                         useRegularizer: regularizer != nil, regularizerType: regularizer?.type ?? .l1,
                         lambda: regularizer?.lambda ?? 0))
    try model.compile()
    return model
}

/// Every dense weight of a compiled model.
private func weights(_ model: Model) -> [Variable] { model.graph!.parameters }

/// Sets the weights, trains one step on `batch` and returns the step's loss and weight gradients
/// (the update that follows changes the weights, which the next call sets again).
private func step(_ model: Model, _ values: [[Float]], _ batch: Batch) throws -> (loss: Float, grads: [[Float]]) {
    for (w, v) in zip(weights(model), values) { TS.set(w.value, v) }
    try model.train(batch: batch)
    return (model.currentLoss, weights(model).map { TS.floats($0.grad) })
}

/// Weights N(0, 0.5²) kept 0.05 away from 0, so that central differences never cross L1's kink.
private func startingWeights(_ model: Model) -> [[Float]] {
    weights(model).enumerated().map { k, w in TS.awayFromZero(w.value.count, seed: 70 + UInt64(k), gap: 0.1).map { $0 / 2 } }
}

/// dense (4) → fc (8) → ReLU, then one tower per task: InnerProduct `fc<i>` (`widths[i]`) → loss
/// `loss<i>` of type `losses[i]` reading label `tasks[i]`; labels as `Input(labelDims:labelNames:)`
/// lists them.
private func multiTaskModel(labelDims: [Int], labelNames: [String], tasks: [String], widths: [Int], losses: [LayerType],
                            batchSize: Int, reader: DataReaderParams = unusedReader, lr: Float = 0.001,
                            lossWeights: [Float]? = nil) throws -> Model {
    let solver = Solver(seed: 5, lr: lr, maxEvalBatches: 4, batchsizeEval: batchSize, batchsize: batchSize)
    let model = try Model(solver, reader, CreateOptimizer(optimizerType: .adam))
    model.printsProgress = false
    model.add(Input(labelDims: labelDims, labelNames: labelNames, denseDim: 4, denseName: "dense",
                    dataReaderSparseParamArray: [oneSlot]))
    model.add(DenseLayer(.innerProduct, bottomNames: ["dense"], topNames: ["fc"], numOutput: 8))
    model.add(DenseLayer(.relu, bottomNames: ["fc"], topNames: ["relu"]))
    for (i, task) in tasks.enumerated() {
        model.add(DenseLayer(.innerProduct, bottomNames: ["relu"], topNames: ["fc\(i)"], numOutput: widths[i]))
        model.add(DenseLayer(losses[i], bottomNames: ["fc\(i)", task], topNames: ["loss\(i)"]))
    }
    if let lossWeights {
        try model.compile(lossNames: tasks, lossWeights: lossWeights)
    } else {
        try model.compile()
    }
    return model
}

/// The message of the `SwiftCTRError` that building `make` throws (recorded as an issue if none).
private func buildError(sourceLocation: SourceLocation = #_sourceLocation, _ make: () throws -> Model) -> String {
    do {
        _ = try make()
        Issue.record("expected a SwiftCTRError, but the model compiled", sourceLocation: sourceLocation)
    } catch let error as SwiftCTRError {
        return error.message
    } catch {
        Issue.record("expected a SwiftCTRError, got \(error)", sourceLocation: sourceLocation)
    }
    return ""
}

/// Two planted tasks over 4 N(0, 1) dense features, written as Norm files: label "a" is
/// `x0 + x1 > 0`, label "b" is `x2 − x3 > 0` (each flipped with probability 0.05); data column 0 is
/// "a" and column 1 is "b". Returns the reader of the train and eval lists.
private func twoTaskData(in folder: String, train: Int, eval: Int) throws -> DataReaderParams {
    var rng = CounterRNG(seed: 9, stream: 1)
    for (split, count) in [("train", train), ("eval", eval)] {
        let writer = try NormWriter(path: "\(folder)/\(split).bin", labelDim: 2, denseDim: 4, slotNum: 1, i64Keys: false,
                                    check: .sum)
        for i in 0..<count {
            let x = (0..<4).map { _ in Float(rng.nextNormal()) }
            func label(_ signal: Float) -> Float { (signal > 0) != (rng.nextUniform() < 0.05) ? 1 : 0 }
            try writer.append(labels: [label(x[0] + x[1]), label(x[2] - x[3])], dense: x, slots: [[Int64(i % 10)]])
        }
        try writer.finish()
        try FileList.write(["\(folder)/\(split).bin"], to: "\(folder)/\(split)_list.txt")
    }
    return DataReaderParams(dataReaderType: .norm, source: ["\(folder)/train_list.txt"], evalSource: "\(folder)/eval_list.txt",
                            checkType: .sum)
}

struct RegularizerCase: Sendable, CustomTestStringConvertible {
    let type: Regularizer
    let lambda: Float
    let scaler: Float
    var testDescription: String { "\(type.rawValue) λ = \(lambda), scaler \(scaler)" }
}

// MARK: tests

@Suite struct LossModelTests {
    /// The model's loss is the data loss plus `(λ/B)·Σ|w|` or `(λ/(2B))·Σw²` over all 34 dense
    /// weights, and each weight's gradient (divided by the scaler) is the loss's central difference,
    /// also for MultiCross's bias and WeightMultiply's weight, whose HugeCTR backward overwrites
    /// the regularizer's share.
    @Test(arguments: [
        RegularizerCase(type: .l1, lambda: 1, scaler: 1), RegularizerCase(type: .l2, lambda: 2, scaler: 1),
        RegularizerCase(type: .l2, lambda: 0.5, scaler: 8),
    ])
    func regularizedGradientsAreTheLossDifferences(_ c: RegularizerCase) throws {
        let b = 4, data = batch(b, denseDim: 4, seed: 21)
        let model = try regularizedModel(Regularization(c.type, lambda: c.lambda), batchSize: b, scaler: c.scaler)
        let plain = try regularizedModel(nil, batchSize: b, scaler: c.scaler)
        let w = startingWeights(model)
        #expect(w.reduce(0) { $0 + $1.count } == 34)
        let (loss, grads) = try step(model, w, data)
        let (plainLoss, plainGrads) = try step(plain, w, data)

        let flat = w.joined().map(Double.init)
        let term = Double(c.lambda) / Double(b) * flat.reduce(0) { $0 + (c.type == .l1 ? abs($1) : $1 * $1 / 2) }
        #expect(abs(Double(loss - plainLoss) - term) <= 1e-5 * max(1, term), "regularizer term \(loss - plainLoss) vs \(term)")
        for k in w.indices {
            let share = zip(grads[k], plainGrads[k]).map { Double($0 - $1) / Double(c.scaler) }
            let expected = w[k].map { Double(c.lambda) / Double(b) * (c.type == .l1 ? ($0 > 0 ? 1 : -1) : Double($0)) }
            TS.expectClose(share.map(Float.init), expected, rtol: 1e-4, atol: 1e-5, "regularizer gradient of \(weights(model)[k].name)")
        }

        let h: Float = 1e-2
        var failures: [String] = []
        for k in w.indices {
            for i in w[k].indices {
                var plus = w, minus = w
                plus[k][i] += h
                minus[k][i] -= h
                let numeric = Double(try step(model, plus, data).loss - step(model, minus, data).loss) / Double(2 * h)
                let analytic = Double(grads[k][i]) / Double(c.scaler)
                if !(abs(analytic - numeric) <= 2e-3 + 1e-2 * abs(numeric)) {
                    failures.append("\(weights(model)[k].name)[\(i)] analytic \(analytic) vs numeric \(numeric)")
                }
            }
        }
        #expect(failures.isEmpty, "finite differences disagree: \(failures.prefix(4).joined(separator: "; "))")
    }

    /// An evaluation step's loss includes the term too (no gradient is touched).
    @Test func evaluationLossIncludesTheRegularizer() throws {
        let b = 4, data = batch(b, denseDim: 4, seed: 22)
        let model = try regularizedModel(Regularization(.l2, lambda: 3), batchSize: b)
        let w = startingWeights(model)
        let trained = try step(model, w, data)
        for (v, values) in zip(weights(model), w) { TS.set(v.value, values) }
        let evaluated = try model.graph!.evaluate(batch: data)
        #expect(abs(evaluated - trained.loss) <= 1e-6, "evaluation \(evaluated) vs training \(trained.loss)")
        #expect(weights(model).map { TS.floats($0.grad) } == trained.grads, "evaluation leaves the gradients alone")
    }

    @Test func negativeLambdaIsAnError() throws {
        let model = try Model(Solver(seed: 1, batchsizeEval: 4, batchsize: 4), unusedReader, CreateOptimizer())
        model.add(Input(labelDim: 1, labelName: "label", denseDim: 4, denseName: "dense", dataReaderSparseParamArray: [oneSlot]))
        model.add(DenseLayer(.innerProduct, bottomNames: ["dense"], topNames: ["fc"], numOutput: 1))
        model.add(DenseLayer(.binaryCrossEntropyLoss, bottomNames: ["fc", "label"], topNames: ["loss"], useRegularizer: true,
                             lambda: -0.1))
        let error = #expect(throws: SwiftCTRError.self) { try model.compile() }
        #expect(error?.message.contains("lambda must be finite and ≥ 0 when use_regularizer is true, found -0.1") == true)
    }

    // MARK: multi-task

    /// Label columns go to the labels in sorted name order: "alpha" (2 columns) takes data columns
    /// 0–1 and "zeta" column 2, although the Input lists "zeta" first.
    @Test func labelColumnsFollowSortedNames() throws {
        let model = try multiTaskModel(labelDims: [1, 2], labelNames: ["zeta", "alpha"], tasks: ["zeta", "alpha"],
                                       widths: [1, 2], losses: [.binaryCrossEntropyLoss, .multiCrossEntropyLoss],
                                       batchSize: 3)
        let data = batch(3, denseDim: 4, labelDim: 3, seed: 31) { sample, column in Float(column + 1) / 4 + Float(sample) / 100 }
        try model.train(batch: data)
        let labels = model.graph!.labels
        #expect(labels.map(\.name) == ["alpha", "zeta"])
        #expect(TS.floats(labels[0].value, 6) == [0.25, 0.5, 0.26, 0.51, 0.27, 0.52])
        #expect(TS.floats(labels[1].value, 3) == [0.75, 0.76, 0.77])
        #expect(model.summary().contains("alpha, zeta, dense"))
    }

    /// The training loss is `Σ wᵢ·lossᵢ`, and each task's logit gradient carries its weight.
    @Test func lossWeightsScaleTheLossAndTheGradients() throws {
        let model = try multiTaskModel(labelDims: [1, 1], labelNames: ["b", "a"], tasks: ["a", "b"], widths: [1, 1],
                                       losses: [.binaryCrossEntropyLoss, .binaryCrossEntropyLoss], batchSize: 4,
                                       lossWeights: [0.5, 2])
        let data = batch(4, denseDim: 4, labelDim: 2, seed: 32)
        try model.train(batch: data)
        let graph = model.graph!
        #expect(graph.lossWeights == [0.5, 2])
        let perTask = graph.losses.map { $0.loss(on: TS.cpu) }
        #expect(abs(model.currentLoss - (0.5 * perTask[0] + 2 * perTask[1])) <= 1e-6)
        for (loss, weight) in zip(graph.losses, [0.5, 2.0]) {
            let logits = loss.inputs[0], labels = TS.floats(loss.label.value, 4)
            let expected = zip(TS.floats(logits.value, 4), labels).map {
                weight * (ConformanceReference.sigmoid(Double($0)) - Double($1)) / 4
            }
            TS.expectClose(TS.floats(logits.grad, 4), expected, rtol: 1e-5, atol: 1e-7, "\(loss.name) gradient × \(weight)")
        }
    }

    /// Two tasks learn on the CPU: the displayed loss falls and each evaluation reports both
    /// tasks' AUCs (by label name, also in the metrics JSON) and their mean.
    @Test func twoTaskModelTrainsAndReportsEachTasksAUC() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swiftctr-two-task-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let reader = try twoTaskData(in: folder, train: 8000, eval: 1024)
        let model = try multiTaskModel(labelDims: [1, 1], labelNames: ["b", "a"], tasks: ["a", "b"], widths: [1, 1],
                                       losses: [.binaryCrossEntropyLoss, .binaryCrossEntropyLoss], batchSize: 64,
                                       reader: reader, lr: 0.01, lossWeights: [1, 0.5])
        let records = try model.fit(maxIter: 120, display: 20, evalInterval: 60)
        let losses = records.filter { $0.evalAUC == nil }.map(\.loss)
        #expect(losses.count == 6)
        #expect(losses.last! < 0.6 * losses.first!, "displayed losses \(losses)")
        let evaluations = records.filter { $0.evalAUC != nil }
        #expect(evaluations.count == 2)
        let last = try #require(evaluations.last), tasks = try #require(last.evalTaskAUCs)
        #expect(tasks.keys.sorted() == ["a", "b"])
        #expect(tasks["a"]! > 0.85 && tasks["b"]! > 0.85, "task AUCs \(tasks)")
        #expect(abs(last.evalAUC! - (tasks["a"]! + tasks["b"]!) / 2) < 1e-12)
        let json = String(decoding: try JSONEncoder().encode(last), as: UTF8.self)
        #expect(json.contains("\"eval_task_aucs\""))
    }

    @Test func multiTaskGraphErrors() {
        let bce = LayerType.binaryCrossEntropyLoss
        #expect(buildError {
            try multiTaskModel(labelDims: [1, 1], labelNames: ["a", "b"], tasks: ["a"], widths: [1], losses: [bce], batchSize: 4)
        }.contains("label 'b' is read by no loss layer"))
        #expect(buildError {
            let model = try multiTaskModel(labelDims: [1, 1], labelNames: ["a", "b"], tasks: ["a", "b"], widths: [1, 1],
                                           losses: [bce, bce], batchSize: 4)
            try model.compile(lossNames: ["a", "c"], lossWeights: [1, 2])
            return model
        }.contains("loss name 'c' is not a label of the Input"))
        #expect(buildError {
            try multiTaskModel(labelDims: [1, 1], labelNames: ["a", "b"], tasks: ["a", "b"], widths: [1, 1], losses: [bce, bce],
                               batchSize: 4, lossWeights: [1])
        }.contains("2 loss names but 1 loss weights"))
        #expect(buildError {
            try multiTaskModel(labelDims: [1], labelNames: ["a", "b"], tasks: ["a", "b"], widths: [1, 1], losses: [bce, bce],
                               batchSize: 4)
        }.contains("label_dims has 1 entries for 2 label_names"))
        #expect(buildError {
            try multiTaskModel(labelDims: [1, 1], labelNames: ["a", "a"], tasks: ["a", "a"], widths: [1, 1], losses: [bce, bce],
                               batchSize: 4)
        }.contains("label and dense names must be distinct and non-empty"))
        #expect(buildError {
            try multiTaskModel(labelDims: [1, 1], labelNames: ["a", "b"], tasks: ["a", "a", "b"], widths: [1, 1, 1],
                               losses: [bce, bce, bce], batchSize: 4)
        }.contains("label 'a' is read by 2 loss layers (loss0, loss1)"))
        #expect(buildError {
            try multiTaskModel(labelDims: [2, 1], labelNames: ["a", "b"], tasks: ["a", "b"], widths: [1, 1], losses: [bce, bce],
                               batchSize: 4)
        }.contains("label (batch, 1)], found 'fc0' (1) and 'a' (2)"))
    }
}
