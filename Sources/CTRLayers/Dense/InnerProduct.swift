import CTRCore

/// `InnerProduct` (fully connected): `Y = X·W + b` over the rows of a 2D `(B, in)` or 3D
/// `(B, S, in)` input, `W` (in, out), `b` (1, out). Backward: `dX = dY·Wᵀ`, `dW += Xᵀ·dY`,
/// `db += Σ_rows dY`. Cost: 6·rows·in·out FLOPs per training step.
///
/// With several inputs the layer reads their concatenation along the last axis without building
/// it: `[X₁ X₂]·W = X₁·W₁ + X₂·W₂` for the row blocks `W₁`, `W₂` of `W` (a Concat read only by an
/// InnerProduct is folded in this way). An input whose width is not a multiple of the backend's
/// `gemmAlignment` goes through a zero-padded copy, so that the GEMMs keep their fast kernels.
///
/// ```swift
/// model.add(DenseLayer(.innerProduct, bottomNames: ["concat1"], topNames: ["fc1"], numOutput: 1024))
/// ```
///
/// HugeCTR: `InnerProduct`. Initializers follow layer math §1, except that SwiftCTR's truncated
/// normal really truncates (see `WeightInitializer.Distribution.truncatedNormal`).
public final class InnerProduct: RegisteredLayer {
    public let name: String
    public let inputs: [Variable]
    public let outputs: [Variable]
    public let parameters: [Variable]
    public let inFeatures: Int, outFeatures: Int
    /// When true, forward leaves the bias out of the output, because the only layer reading it (a
    /// fused ReLU+Dropout, or an MLP's own activation pass) adds it in its own pass.
    public var biasAddedByConsumer = false
    /// When true, backward leaves the bias gradient out, because the only layer reading the output
    /// (a fused ReLU+Dropout) sums it in its backward pass.
    public var biasGradientByConsumer = false
    let backend: any Backend

    /// One input: its width, its first row of `W`, and its padded width and copies when padded.
    struct Part {
        let width: Int, row: Int, paddedWidth: Int
        let padded: Tensor?
    }
    let parts: [Part]
    /// The one input's rows as a Concat's shared operand: read in place (no copy), the input
    /// gradient written or added into the operand's.
    let shared: SharedOperand.Use?
    /// `W` with zero rows after the last input's padding (the parameter is a view of its first rows).
    let weightStorage: Tensor, weightGradStorage: Tensor
    /// Scratch for a padded input's gradient.
    let paddedGrad: Tensor?
    /// With one output: scratch for `oneOutputBackward`'s per-block sums of the weight gradient.
    let oneOutputPartial: Tensor?

    package convenience init(name: String, input: Variable, outputs count: Int, weightInit: Initializer, biasInit: Initializer,
                            initializer: WeightInitializer, backend: any Backend) {
        self.init(name: name, inputs: [input], outputs: count, weightInit: weightInit, biasInit: biasInit,
                  initializer: initializer, backend: backend)
    }

    /// Inputs of equal leading shape, read as their concatenation along the last axis; `alignment`
    /// overrides the backend's `gemmAlignment` (tests use it to exercise the padded path on a CPU).
    /// In mixed precision `halfType` is the 16-bit type of the padded copies and, when a fused
    /// ReLU+Dropout that adds the bias reads the output, `outputType` is the type of the output and
    /// of its gradient (the bias pass works on fp32 outputs only). With `shared` the one input's
    /// rows are read from a Concat's `SharedOperand` (see `shared`).
    package convenience init(name: String, inputs: [Variable], outputs count: Int, weightInit: Initializer,
                             biasInit: Initializer, initializer: WeightInitializer, backend: any Backend,
                             alignment: Int? = nil, halfType: DType? = nil, outputType: DType = .float32,
                             shared: SharedOperand.Use? = nil) {
        let inFeatures = inputs.reduce(0) { $0 + $1.shape.last }
        self.init(name: name, inputs: inputs, outputs: count,
                  weight: innerProductDistribution(weightInit, isBias: false, inputs: inFeatures, outputs: count),
                  bias: innerProductDistribution(biasInit, isBias: true, inputs: inFeatures, outputs: count),
                  initializer: initializer, backend: backend, alignment: alignment, halfType: halfType,
                  outputType: outputType, shared: shared)
    }

