/// The one list of the layer types SwiftCTR builds. Adding a layer is one file under its family
/// folder (a `RegisteredLayer`) plus one line here; `LayerFactory`, `LayerFactory.available`, the
/// conformance tests and `swiftctr selftest` all follow this list.
///
/// ```swift
/// let types = LayerRegistry.types.map { $0.layerType }  // [.innerProduct, .relu, …]
/// ```
public enum LayerRegistry {
    public static let types: [any RegisteredLayer.Type] = [
        InnerProduct.self, ReLU.self, Sigmoid.self, Dropout.self, Add.self, ReduceSum.self, Concat.self, Reshape.self,
        Slice.self, MultiCross.self, Interaction.self, BinaryCrossEntropyLoss.self,
        FmOrder2.self, WeightMultiply.self, MatrixMultiply.self, FusedReshapeConcat.self, FusedReshapeConcatGeneral.self,
        ELU.self, Sub.self, ElementwiseMultiply.self, ReduceMean.self, Scale.self, Softmax.self, Select.self, Gather.self,
        PReLUDice.self, Cast.self, CrossEntropyLoss.self, MultiCrossEntropyLoss.self,
        LayerNorm.self, BatchNorm.self, SequenceMask.self, MultiHeadAttention.self, GRU.self, MLP.self, FusedInnerProduct.self,
    ]

    /// The layer types this version builds, in registry order.
    public static var available: [LayerType] { types.map { $0.layerType } }

    /// The registered class of `layerType`, if this version builds it.
    public static func type(of layerType: LayerType) -> (any RegisteredLayer.Type)? {
        types.first { $0.layerType == layerType }
    }

    /// Builds `config` on `inputs` through its registered type; a book type without one is a
    /// `.shape` error listing what is available.
    public static func make(_ config: DenseLayer, inputs: [Variable], context: LayerBuildContext) throws -> any Layer {
        let check = Checker(config: config, inputs: inputs)
        guard !inputs.isEmpty else { throw check.error("no bottom tensor given; name the input(s) in bottom_names.") }
        guard let type = type(of: config.layerType) else {
            throw check.error("layer type \(config.layerType.rawValue) is in the layer book but not implemented in this version of SwiftCTR. Available: \(available.map(\.rawValue).joined(separator: ", ")).")
        }
        return try type.make(config, inputs: inputs, context: context)
    }
}
