import CTRCore

/// A named tensor of the graph with its gradient: activations flow between layers as variables, and
/// trainable weights are variables too.
///
/// Activations are allocated for the largest batch; `rowsPerSample` says how many leading-dimension
/// rows one sample occupies, so a layer can work on the first `batch` samples only.
public final class Variable: @unchecked Sendable {
    public let name: String
    public let value: Tensor
    public let grad: Tensor
    public let rowsPerSample: Int

    public init(name: String, value: Tensor, grad: Tensor, rowsPerSample: Int = 1) {
        self.name = name
        self.value = value
        self.grad = grad
        self.rowsPerSample = rowsPerSample
    }

    /// A variable whose value is `valueType` and whose gradient is `gradType` (16-bit types are for
    /// mixed precision on a GPU).
    public convenience init(name: String, shape: Shape, backend: any Backend, rowsPerSample: Int = 1,
                            valueType: DType = .float32, gradType: DType = .float32) {
        self.init(name: name, value: backend.makeTensor(shape, valueType), grad: backend.makeTensor(shape, gradType),
                  rowsPerSample: rowsPerSample)
    }

    public var shape: Shape { value.shape }
    /// Elements of one sample.
    public var sampleCount: Int { value.count / max(1, value.shape[0] / rowsPerSample) }
    /// Largest batch this variable holds.
    public var maxBatch: Int { value.shape[0] / rowsPerSample }
    /// Per-sample shape, as HugeCTR prints it (without the batch dimension).
    public var perSampleShape: Shape {
        rowsPerSample == 1 ? value.shape.perSample : Shape([rowsPerSample] + value.shape.perSample.dims)
    }

    /// Rows of the leading dimension that `batch` samples fill.
    public func rows(_ batch: Int) -> Int { batch * rowsPerSample }
    /// Elements that `batch` samples fill.
    public func count(_ batch: Int) -> Int { batch * sampleCount }
}

/// Per-step information every layer sees.
public struct StepContext: Sendable {
    /// Samples in this batch (≤ the compiled batch size).
    public var batch: Int
    public var training: Bool
    /// Training iteration, for dropout masks.
    public var iteration: Int
    public var seed: UInt64

    public init(batch: Int, training: Bool, iteration: Int = 0, seed: UInt64 = 0) {
        self.batch = batch
        self.training = training
        self.iteration = iteration
        self.seed = seed
    }
}

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
    func forward(_ context: StepContext)
    func backward(_ context: StepContext)
}

extension Layer {
    public var parameters: [Variable] { [] }
    public var typeName: String { type.rawValue }
}

/// A loss layer: the last layer of a task. Its forward writes the gradient of the scaled mean loss
/// into its logits' gradient (training) or the task's probabilities into `predictions`
/// (evaluation), and the mean loss into `lossValue`; its backward does nothing.
public protocol Loss: Layer {
    /// Per-sample probabilities of the last evaluation forward, `(batch, labels of the task)`.
    var predictions: Tensor { get }
    /// The label tensor this loss reads.
    var label: Variable { get }
    /// Loss scaler (solver `scaler`); optimizers divide it back out.
    var scaler: Float { get set }
    /// float [1]: the mean loss of the last forward, in backend memory.
    var lossValue: Tensor { get }
}

extension Loss {
    /// The mean loss of the last forward (waits for the device).
    public func loss(on backend: any Backend) -> Float { backend.floats(lossValue)[0] }
}