    /// The same with the initial distributions of `W` and `b` given; without `bias` the layer has
    /// no bias at all (`parameters` is `[W]`), as an MLP sub-layer with `biases[i] = false`.
    package init(name: String, inputs: [Variable], outputs count: Int, weight: WeightInitializer.Distribution,
                 bias: WeightInitializer.Distribution?, initializer: WeightInitializer, backend: any Backend,
                 alignment: Int? = nil, halfType: DType? = nil, outputType: DType = .float32,
                 shared: SharedOperand.Use? = nil) {
        self.name = name
        self.backend = backend
        self.inputs = inputs
        self.shared = shared
        outFeatures = count
        let align = alignment ?? backend.gemmAlignment
        let maxRows = inputs[0].count(inputs[0].maxBatch) / inputs[0].shape.last
        var parts: [Part] = [], row = 0
        for input in inputs {
            let width = input.shape.last
            if let operand = shared?.operand {
                precondition(inputs.count == 1 && operand.width == width, "a shared operand is the one input's rows")
                parts.append(Part(width: width, row: 0, paddedWidth: operand.paddedWidth, padded: operand.value))
                row = width
                continue
            }
            let pad = align > 1 && count >= 16 && width % align != 0
            let paddedWidth = pad ? (width + align - 1) / align * align : width
            parts.append(Part(width: width, row: row, paddedWidth: paddedWidth,
                              padded: pad ? backend.makeTensor([maxRows, paddedWidth], halfType ?? .float32) : nil))
            row += width
        }
        self.parts = parts
        inFeatures = row
        let storageRows = parts.map { $0.row + $0.paddedWidth }.max()!
        weightStorage = backend.makeTensor([storageRows, count], .float32)
        weightGradStorage = backend.makeTensor([storageRows, count], .float32)
        let widest = shared == nil ? parts.filter { $0.padded != nil }.map(\.paddedWidth).max() : nil
        paddedGrad = widest.map { backend.makeTensor([maxRows, $0], .float32) }
        oneOutputPartial = count == 1 && shared == nil
            ? backend.makeTensor([columnSumPartialRows, parts.map(\.width).max()!], .float32) : nil
        var dims = inputs[0].shape.dims
        dims[dims.count - 1] = count
        outputs = [Variable(name: name, shape: Shape(dims), backend: backend, rowsPerSample: inputs[0].rowsPerSample,
                            valueType: outputType, gradType: outputType)]
        let w = Variable(name: name + ".weight", value: weightStorage.view(from: 0, [inFeatures, count]),
                         grad: weightGradStorage.view(from: 0, [inFeatures, count]))
        initializer.fill(w.value, weight, stream: WeightInitializer.stream(w.name), backend: backend)
        var parameters = [w]
        if let bias {
            let b = Variable(name: name + ".bias", shape: [1, count], backend: backend)
            initializer.fill(b.value, bias, stream: WeightInitializer.stream(b.name), backend: backend)
            parameters.append(b)
        }
        self.parameters = parameters
    }

    /// `b`, unless the layer was built without a bias.
    var bias: Variable? { parameters.count > 1 ? parameters[1] : nil }

    private func rows(_ context: StepContext) -> Int { inputs[0].count(context.batch) / parts[0].width }

    /// The GEMM operand of input `i` (its padded copy when it has one) and its rows of `W`
    /// (padding rows multiply zero columns, so they may belong to the next input).
    private func operands(_ i: Int) -> (x: Tensor, k: Int, w: Tensor, dw: Tensor) {
        let part = parts[i], k = part.paddedWidth, offset = part.row * outFeatures
        return (part.padded ?? inputs[i].value, k, weightStorage.view(from: offset, [k, outFeatures]),
                weightGradStorage.view(from: offset, [k, outFeatures]))
    }

    public func forward(_ context: StepContext) {
        let m = rows(context)
        for (i, part) in parts.enumerated() {
            if let padded = part.padded, shared == nil {
                backend.copyColumns(inputs[i].value, srcWidth: part.width, srcStart: 0, into: padded,
                                    dstWidth: part.paddedWidth, dstStart: 0, rows: m, width: part.width, accumulate: false)
            }
            let op = operands(i)
            backend.gemm(transA: false, transB: false, m: m, n: outFeatures, k: op.k, alpha: 1, a: op.x, b: op.w,
                         beta: i == 0 ? 0 : 1, c: outputs[0].value)
        }
        if !biasAddedByConsumer, let bias {
            backend.addBias(outputs[0].value, bias: bias.value, rows: m, cols: outFeatures)
        }
    }

