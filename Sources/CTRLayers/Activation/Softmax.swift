import CTRCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `Softmax` over the last dimension of any input: `y = exp(x − max) / Σ_last exp(x − max)`;
/// backward `dx = y ⊙ (dy − Σ_last dy ⊙ y)`. Subtracting the row maximum leaves y unchanged and
/// keeps every exponent ≤ 0, so no row overflows. Cost: 3 passes forward, 2 backward.
///
/// With a second bottom, a mask `m`, it is the masked softmax of attention, with `s = factor`:
/// `z = s·x − 10000·(1 − m)`, `y = softmax(z)` per row, `dx = s·(y ⊙ (dy − Σ_last dy ⊙ y))`. The
/// mask has the input's rank and shape with leading per-sample dimensions set to 1, and is repeated
/// over them: for `x (B, H, Lf, Lt)` a mask `(B, 1, Lf, Lt)` (HugeCTR's layout) or `(B, 1, 1, Lt)`
/// (the book's). The mask gets no gradient.
///
/// ```swift
/// model.add(DenseLayer(.softmax, bottomNames: ["reshape1"], topNames: ["softmax_i"]))
/// model.add(DenseLayer(.softmax, bottomNames: ["scores", "mask"], topNames: ["attention"], factor: 0.125))
/// ```
///
/// HugeCTR: `Softmax` and its two-bottom masked form. HugeCTR's one-bottom softmax has no max
/// subtraction (it overflows for x > 88), and the masked one adds 1e-6 to the denominator; SwiftCTR
/// does neither (see `docs/compatibility.md`).
public final class Softmax: RegisteredLayer {
    public let name: String
    public let inputs: [Variable]
    public let outputs: [Variable]
    let width: Int
    let mask: Mask?
    let backend: any Backend

    /// The masked form's constants and workspaces.
    struct Mask {
        let scale: Float
        /// How often one sample's mask repeats in its input, and the mask's elements per sample.
        let repeats: Int, elements: Int
        /// `10000·(m − 1)` at the mask's size, then repeated to the input's size.
        let penalty: Tensor, repeated: Tensor
        /// One element holding 1, subtracted from every mask element.
        let one: Tensor
    }

    package init(name: String, input: Variable, mask: Variable?, scale: Float, backend: any Backend) {
        self.name = name
        self.backend = backend
        width = input.shape.last
        inputs = mask.map { [input, $0] } ?? [input]
        outputs = [Variable(name: name, shape: input.shape, backend: backend, rowsPerSample: input.rowsPerSample)]
        self.mask = mask.map { m in
            let one = backend.makeTensor([1], .float32)
            backend.fill(one, 1)
            return Mask(scale: scale, repeats: input.sampleCount / m.sampleCount, elements: m.sampleCount,
                        penalty: backend.makeTensor(m.shape, .float32), repeated: backend.makeTensor(input.shape, .float32),
                        one: one)
        }
    }

    public func forward(_ context: StepContext) {
        let x = inputs[0], y = outputs[0].value, n = x.count(context.batch)
        if let mask {
            let m = inputs[1], maskCount = m.count(context.batch)
            backend.binary(.subtract, m.value, mask.one, into: mask.penalty, count: maskCount, broadcast: .row(1))
            backend.unary(.scale(10_000), mask.penalty, into: mask.penalty, count: maskCount)
            backend.reduceBackward(.sum, dy: mask.penalty, outer: context.batch, axis: mask.repeats, inner: mask.elements,
                                   into: mask.repeated)
            backend.unary(.scale(mask.scale), x.value, into: y, count: n)
            backend.binary(.add, y, mask.repeated, into: y, count: n)
            backend.softmaxRows(y, rows: n / width, width: width, into: y)
        } else {
            backend.softmaxRows(x.value, rows: n / width, width: width, into: y)
        }
    }

    public func backward(_ context: StepContext) {
        let n = inputs[0].count(context.batch), dx = inputs[0].grad
        backend.softmaxRowsBackward(y: outputs[0].value, dy: outputs[0].grad, rows: n / width, width: width, into: dx)
        if let mask, mask.scale != 1 { backend.unary(.scale(mask.scale), dx, into: dx, count: n) }
    }

