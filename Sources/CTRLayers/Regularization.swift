import CTRCore

/// A loss's weight regularizer (HugeCTR `use_regularizer`, `regularizer_type`, `lambda`; layer
/// math §8.5): with `B` the current batch, the loss gains `(λ/B)·Σ|w|` (L1) or `(λ/(2B))·Σ w²`
/// (L2) over every dense weight `w` of the model (embeddings excluded), and each weight's gradient
/// gains the term's derivative, `(λ/B)·sign w` or `(λ/B)·w`, times the loss's gradient scale.
///
/// ```swift
/// model.add(DenseLayer(.binaryCrossEntropyLoss, bottomNames: ["fc3", "label"], topNames: ["loss"],
///                      useRegularizer: true, regularizerType: .l2, lambda: 0.01))
/// ```
///
/// HugeCTR differs in three ways (see docs/compatibility.md): L1 takes sign 0 = −1, the gradient
/// is not multiplied by the solver's `scaler`, and layers that assign their weight gradients
/// (MultiCross biases, WeightMultiply, …) drop it; SwiftCTR adds the gradient after the backward
/// pass, so every weight keeps it.
public struct Regularization: Sendable, Equatable {
    public var type: Regularizer
    /// λ ≥ 0.
    public var lambda: Float

    public init(_ type: Regularizer, lambda: Float) {
        self.type = type
        self.lambda = lambda
    }

    /// A loss's regularizer as `config` asks for it (nil unless `use_regularizer`); `lambda` must be
    /// finite and ≥ 0.
    static func of(_ config: DenseLayer, check: Checker) throws -> Regularization? {
        guard config.useRegularizer else { return nil }
        guard config.lambda.isFinite, config.lambda >= 0 else {
            throw check.error("lambda must be finite and ≥ 0 when use_regularizer is true, found \(config.lambda). Set lambda, e.g. 0.0001.")
        }
        return Regularization(config.regularizerType, lambda: config.lambda)
    }

    /// The kernels' penalty for `type`.
    var penalty: WeightPenalty { type == .l1 ? .l1 : .l2 }
}