    public func backward(_ context: StepContext) {
        let m = rows(context), dy = outputs[0].grad
        if !biasGradientByConsumer, let bias { backend.sumRows(dy, rows: m, cols: outFeatures, into: bias.grad, accumulate: true) }
        for (i, part) in parts.enumerated() {
            let op = operands(i)
            if let partial = oneOutputPartial, part.padded == nil {
                backend.oneOutputBackward(x: op.x, rows: m, width: op.k, dy: dy, w: op.w, dw: op.dw, dx: inputs[i].grad,
                                          partial: partial)
                continue
            }
            backend.gemm(transA: true, transB: false, m: op.k, n: outFeatures, k: m, alpha: 1, a: op.x, b: dy, beta: 1,
                         c: op.dw)
            if let shared {
                backend.gemm(transA: false, transB: true, m: m, n: op.k, k: outFeatures, alpha: 1, a: dy, b: op.w,
                             beta: shared.addsGradient ? 1 : 0, c: shared.operand.grad)
                continue
            }
            let dx = part.padded == nil ? inputs[i].grad : paddedGrad!
            backend.gemm(transA: false, transB: true, m: m, n: op.k, k: outFeatures, alpha: 1, a: dy, b: op.w, beta: 0,
                         c: dx)
            if part.padded != nil {
                backend.copyColumns(dx, srcWidth: part.paddedWidth, srcStart: 0, into: inputs[i].grad, dstWidth: part.width,
                                    dstStart: 0, rows: m, width: part.width, accumulate: false)
            }
        }
    }

    // MARK: registry

    public static let layerType = LayerType.innerProduct
    public static let parameterNames = ["num_output", "weight_init_type", "bias_init_type"]

    /// One bottom; several `inputs` for it are the parts of a Concat folded into this layer.
    public static func make(_ config: DenseLayer, inputs: [Variable], context: LayerBuildContext) throws -> any Layer {
        try Checker(config: config, inputs: inputs).bottomNameCount(1)
        return try make(config, concatenating: inputs, context: context)
    }

    /// An InnerProduct reading `inputs`, or with several of them their concatenation along the last
    /// axis (2D, equal rows): a Concat read only by this layer, folded into it. `halfType` and
    /// `outputType` are for mixed precision (see `init`).
    public static func make(_ config: DenseLayer, concatenating inputs: [Variable], context: LayerBuildContext,
                            halfType: DType? = nil, outputType: DType = .float32,
                            shared: SharedOperand.Use? = nil) throws -> InnerProduct {
        let check = Checker(config: config, inputs: inputs)
        if inputs.count == 1 { try check.rank(in: [2, 3]) }
        try check.topCount(1)
        try check.positive(config.numOutput, "num_output")
        return InnerProduct(name: config.name, inputs: inputs, outputs: config.numOutput, weightInit: config.weightInitType,
                            biasInit: config.biasInitType, initializer: context.initializer, backend: context.backend,
                            alignment: context.gemmAlignment, halfType: halfType, outputType: outputType, shared: shared)
    }

    public static var conformanceCases: [ConformanceCase] {
        /// `Y = [X₁ X₂ …]·W + b` over the rows of inputs of row shapes `shapes`.
        func innerProduct(_ name: String, _ shapes: [[Int]], rowsPerSample: Int = 1, outputs: Int,
                          alignment: Int? = nil) -> ConformanceCase {
            let widths = shapes.map { $0.last! }, inF = widths.reduce(0, +)
            let config = DenseLayer(.innerProduct, bottomNames: ["x"], topNames: ["fc"], numOutput: outputs,
                                    weightInitType: .xavierUniform, biasInitType: .uniform)
            return ConformanceCase("InnerProduct \(name)", config,
                                   inputs: shapes.map { ConformanceInput($0, rowsPerSample: rowsPerSample) }, batch: 3,
                                   gemmAlignment: alignment) { r in
                let w = r.parameters[0], b = r.parameters[1], rows = r.inputs[0].count / widths[0]
                return [(0..<rows).flatMap { row in
                    let x = zip(r.inputs, widths).flatMap { input, width in input[row * width..<(row + 1) * width] }
                    return (0..<outputs).map { o in (0..<inF).reduce(b[o]) { $0 + x[$1] * w[$1 * outputs + o] } }
                }]
            }
        }
        return [
            innerProduct("2D", [[5]], outputs: 3), innerProduct("3D", [[2, 5]], outputs: 4),
            innerProduct("after a leading_dim Reshape", [[4]], rowsPerSample: 3, outputs: 3),
            innerProduct("over a folded Concat", [[3], [4]], outputs: 5),
            innerProduct("padded to 8", [[13]], outputs: 16, alignment: 8),
            innerProduct("over a folded Concat, padded to 8", [[13], [6], [5]], outputs: 20, alignment: 8),
        ]
    }
}