    // MARK: registry

    public static let layerType = LayerType.softmax
    public static func mixedPrecisionRefusal(_ config: DenseLayer) -> String? {
        config.bottomNames.count > 1
            ? "HugeCTR builds the masked Softmax (two bottoms) in fp32 only, so the layer book does not allow it with use_mixed_precision. Turn mixed precision off (Solver(useMixedPrecision: false)) or drop the mask." : nil
    }
    public static let parameterNames = ["factor"]

    public static func make(_ config: DenseLayer, inputs: [Variable], context: LayerBuildContext) throws -> any Layer {
        let check = Checker(config: config, inputs: inputs)
        try check.topCount(1)
        guard inputs.count == 1 || inputs.count == 2 else {
            throw check.error("Softmax takes one bottom (softmax over the last dimension) or two (input and mask), found \(inputs.count). Fix bottom_names.")
        }
        let x = inputs[0]
        guard inputs.count == 2 else {
            return Softmax(name: config.name, input: x, mask: nil, scale: 1, backend: context.backend)
        }
        let m = inputs[1], xDims = x.perSampleShape.dims, mDims = m.perSampleShape.dims
        let ones = mDims.prefix { $0 == 1 }.count
        guard x.rowsPerSample == 1, m.rowsPerSample == 1, x.maxBatch == m.maxBatch, mDims.count == xDims.count,
              !xDims.isEmpty, mDims[ones...] == xDims[ones...] else {
            throw check.error("the mask must have the input's shape with leading per-sample dimensions set to 1 (for an input (B, H, Lf, Lt): (B, 1, Lf, Lt) or (B, 1, 1, Lt)), found input \(check.describeInputs()).")
        }
        guard config.factor.isFinite else {
            throw check.error("factor (the masked softmax's scale) must be a finite number, found \(config.factor).")
        }
        return Softmax(name: config.name, input: x, mask: m, scale: config.factor, backend: context.backend)
    }

    public static var conformanceCases: [ConformanceCase] {
        func softmax(_ shape: [Int]) -> ConformanceCase {
            ConformanceCase("Softmax \(shape)", DenseLayer(.softmax, bottomNames: ["x"], topNames: ["softmax"]),
                            inputs: [ConformanceInput(shape)], batch: 3) { r in
                [referenceSoftmax(r.inputs[0], width: shape.last!)]
            }
        }
        func masked(_ shape: [Int], mask maskShape: [Int], factor: Float) -> ConformanceCase {
            let s = Double(factor), repeats = shape.reduce(1, *) / maskShape.reduce(1, *), elements = maskShape.reduce(1, *)
            return ConformanceCase("Softmax \(shape) masked by \(maskShape), factor \(factor)",
                                   DenseLayer(.softmax, bottomNames: ["x", "mask"], topNames: ["softmax"], factor: factor),
                                   inputs: [ConformanceInput(shape),
                                            ConformanceInput(maskShape, values: .probabilities, differentiable: false)],
                                   batch: 2) { r in
                let x = r.inputs[0], m = r.inputs[1], perSample = repeats * elements
                let z = x.indices.map { i in
                    let sample = i / perSample, k = i % perSample % elements
                    return s * x[i] - 10_000 * (1 - m[sample * elements + k])
                }
                return [referenceSoftmax(z, width: shape.last!)]
            }
        }
        return [softmax([7]), softmax([3, 5]), masked([2, 3, 4], mask: [1, 3, 4], factor: 0.5),
                masked([2, 2, 3], mask: [1, 1, 3], factor: 1)]
    }

    /// Float64 softmax of every row of `width`, with the row maximum subtracted.
    static func referenceSoftmax(_ z: [Double], width: Int) -> [Double] {
        stride(from: 0, to: z.count, by: width).flatMap { start -> [Double] in
            let row = z[start..<start + width], top = row.max()!
            let e = row.map { exp($0 - top) }, sum = e.reduce(0, +)
            return e.map { $0 / sum }
        }
    }
}
