import CTRCore

/// What a layer's builder needs besides its description and inputs: the backend the layer runs
/// on and the initializer its weights draw from (the counter RNG, identical on every backend).
public struct LayerBuildContext: Sendable {
    public let backend: any Backend
    public let initializer: WeightInitializer
    /// Overrides the backend's `gemmAlignment` for InnerProduct's padded copies (conformance cases
    /// use it to run the padded path on a CPU too).
    public var gemmAlignment: Int?
    /// Mixed precision's 16-bit type (nil in fp32): layers that keep internal states for their
    /// GEMMs (MultiCross v2) store them in it.
    public var halfType: DType?
    /// The type of the layer's output and its gradient where the plan picked 16 bits for them
    /// (mixed precision, a MultiCross v2 whose output only GEMMs read); fp32 otherwise.
    public var outputType = DType.float32
    /// The input as a Concat's shared GEMM operand (`SharedOperands`), for the layers that read one
    /// (MultiCross v2; InnerProduct takes it through `LayerFactory.makeInnerProduct`).
    public var sharedInput: SharedOperand.Use?

    public init(backend: any Backend, initializer: WeightInitializer, gemmAlignment: Int? = nil, halfType: DType? = nil) {
        self.backend = backend
        self.initializer = initializer
        self.gemmAlignment = gemmAlignment
        self.halfType = halfType
    }
}
