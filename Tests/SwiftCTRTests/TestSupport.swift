import CTRCore
import CTRCPU
import CTRLayers
import Testing

/// Shared helpers of the layer, embedding and optimizer tests: seeded random data, variables with
/// known values, tolerant comparisons against fp64 references, and a central-difference gradient
/// check. Everything lives in this namespace so that it cannot clash with other test files.
enum TS {
    /// One backend for all tests; it is stateless apart from the BLAS handle.
    static let cpu = CPUBackend()

    // MARK: random data

    /// N(0, std²) values from the counter RNG (reproducible).
    static func normals(_ count: Int, seed: UInt64, std: Double = 1) -> [Float] {
        var rng = CounterRNG(seed: seed, stream: 0x7E57)
        return (0..<count).map { _ in Float(rng.nextNormal() * std) }
    }

    /// U(low, high) values from the counter RNG.
    static func uniforms(_ count: Int, seed: UInt64, _ low: Double, _ high: Double) -> [Float] {
        var rng = CounterRNG(seed: seed, stream: 0x7E58)
        return (0..<count).map { _ in Float(rng.nextUniform(low, high)) }
    }

    /// N(0,1) values pushed at least `gap` away from zero (for kinks such as ReLU's).
    static func awayFromZero(_ count: Int, seed: UInt64, gap: Float = 0.05) -> [Float] {
        normals(count, seed: seed).map { $0 >= 0 ? $0 + gap : $0 - gap }
    }

    // MARK: tensors and variables

    /// A variable of `shape` holding `values` (zero-padded).
    static func variable(_ name: String, _ shape: Shape, _ values: [Float], rowsPerSample: Int = 1) -> Variable {
        let v = Variable(name: name, shape: shape, backend: cpu, rowsPerSample: rowsPerSample)
        cpu.upload(values, to: v.value)
        return v
    }

    /// A variable of `shape` with N(0,1) values; returns the values too.
    static func randomVariable(_ name: String, _ shape: Shape, seed: UInt64) -> (Variable, [Float]) {
        let values = normals(shape.count, seed: seed)
        return (variable(name, shape, values), values)
    }

    static func floats(_ tensor: Tensor, _ count: Int? = nil) -> [Float] { cpu.floats(tensor, count: count) }

    static func set(_ tensor: Tensor, _ values: [Float]) { cpu.upload(values, to: tensor) }

    /// Reads or writes one element of a host tensor in place.
    static func element(_ tensor: Tensor, _ index: Int) -> Float { tensor.hostPointer(as: Float.self)[index] }
    static func setElement(_ tensor: Tensor, _ index: Int, _ value: Float) {
        tensor.hostPointer(as: Float.self)[index] = value
    }

    static func factory(seed: UInt64 = 1) -> LayerFactory { LayerFactory(backend: cpu, seed: seed) }

    static func make(_ config: DenseLayer, _ inputs: [Variable], seed: UInt64 = 1) throws -> any Layer {
        try factory(seed: seed).make(config, inputs: inputs)
    }

    /// Zeroes every parameter gradient of `layer`.
    static func zeroParameterGrads(_ layer: any Layer) {
        for p in layer.parameters { cpu.fill(p.grad, 0) }
    }

    /// Fills every input gradient with a sentinel, so that a backward that accumulates instead of
    /// assigning (or skips elements) shows.
    static func poisonInputGrads(_ layer: any Layer, _ value: Float = 1234.5) {
        for input in layer.inputs { cpu.fill(input.grad, value) }
    }

    /// Uploads `grads[k]` into output k's gradient, zeroes parameter gradients, poisons input
    /// gradients and runs backward.
    static func backward(_ layer: any Layer, _ context: StepContext, outputGrads grads: [[Float]]) {
        for (output, g) in zip(layer.outputs, grads) { cpu.upload(g, to: output.grad) }
        zeroParameterGrads(layer)
        poisonInputGrads(layer)
        layer.backward(context)
    }

    // MARK: comparisons

