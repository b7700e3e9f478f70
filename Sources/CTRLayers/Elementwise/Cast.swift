import CTRCore

/// `Cast`: converts between fp32 and 16-bit values. An fp32 input is rounded to fp16 (to nearest,
/// ties to even), as HugeCTR's mixed-precision Cast does; a 16-bit input (bf16 or fp16) is widened
/// to fp32 exactly, as HugeCTR's fp32-mode Cast does. The output tensor is fp32 either way, since
/// the layers after it compute in fp32; a rounded output holds values an fp16 tensor holds
/// exactly, so that casting it again changes nothing. Backward passes the gradient straight
/// through (`dx = dy`, rounded when the input's gradient is 16-bit). Cost: 8 bytes moved per
/// element each way.
///
/// ```swift
/// model.add(DenseLayer(.cast, bottomNames: ["dense"], topNames: ["dense_fp16"]))
/// ```
///
/// HugeCTR: `Cast`. HugeCTR's output is an fp16 tensor in mixed precision, and its backward does
/// nothing, so no gradient reaches the layers before it; see `docs/compatibility.md`.
public final class Cast: RegisteredLayer {
    public let name: String
    public let inputs: [Variable]
    public let outputs: [Variable]
    /// What the forward rounds to: fp16 for an fp32 input, fp32 (no rounding) for a 16-bit one.
    public let precision: DType
    let backend: any Backend

    package init(name: String, input: Variable, backend: any Backend) {
        self.name = name
        self.backend = backend
        inputs = [input]
        precision = input.value.dtype == .float32 ? .float16 : .float32
        outputs = [Variable(name: name, shape: input.shape, backend: backend, rowsPerSample: input.rowsPerSample)]
    }

    public func forward(_ context: StepContext) {
        backend.cast(inputs[0].value, into: outputs[0].value, count: inputs[0].count(context.batch), precision: precision)
    }

    public func backward(_ context: StepContext) {
        backend.cast(outputs[0].grad, into: inputs[0].grad, count: inputs[0].count(context.batch), precision: .float32)
    }

    // MARK: registry

    public static let layerType = LayerType.cast
    public static let parameterNames: [String] = []

    public static func make(_ config: DenseLayer, inputs: [Variable], context: LayerBuildContext) throws -> any Layer {
        let check = Checker(config: config, inputs: inputs)
        try check.inputCount(1)
        try check.topCount(1)
        let types: [DType] = [.float32, .float16, .bfloat16]
        guard types.contains(inputs[0].value.dtype), types.contains(inputs[0].grad.dtype) else {
            throw check.error("Cast converts fp32, fp16 or bf16 tensors; '\(inputs[0].name)' holds \(inputs[0].value.dtype) values and \(inputs[0].grad.dtype) gradients.")
        }
        return Cast(name: config.name, input: inputs[0], backend: context.backend)
    }

    /// Evaluation cases: a rounding forward has a zero derivative almost everywhere, so the
    /// straight-through backward cannot be checked by finite differences (`LayerBookATests` checks it).
    public static var conformanceCases: [ConformanceCase] {
        func cast(_ shape: [Int]) -> ConformanceCase {
            ConformanceCase("Cast \(shape) fp32 to fp16 values", DenseLayer(.cast, bottomNames: ["x"], topNames: ["cast"]),
                            inputs: [ConformanceInput(shape)], batch: 3, training: false) { r in
                [r.inputs[0].map { Double(Float(Float16(Float($0)))) }]
            }
        }
        return [cast([7]), cast([2, 5])]
    }
}
