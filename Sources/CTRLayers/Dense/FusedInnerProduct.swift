import CTRCore

/// `FusedInnerProduct`: a fully connected layer and its ReLU as one layer over a 2D `(B, in)`
/// input, `Y = max(X·W + b, 0)` (`act_type = Relu`, the default) or `Y = X·W + b` (`None`),
/// `W` (in, out), `b` (1, out). Backward: `dZ = dY ⊙ [Y > 0]` (ReLU), `dX = dZ·Wᵀ`,
/// `dW += Xᵀ·dZ`, `db += Σ_rows dZ`. Initializers as InnerProduct's. Cost: 6·B·in·out FLOPs per
/// training step plus one pass over `Y` each way.
///
/// `pos_type` places the layer in a chain as HugeCTR wires one (see `FcPosition`): `None` and
/// `Isolated` have 1 bottom and 1 top; `Head` 1 (or 2) bottoms and 4 tops; `Body` 4 and 4;
/// `Tail` 4 bottoms and 1 top. Only the first bottom is the input: the other bottoms are read by
/// nobody and get a zero gradient, and tops 2–4 (HugeCTR's mask, dRelu and db tensors, which
/// pass ReLU masks and gradients between the layers of a chain) are constant zeros of shape
/// `(B, 1)`, since each SwiftCTR layer computes its own ReLU backward.
///
/// ```swift
/// model.add(DenseLayer(.fusedInnerProduct, bottomNames: ["dense"], topNames: ["fc1", "fc1_mask", "fc1_dRelu", "fc1_db"],
///                      numOutput: 512, posType: .head))
/// model.add(DenseLayer(.fusedInnerProduct, bottomNames: ["fc1", "fc1_mask", "fc1_dRelu", "fc1_db"], topNames: ["fc2"],
///                      numOutput: 256, posType: .tail))
/// ```
///
/// HugeCTR: `FusedInnerProduct` (layer math §6.2; v23.08, mixed precision only, with `B % 32 == 0`
/// and `out % 64 == 0`, and `act_type = None` only for a `Tail`). SwiftCTR runs it in fp32 on
/// every backend, in either precision mode, for any B and out, and with `None` in any position.
public final class FusedInnerProduct: RegisteredLayer {
    public let name: String
    public let inputs: [Variable]
    public let outputs: [Variable]
    public var parameters: [Variable] { layer.innerProduct.parameters }
    public let position: FcPosition
    let layer: ActivatedInnerProduct
    let backend: any Backend

    package init(name: String, inputs: [Variable], outputs count: Int, extraTops: [String], position: FcPosition, relu: Bool,
                 weightInit: Initializer, biasInit: Initializer, initializer: WeightInitializer, backend: any Backend,
                 alignment: Int? = nil) {
        self.name = name
        self.inputs = inputs
        self.position = position
        self.backend = backend
        let input = inputs[0]
        layer = ActivatedInnerProduct(InnerProduct(name: name, inputs: [input], outputs: count, weightInit: weightInit,
                                                   biasInit: biasInit, initializer: initializer, backend: backend,
                                                   alignment: alignment), relu: relu)
        outputs = [layer.output] + extraTops.map {
            Variable(name: $0, shape: [input.shape[0], 1], backend: backend, rowsPerSample: input.rowsPerSample)
        }
    }

    public func forward(_ context: StepContext) { layer.forward(context) }

    public func backward(_ context: StepContext) {
        layer.backward(context)
        for input in inputs.dropFirst() { backend.fill(input.grad, 0) }
    }

    // MARK: registry

    public static let layerType = LayerType.fusedInnerProduct
    public static let parameterNames = ["num_output", "weight_init_type", "bias_init_type", "pos_type", "act_type"]

    /// Bottoms and tops each position takes (HugeCTR's builder checks the same counts).
    static func wiring(_ position: FcPosition) -> (bottoms: [Int], tops: Int) {
        switch position {
        case .none, .isolated: ([1], 1)
        case .head: ([1, 2], 4)
        case .body: ([4], 4)
        case .tail: ([4], 1)
        }
    }

    public static func make(_ config: DenseLayer, inputs: [Variable], context: LayerBuildContext) throws -> any Layer {
        let check = Checker(config: config, inputs: inputs)
        let position = config.posType, wiring = wiring(position)
        guard wiring.bottoms.contains(inputs.count), config.topNames.count == wiring.tops else {
            let bottoms = wiring.bottoms.map(String.init).joined(separator: " or ")
            throw check.error("pos_type \(position.rawValue) takes \(bottoms) bottom\(wiring.bottoms == [1] ? "" : "s") and \(wiring.tops) top\(wiring.tops == 1 ? "" : "s"), found \(inputs.count) and \(config.topNames.count). A Head gives the output and its mask, dRelu and db tops; a Body or Tail reads the four tops of the layer before. Fix bottom_names and top_names, or pos_type.")
        }
        try Checker(config: config, inputs: [inputs[0]]).rank(in: [2])
        try check.positive(config.numOutput, "num_output")
        return FusedInnerProduct(name: config.name, inputs: inputs, outputs: config.numOutput,
                                 extraTops: Array(config.topNames.dropFirst()), position: position,
                                 relu: config.actType == .relu, weightInit: config.weightInitType,
                                 biasInit: config.biasInitType, initializer: context.initializer, backend: context.backend,
                                 alignment: context.gemmAlignment)
    }

    public static var conformanceCases: [ConformanceCase] {
        /// `y = act(x·W + b)` per row, then zeros for the extra tops.
        func fused(_ position: FcPosition, _ act: Activation = .relu, input: Int, outputs: Int, bottoms: Int = 1,
                   alignment: Int? = nil) -> ConformanceCase {
            let tops = wiring(position).tops
            let config = DenseLayer(.fusedInnerProduct, bottomNames: ["x"] + (1..<bottoms).map { "x_extra\($0)" },
                                    topNames: ["fc"] + (1..<tops).map { "fc_extra\($0)" }, numOutput: outputs,
                                    weightInitType: .xavierUniform, biasInitType: .uniform, posType: position, actType: act)
            let extras = (1..<bottoms).map { _ in ConformanceInput([1]) }
            return ConformanceCase("FusedInnerProduct \(position.rawValue), \(act.rawValue), \(input) → \(outputs)", config,
                                   inputs: [ConformanceInput([input])] + extras, batch: 3, gemmAlignment: alignment) { r in
                let x = r.inputs[0], w = r.parameters[0], b = r.parameters[1]
                let y = (0..<r.batch).flatMap { row in
                    (0..<outputs).map { o in
                        let z = (0..<input).reduce(b[o]) { $0 + x[row * input + $1] * w[$1 * outputs + o] }
                        return act == .relu ? max(z, 0) : z
                    }
                }
                return [y] + (1..<tops).map { _ in [Double](repeating: 0, count: r.batch) }
            }
        }
        return [
            fused(.none, input: 5, outputs: 4), fused(.isolated, .none, input: 6, outputs: 3),
            fused(.head, input: 5, outputs: 4), fused(.head, input: 4, outputs: 3, bottoms: 2),
            fused(.body, input: 4, outputs: 6, bottoms: 4), fused(.tail, .none, input: 6, outputs: 2, bottoms: 4),
            fused(.none, input: 13, outputs: 16, alignment: 8),
        ]
    }
}