    /// Checks `|a − e| ≤ atol + rtol·|e|` element-wise; reports the worst element.
    static func expectClose(_ actual: [Float], _ expected: [Double], rtol: Double = 1e-4, atol: Double = 1e-4,
                            _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard actual.count == expected.count else {
            Issue.record("\(what): \(actual.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
            return
        }
        var failures = 0, worst = -1, worstExcess = 0.0
        for i in actual.indices {
            let a = Double(actual[i]), e = expected[i]
            let bound = atol + rtol * abs(e)
            let d = abs(a - e)
            if !(d <= bound) {
                failures += 1
                let excess = d.isNaN ? .infinity : d / bound
                if excess > worstExcess || worst < 0 { worstExcess = excess; worst = i }
            }
        }
        #expect(failures == 0,
                "\(what): \(failures) of \(actual.count) differ; worst [\(worst)]: \(worst >= 0 ? actual[worst] : 0) vs \(worst >= 0 ? expected[worst] : 0)",
                sourceLocation: sourceLocation)
    }

    static func expectClose(_ actual: [Float], _ expected: [Float], rtol: Double = 1e-4, atol: Double = 1e-4,
                            _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        expectClose(actual, expected.map(Double.init), rtol: rtol, atol: atol, what, sourceLocation: sourceLocation)
    }

    /// Every element of `values` equals `value` exactly.
    static func expectAll(_ values: [Float], equal value: Float, _ what: String,
                          sourceLocation: SourceLocation = #_sourceLocation) {
        let bad = values.firstIndex { $0 != value && !($0.isNaN && value.isNaN) }
        #expect(bad == nil, "\(what): element \(bad ?? -1) is \(bad.map { values[$0] } ?? 0), expected \(value)",
                sourceLocation: sourceLocation)
    }

    // MARK: finite differences

    /// At most `limit` indices spread evenly over `0..<count` (always including the first and last).
    static func sampleIndices(_ count: Int, limit: Int = 40) -> [Int] {
        guard count > limit else { return Array(0..<count) }
        return (0..<limit).map { $0 * (count - 1) / (limit - 1) }
    }

    /// `L = Σ_k Σ_i r_k[i]·y_k[i]` over the outputs after a forward pass, summed in Double.
    static func weightedOutputSum(_ layer: any Layer, _ context: StepContext, _ r: [[Float]]) -> Double {
        layer.forward(context)
        var total = 0.0
        for (output, weights) in zip(layer.outputs, r) {
            let y = floats(output.value, weights.count)
            for i in weights.indices { total += Double(weights[i]) * Double(y[i]) }
        }
        return total
    }

    /// Compares `analytic[i]` with the central difference `(L(t+h) − L(t−h)) / 2h` of
    /// `L = Σ r·y`, perturbing element i of `target` (a layer input or parameter) in place.
    static func finiteDifferenceCheck(_ layer: any Layer, _ context: StepContext, r: [[Float]], target: Tensor,
                                      analytic: [Float], h: Float = 1e-2, rtol: Double = 2e-2, atol: Double = 1e-3,
                                      limit: Int = 40, _ what: String,
                                      sourceLocation: SourceLocation = #_sourceLocation) {
        let scale = max(1, analytic.map { abs(Double($0)) }.max() ?? 0)
        var failures: [String] = []
        for i in sampleIndices(analytic.count, limit: limit) {
            let original = element(target, i)
            let plus = original + h, minus = original - h
            setElement(target, i, plus)
            let lPlus = weightedOutputSum(layer, context, r)
            setElement(target, i, minus)
            let lMinus = weightedOutputSum(layer, context, r)
            setElement(target, i, original)
            let numeric = (lPlus - lMinus) / (Double(plus) - Double(minus))
            let a = Double(analytic[i])
            if !(abs(a - numeric) <= atol * scale + rtol * max(abs(a), abs(numeric))) {
                failures.append("[\(i)] analytic \(a) vs numeric \(numeric)")
            }
        }
        layer.forward(context)
        #expect(failures.isEmpty, "\(what): finite differences disagree at \(failures.prefix(4).joined(separator: ", "))",
                sourceLocation: sourceLocation)
    }
}
