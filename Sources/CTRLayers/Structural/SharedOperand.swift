import CTRCore

/// A Concat's output as the one GEMM operand of all its readers: `value` holds the rows
/// zero-padded to the GEMM alignment (`paddedWidth` ≥ `width`) in the readers' GEMM type, so no
/// reader makes a copy of its own; `grad` is the padded fp32 gradient that the readers' backward
/// passes add into (the reader whose backward runs first writes it, the others add), which replaces
/// the fan-out Slice's sum. Only InnerProducts with one bottom and MultiCross v2 layers take one
/// (`SharedOperands` picks the Concats).
public final class SharedOperand: @unchecked Sendable {
    public let width: Int, paddedWidth: Int
    public let value: Tensor, grad: Tensor

    /// `alignment` is the readers' GEMM alignment (1: no padding).
    public init(rows: Int, width: Int, alignment: Int, type: DType, backend: any Backend) {
        self.width = width
        paddedWidth = Self.padded(width, alignment: alignment)
        value = backend.makeTensor([rows, paddedWidth], type)
        grad = backend.makeTensor([rows, paddedWidth], .float32)
    }

    /// The first `rows` rows of `padded` (host values of `value` or `grad`, rows of `paddedWidth`)
    /// without their padding columns: the Concat's output as it would be written out.
    public func unpadded(_ padded: [Float], rows: Int) -> [Float] {
        guard paddedWidth != width else { return Array(padded.prefix(rows * width)) }
        return (0..<rows).flatMap { padded[$0 * paddedWidth..<$0 * paddedWidth + width] }
    }

    /// `width` rounded up to a multiple of `alignment`: the width InnerProduct and MultiCross v2
    /// run their GEMMs at.
    public static func padded(_ width: Int, alignment: Int) -> Int {
        alignment > 1 && width % alignment != 0 ? (width + alignment - 1) / alignment * alignment : width
    }

    /// How one reader uses the operand: whether its backward adds its input gradient to `grad`
    /// (false for the reader whose backward runs first, which writes it).
    public struct Use: Sendable {
        public let operand: SharedOperand
        public let addsGradient: Bool
        public init(_ operand: SharedOperand, addsGradient: Bool) {
            self.operand = operand
            self.addsGradient = addsGradient
        }
    }
}

/// A 2D Concat that writes its output into a `SharedOperand` (its columns, then zero padding) and
/// splits the operand's gradient back into its inputs' gradients. Cost: one copy each way, at the
/// GEMM type forward.
///
/// Not a layer-book type but a graph rewrite of `Concat`, so it is not in `LayerRegistry`; its
/// output variable is a placeholder with the Concat's name and shape that only the sharing readers
/// name, and they read `operand` instead (checking the tensor out reads the operand too).
public final class SharedOperandConcat: Layer {
    public let name: String
    public let type = LayerType.concat
    public let typeName = "Concat (shared GEMM operand)"
    public let inputs: [Variable]
    public let outputs: [Variable]
    public let operand: SharedOperand
    let blocks: ColumnBlocks
    let backend: any Backend

    /// Inputs 2D with equal rows (`SharedOperands.canShare`).
    package init(name: String, inputs: [Variable], alignment: Int, type: DType, backend: any Backend) {
        self.name = name
        self.inputs = inputs
        self.backend = backend
        blocks = ColumnBlocks(widths: inputs.map { $0.shape.last })
        let rows = inputs[0].shape[0]
        operand = SharedOperand(rows: rows, width: blocks.total, alignment: alignment, type: type, backend: backend)
        // The placeholder: the Concat's shape, its memory the operand's (never read as such).
        let shape = Shape([rows, blocks.total])
        outputs = [Variable(name: name, value: operand.value.view(from: 0, shape), grad: operand.grad.view(from: 0, shape),
                            rowsPerSample: inputs[0].rowsPerSample)]
    }

    private func rows(_ context: StepContext) -> Int { inputs[0].rows(context.batch) }

    public func forward(_ context: StepContext) {
        blocks.join(inputs, into: operand.value, rows: rows(context), rowWidth: operand.paddedWidth, backend: backend)
    }

    public func backward(_ context: StepContext) {
        blocks.split(operand.grad, intoGradientsOf: inputs, rows: rows(context), rowWidth: operand.paddedWidth, backend: backend)
    }
}
