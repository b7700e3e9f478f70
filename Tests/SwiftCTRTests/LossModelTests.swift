import CTRCore
import Foundation
@testable import SwiftCTR
import Testing

// Losses inside a model: L1/L2 regularizers checked by central differences of the whole model's
// loss (regularizer term included) over every dense weight.

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
}
