/// `Activation_t`: the activation after a fully connected layer of an `MLP` or a
/// `FusedInnerProduct`.
///
/// ```swift
/// DenseLayer(.mlp, bottomNames: ["concat1"], topNames: ["mlp2"], numOutputs: [256, 1], activations: [.relu, .none])
/// ```
public enum Activation: String, Sendable, Codable {
    /// `max(z, 0)` (`Activation_t.Relu`).
    case relu = "Relu"
    /// No activation (`Activation_t.Non`).
    case none = "None"
}
