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
