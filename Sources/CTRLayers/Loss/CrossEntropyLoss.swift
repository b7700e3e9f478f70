import CTRCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `CrossEntropyLoss`: softmax cross-entropy over C ≥ 2 classes with the softmax fused, inputs
/// `[logits (B, C), label (B, C)]` or, for two classes, `[logits (B, 2), label (B, 1)]`.
///
/// With `a = softmax(x)` (the row maximum subtracted, so no exponent overflows), a `(B, C)` label
/// row `y` (one-hot, or soft class weights) gives `ℓ = −Σ_k y_k·log a_k` and
/// `dL/dx_k = (a_k·Σ_j y_j − y_k)·scaler/B` (`a_k − y_k` for a distribution); a `(B, 1)` label
/// is the class index, class 1 where `y ≥ 0.5` (HugeCTR's kernel), giving `ℓ = −log a_c` and
/// `dL/dx_k = (a_k − [k = c])·scaler/B`. The loss is the batch mean of ℓ (layer math §8.2).
/// Evaluation writes the probabilities `a` into `predictions`; the task's AUC is that of class 1
/// for two classes, the mean one-vs-rest AUC over the classes otherwise.
///
/// ```swift
/// model.add(DenseLayer(.innerProduct, bottomNames: ["fc3"], topNames: ["fc4"], numOutput: 2))
/// model.add(DenseLayer(.crossEntropyLoss, bottomNames: ["fc4", "label"], topNames: ["loss"]))
/// ```
///
/// HugeCTR: `CrossEntropyLoss`, two classes only; its builder demands a `(B, 2)` label but the
/// kernel reads element b of the flattened label as sample b's class (`hugectr-layer-math.md`
/// §8.2), and it omits the maximum. SwiftCTR reads each sample's own label row.
public final class CrossEntropyLoss: LossLayer, Loss, RegisteredLayer {
    var classes: Int { inputs[0].shape.last }

    public var aucColumns: [(prediction: Int, label: Int)] {
        classes == 2 ? [(1, label.shape.last == 1 ? 0 : 1)] : (0..<classes).map { ($0, $0) }
    }

    public func forward(_ context: StepContext) {
        let batch = context.batch, logits = inputs[0]
        backend.softmaxCrossEntropy(logits: logits.value, labels: label.value, labelWidth: label.shape.last,
                                    classes: classes, grad: logits.grad, count: batch, rows: batch,
                                    gradScale: scaler / Float(max(batch, 1)), loss: lossValue)
        if !context.training {
            backend.softmaxRows(logits.value, rows: batch, width: classes, into: predictions)
        }
    }

    // MARK: registry

    public static let layerType = LayerType.crossEntropyLoss
    public static func mixedPrecisionRefusal(_ config: DenseLayer) -> String? { fp32Only }
    public static let parameterNames = regularizerParameterNames

    public static func make(_ config: DenseLayer, inputs: [Variable], context: LayerBuildContext) throws -> any Layer {
        let (check, regularization) = try checkBottoms(config, inputs)
        let logits = inputs[0], label = inputs[1], classes = logits.perSampleShape.dims.last ?? 0
        guard logits.perSampleShape.rank == 1, classes >= 2 else {
            throw check.error("expects logits (batch, C) with C ≥ 2 classes, found '\(logits.name)' \(logits.perSampleShape). End the network with InnerProduct(num_output: <classes>).")
        }
        let labelShape = label.perSampleShape
        guard labelShape == [classes] || (classes == 2 && labelShape == [1]) else {
            throw check.error("label '\(label.name)' \(labelShape) does not fit logits '\(logits.name)' \(logits.perSampleShape): give one label column per class (batch, \(classes)) (one-hot or class weights)\(classes == 2 ? ", or the class index (batch, 1)" : ""). Set the Input's label dim to \(classes).")
        }
        return CrossEntropyLoss(name: config.name, logits: logits, label: label, regularization: regularization,
                                backend: context.backend)
    }

    public static var conformanceCases: [ConformanceCase] {
        let config = DenseLayer(.crossEntropyLoss, bottomNames: ["logits", "label"], topNames: ["loss"])
        /// The batch mean of `Σ_k y_k·(lse − x_k)` over rows of `classes` (a class index per row
        /// when the label has one column).
        func crossEntropy(_ name: String, classes: Int, label: ConformanceInput, training: Bool = true) -> ConformanceCase {
            ConformanceCase("CrossEntropyLoss \(name)", config,
                            inputs: [ConformanceInput([classes]), label], batch: 6, training: training) { r in
                let x = r.inputs[0], y = r.inputs[1], width = label.shape[0]
                let total = (0..<r.batch).reduce(0.0) { total, b in
                    let row = x[b * classes..<(b + 1) * classes], m = row.max()!
                    let lse = m + log(row.reduce(0) { $0 + exp($1 - m) })
                    guard width == classes else { return total + lse - row[row.startIndex + (y[b] < 0.5 ? 0 : 1)] }
                    return total + (0..<classes).reduce(0) { $0 + y[b * classes + $1] * (lse - row[row.startIndex + $1]) }
                }
                return [[total / Double(r.batch)]]
            }
        }
        let index = ConformanceInput([1], values: .probabilities, differentiable: false)
        return [
            crossEntropy("2 classes, one-hot labels", classes: 2,
                         label: ConformanceInput([2], values: .oneHot, differentiable: false)),
            crossEntropy("2 classes, class-index labels (batch, 1)", classes: 2, label: index),
            crossEntropy("5 classes, soft labels", classes: 5,
                         label: ConformanceInput([5], values: .probabilities, differentiable: false)),
            crossEntropy("3 classes, one-hot labels, evaluation", classes: 3,
                         label: ConformanceInput([3], values: .oneHot, differentiable: false), training: false),
        ]
    }
}
