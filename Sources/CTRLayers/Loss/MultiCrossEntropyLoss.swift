import CTRCore

/// `MultiCrossEntropyLoss`: L binary labels per sample, each a sigmoid cross-entropy with its own
/// weight, inputs `[logits (B, L), label (B, L)]`.
///
/// Element (b, j) with `y ≥ −0.5` contributes `w_j·BCE(x, y)` and gets the gradient
/// `w_j·(σ(x) − y)·scaler/(B·L)`; a label below −0.5 marks a missing label (loss and gradient 0).
/// The loss is the sum over the batch divided by `B·L`, ignored elements included in the count
/// (layer math §8.3). `w` is `target_weight_vec` (L entries; empty means all 1). Evaluation
/// writes σ(x) into `predictions`; the task's AUC is the mean of the L labels' AUCs, each over
/// its labels that are not ignored.
///
/// ```swift
/// model.add(DenseLayer(.innerProduct, bottomNames: ["fc3"], topNames: ["fc4"], numOutput: 3))
/// model.add(DenseLayer(.multiCrossEntropyLoss, bottomNames: ["fc4", "label"], topNames: ["loss"],
///                      targetWeightVec: [1, 0.5, 0.5]))
/// ```
///
/// HugeCTR: `MultiCrossEntropyLoss`, where an empty `target_weight_vec` is an error (the book's
/// example omits it) and the probabilities overflow to NaN for logits above ~88.
public final class MultiCrossEntropyLoss: LossLayer, Loss, RegisteredLayer {
    /// `target_weight_vec`, one weight per label column.
    let targetWeights: Tensor
    var width: Int { inputs[0].shape.last }

    public var aucColumns: [(prediction: Int, label: Int)] { (0..<width).map { ($0, $0) } }

    init(name: String, logits: Variable, label: Variable, targetWeights: [Float], regularization: Regularization?,
         backend: any Backend) {
        self.targetWeights = backend.tensor(targetWeights, [targetWeights.count])
        super.init(name: name, logits: logits, label: label, regularization: regularization, backend: backend)
    }

    public func forward(_ context: StepContext) {
        let batch = context.batch, logits = inputs[0]
        backend.multiCrossEntropy(logits: logits.value, labels: label.value, weights: targetWeights, width: width,
                                  grad: logits.grad, count: batch, rows: batch,
                                  gradScale: scaler / Float(max(batch * width, 1)), loss: lossValue)
        if !context.training {
            backend.sigmoid(logits.value, into: predictions, count: batch * width)
        }
    }

    // MARK: registry

    public static let layerType = LayerType.multiCrossEntropyLoss
    public static func mixedPrecisionRefusal(_ config: DenseLayer) -> String? { fp32Only }
    public static let parameterNames = ["target_weight_vec"] + regularizerParameterNames

    public static func make(_ config: DenseLayer, inputs: [Variable], context: LayerBuildContext) throws -> any Layer {
        let (check, regularization) = try checkBottoms(config, inputs)
        let logits = inputs[0], label = inputs[1]
        guard logits.perSampleShape.rank == 1, label.perSampleShape == logits.perSampleShape else {
            throw check.error("expects bottoms [logits (batch, L), label (batch, L)] of one shape, found '\(logits.name)' \(logits.perSampleShape) and '\(label.name)' \(label.perSampleShape). Give the last InnerProduct num_output = the Input's label dim.")
        }
        let width = logits.shape.last, weights = config.targetWeightVec
        guard weights.isEmpty || weights.count == width else {
            throw check.error("target_weight_vec has \(weights.count) entries for \(width) labels; give one weight per label (or none for all 1).")
        }
        guard weights.allSatisfy(\.isFinite) else {
            throw check.error("target_weight_vec must hold finite weights, found \(weights).")
        }
        return MultiCrossEntropyLoss(name: config.name, logits: logits, label: label,
                                     targetWeights: weights.isEmpty ? Array(repeating: 1, count: width) : weights,
                                     regularization: regularization, backend: context.backend)
    }

    public static var conformanceCases: [ConformanceCase] {
        /// `Σ w_j·BCE(x, y)` over the labels that are not ignored, divided by `B·L`.
        func multiCrossEntropy(_ name: String, labels: Int, weights: [Float], training: Bool = true) -> ConformanceCase {
            let config = DenseLayer(.multiCrossEntropyLoss, bottomNames: ["logits", "label"], topNames: ["loss"],
                                    targetWeightVec: weights)
            let w = weights.isEmpty ? Array(repeating: 1, count: labels) : weights.map(Double.init)
            return ConformanceCase("MultiCrossEntropyLoss \(name)", config,
                                   inputs: [ConformanceInput([labels]),
                                            ConformanceInput([labels], values: .probabilitiesOrIgnored, differentiable: false)],
                                   batch: 5, training: training) { r in
                let total = r.inputs[0].indices.reduce(0.0) { total, i in
                    let y = r.inputs[1][i]
                    return y < -0.5 ? total
                        : total + w[i % labels] * ConformanceReference.binaryCrossEntropy(logit: r.inputs[0][i], label: y)
                }
                return [[total / Double(r.batch * labels)]]
            }
        }
        return [
            multiCrossEntropy("4 labels, target weights, ignored labels", labels: 4, weights: [1, 0.5, 2, 0.25]),
            multiCrossEntropy("3 labels, default weights", labels: 3, weights: []),
            multiCrossEntropy("2 labels, evaluation", labels: 2, weights: [0.5, 1.5], training: false),
        ]
    }
}
