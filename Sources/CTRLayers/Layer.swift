import CTRCore

/// A dense layer: reads its input variables, writes its outputs; backward reads output gradients
/// and assigns input gradients, accumulating into its weights' gradients.
public protocol Layer: AnyObject {
    var name: String { get }
    /// The layer book's type this layer computes; a fused layer gives the type of the last book
    /// layer it stands in for (its output tensor is that layer's top).
    var type: LayerType { get }
    /// The type as summaries and profiles print it: a fused layer names what it fuses
    /// ("ReLU+Dropout"); book layers print HugeCTR's name.
    var typeName: String { get }
    var inputs: [Variable] { get }
    var outputs: [Variable] { get }
    /// Trainable weights, each with its gradient.
    var parameters: [Variable] { get }
    /// State the layer updates itself rather than the optimizer (BatchNorm's running mean and
    /// variance), each under the key HugeCTR's non-trainable parameters JSON gives it ("mean",
    /// "var"), for model files to save and load beside the weights.
    var nonTrainable: [(key: String, value: Tensor)] { get }
    func forward(_ context: StepContext)
    func backward(_ context: StepContext)
}

extension Layer {
    public var parameters: [Variable] { [] }
    public var nonTrainable: [(key: String, value: Tensor)] { [] }
    public var typeName: String { type.rawValue }
}
