import CTRCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `ELU`: `y = x < 0 ? α(eˣ − 1) : x` element-wise over any shape; backward
/// `dx = x < 0 ? dy·α·eˣ : dy` (strict `<`: an input of exactly 0 passes `dy` through, as in
/// HugeCTR). Cost: one exponential per element each way.
///
/// ```swift
/// model.add(DenseLayer(.elu, bottomNames: ["fc1"], topNames: ["elu1"], eluAlpha: 1.0))
/// ```
///
/// HugeCTR: `ELU` (`elu_alpha`, default 1).
public final class ELU: RegisteredLayer {
    public let name: String
    public let inputs: [Variable]
    public let outputs: [Variable]
    let op: UnaryOp
    let backend: any Backend

    package init(name: String, input: Variable, alpha: Float, backend: any Backend) {
        self.name = name
        self.backend = backend
        op = .elu(alpha: alpha)
        inputs = [input]
        outputs = [Variable(name: name, shape: input.shape, backend: backend, rowsPerSample: input.rowsPerSample)]
    }

    public func forward(_ context: StepContext) {
        backend.unary(op, inputs[0].value, into: outputs[0].value, count: inputs[0].count(context.batch))
    }

    public func backward(_ context: StepContext) {
        backend.unaryBackward(op, x: inputs[0].value, y: outputs[0].value, dy: outputs[0].grad, into: inputs[0].grad,
                              count: inputs[0].count(context.batch))
    }

    // MARK: registry

    public static let layerType = LayerType.elu
    public static let parameterNames = ["elu_alpha"]

    public static func make(_ config: DenseLayer, inputs: [Variable], context: LayerBuildContext) throws -> any Layer {
        let check = Checker(config: config, inputs: inputs)
        try check.inputCount(1)
        try check.topCount(1)
        guard config.eluAlpha.isFinite else {
            throw check.error("elu_alpha must be a finite number, found \(config.eluAlpha). Set elu_alpha (HugeCTR's default is 1.0).")
        }
        return ELU(name: config.name, input: inputs[0], alpha: config.eluAlpha, backend: context.backend)
    }

    public static var conformanceCases: [ConformanceCase] {
        func elu(_ shape: [Int], alpha: Float) -> ConformanceCase {
            let a = Double(alpha)
            return ConformanceCase("ELU \(shape) alpha \(alpha)",
                                   DenseLayer(.elu, bottomNames: ["x"], topNames: ["elu"], eluAlpha: alpha),
                                   inputs: [ConformanceInput(shape, values: .awayFromZero)], batch: 3) { r in
                [r.inputs[0].map { $0 < 0 ? a * expm1($0) : $0 }]
            }
        }
        return [elu([7], alpha: 1), elu([2, 5], alpha: 0.3)]
    }
}
