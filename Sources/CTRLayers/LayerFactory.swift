import CTRCore

/// Builds runtime layers from their `DenseLayer` descriptions through `LayerRegistry`, with one
/// backend and one weight seed: every shape-rule violation is a `SwiftCTRError` naming the layer,
/// the tensors, what was expected, what was found, and the fix.
///
/// ```swift
/// let factory = LayerFactory(backend: cpu, seed: 42)
/// let fc1 = try factory.make(DenseLayer(.innerProduct, bottomNames: ["dense"], topNames: ["fc1"], numOutput: 256),
///                            inputs: [dense])
/// ```
public struct LayerFactory {
    public let backend: any Backend
    public let initializer: WeightInitializer
    /// Mixed precision's 16-bit type, handed to the layers through `LayerBuildContext`.
    public let halfType: DType?

    public init(backend: any Backend, seed: UInt64, halfType: DType? = nil) {
        self.backend = backend
        initializer = WeightInitializer(seed: seed)
        self.halfType = halfType
    }

    var context: LayerBuildContext { LayerBuildContext(backend: backend, initializer: initializer, halfType: halfType) }

    /// An InnerProduct reading `inputs`, or with several of them their concatenation along the last
    /// axis (2D, equal rows): a Concat read only by this layer, folded into it. `halfType` and
    /// `outputType` are for mixed precision (see `InnerProduct.init`).
    public func makeInnerProduct(_ config: DenseLayer, concatenating inputs: [Variable], halfType: DType? = nil,
                                 outputType: DType = .float32, shared: SharedOperand.Use? = nil) throws -> InnerProduct {
        try InnerProduct.make(config, concatenating: inputs, context: context, halfType: halfType, outputType: outputType,
                              shared: shared)
    }

    /// `outputType` is for mixed precision (see `LayerBuildContext.outputType`), `shared` a
    /// Concat's shared operand to read the input from (see `LayerBuildContext.sharedInput`).
    public func make(_ config: DenseLayer, inputs: [Variable], outputType: DType = .float32,
                     shared: SharedOperand.Use? = nil) throws -> any Layer {
        var context = context
        context.outputType = outputType
        context.sharedInput = shared
        return try LayerRegistry.make(config, inputs: inputs, context: context)
    }

    /// The layer types this version builds.
    public static var available: [LayerType] { LayerRegistry.available }
}
