/// One entry of the construction plan: a dense layer as written and what the graph passes decided
/// about it. `GraphPasses.plan` makes the list; `CompiledGraph` builds it in order.
///
/// ```swift
/// var relu = PlannedLayer(DenseLayer(.relu, bottomNames: ["fc1"], topNames: ["relu1"]))
/// relu.fusedDropout = DenseLayer(.dropout, bottomNames: ["relu1"], topNames: ["dropout1"])
/// relu.topNames  // ["dropout1"]: the pair is built as one ReLUDropout
/// ```
struct PlannedLayer: Equatable {
    var spec: DenseLayer
    /// A Slice inserted by `FanOutSlices`: each top is a full-width copy of the bottom.
    var isFanOutSlice = false
    /// For a ReLU: the Dropout right after it, built with it as one `ReLUDropout` (`ReLUDropoutFusion`).
    var fusedDropout: DenseLayer?
    /// For a fused ReLU+Dropout: it adds the bias of the InnerProduct producing its input, which then
    /// leaves it out. Only folding Concats stand between the two in the plan; construction folds
    /// the bias when that InnerProduct is the last layer it built (those Concats did fold).
    var addsProducerBias = false
    /// For a Concat: the one InnerProduct reading it reads its parts instead, when construction
    /// finds them foldable (`ConcatFolding`).
    var foldsIntoInnerProduct = false
    /// For a Concat and the fan-out Slice after it: built as one `SharedOperandConcat` whose
    /// readers share its operand (`SharedOperands`); the Slice is then not built.
    var sharesOperand = false
    /// The type of the output and its gradient (16-bit where `MixedPrecisionTypes` allows).
    var outputType = DType.float32
    /// For an InnerProduct in mixed precision: the 16-bit type of its padded input copies.
    var halfType: DType?

    init(_ spec: DenseLayer) { self.spec = spec }

    var layerType: LayerType { spec.layerType }
    var bottomNames: [String] { spec.bottomNames }
    /// The tensors the built layer writes (a fused pair writes the Dropout's).
    var topNames: [String] { fusedDropout?.topNames ?? spec.topNames }
}

extension [PlannedLayer] {
    /// How many bottoms of the plan name each tensor.
    var readerCounts: [String: Int] {
        var readers: [String: Int] = [:]
        for layer in self { for bottom in layer.bottomNames { readers[bottom, default: 0] += 1 } }
        return readers
    }
}
