import CTRCore

/// `BinaryCrossEntropyLoss` with the sigmoid fused: inputs `[logits (B, 1), label (B, 1)]`.
/// Training writes `dL/dlogit = (σ(x) − y)·scaler/B` into the logits' gradient; evaluation writes
/// the probabilities σ(x) into `predictions`. The loss is the batch mean of
/// `−y·log σ(x) − (1 − y)·log(1 − σ(x))` (layer math §8.1), computed without overflow.
///
/// ```swift
/// model.add(DenseLayer(.binaryCrossEntropyLoss, bottomNames: ["fc4", "label"], topNames: ["loss"]))
/// ```
///
/// HugeCTR: `BinaryCrossEntropyLoss`, with `use_regularizer`, `regularizer_type` and `lambda`
/// (see `Regularization`).
public final class BinaryCrossEntropyLoss: LossLayer, Loss, RegisteredLayer {
    public func forward(_ context: StepContext) {
        let batch = context.batch
        backend.binaryCrossEntropy(logits: inputs[0].value, labels: inputs[1].value, grad: inputs[0].grad,
                                   count: batch, rows: batch, gradScale: scaler / Float(max(batch, 1)), loss: lossValue)
        if !context.training {
            backend.sigmoid(inputs[0].value, into: predictions, count: batch)
        }
    }

    // MARK: registry

    public static let layerType = LayerType.binaryCrossEntropyLoss
    public static let parameterNames = regularizerParameterNames

    public static func make(_ config: DenseLayer, inputs: [Variable], context: LayerBuildContext) throws -> any Layer {
        let (check, regularization) = try checkBottoms(config, inputs)
        guard inputs[0].shape.perSample == [1], inputs[1].shape.perSample == [1] else {
            throw check.error("expects bottoms [logits (batch, 1), label (batch, 1)], found '\(inputs[0].name)' \(inputs[0].perSampleShape) and '\(inputs[1].name)' \(inputs[1].perSampleShape). End the network with InnerProduct(num_output: 1).")
        }
        return BinaryCrossEntropyLoss(name: config.name, logits: inputs[0], label: inputs[1], regularization: regularization,
                                      backend: context.backend)
    }

    public static var conformanceCases: [ConformanceCase] {
        let config = DenseLayer(.binaryCrossEntropyLoss, bottomNames: ["logits", "label"], topNames: ["loss"])
        return [
            ConformanceCase("BinaryCrossEntropyLoss, soft labels", config,
                            inputs: [ConformanceInput([1]), ConformanceInput([1], values: .probabilities, differentiable: false)],
                            batch: 7) { r in
                [[zip(r.inputs[0], r.inputs[1]).reduce(0) {
                    $0 + ConformanceReference.binaryCrossEntropy(logit: $1.0, label: $1.1)
                } / Double(r.batch)]]
            },
        ]
    }
}
