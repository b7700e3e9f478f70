import CTRCore
import CTRCPU
import CTRLayers
import Foundation
import Testing

// Every `weight_init_type` / `bias_init_type` of every layer with weights, against layer math §1
// written out again here: the bounds and spread of each tensor's initial values, Zero, the biases
// that start at zero whatever is asked, and that the values are drawn on the host from the seed
// (the same on every backend, different for another seed).

/// What one weight tensor's initial values must look like.
private enum Expected: CustomStringConvertible {
    case zero
    /// U(−limit, limit).
    case uniform(Double)
    /// N(0, std²), not truncated.
    case normal(Double)
    /// N(0, std²) truncated at ±2 standard deviations of the underlying normal: |w| ≤ 2·std/0.8796.
    case truncatedNormal(Double)

    var description: String {
        switch self {
        case .zero: "0"
        case .uniform(let limit): "U(±\(limit))"
        case .normal(let std): "N(0, \(std))"
        case .truncatedNormal(let std): "truncated N(0, \(std))"
        }
    }
}

struct InitializerCase: Sendable, CustomTestStringConvertible {
    let layer: String
    let weight: Initializer
    let bias: Initializer
    var testDescription: String { "\(layer), weight \(weight.rawValue), bias \(bias.rawValue)" }
}

private let allTypes: [Initializer] = [.default, .uniform, .xavierNorm, .xavierUniform, .zero]

/// Checks `values` against `expected`: exact zeros; the bounds of uniform and truncated draws
/// (and that a uniform draw reaches near its limit); the standard deviation within 5 % and the
/// mean near 0; an untruncated normal has draws beyond the truncation bound.
private func check(_ values: [Float], _ expected: Expected, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let n = Double(values.count), mean = values.reduce(0.0) { $0 + Double($1) } / n
    let std = (values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n).squareRoot()
    let largest = values.reduce(0.0) { max($0, abs(Double($1))) }
    func expectSpread(_ target: Double) {
        #expect(abs(std / target - 1) < 0.05, "\(what): standard deviation \(std), expected \(target)", sourceLocation: sourceLocation)
        #expect(abs(mean) < 4 * target / n.squareRoot(), "\(what): mean \(mean)", sourceLocation: sourceLocation)
    }
    switch expected {
    case .zero:
        #expect(values.allSatisfy { $0 == 0 }, "\(what): expected all zero", sourceLocation: sourceLocation)
    case .uniform(let limit):
        #expect(largest <= limit && largest > 0.99 * limit, "\(what): largest |w| \(largest), limit \(limit)",
                sourceLocation: sourceLocation)
        expectSpread(limit / 3.0.squareRoot())
    case .normal(let target):
        #expect(largest > 2.3 * target, "\(what): largest |w| \(largest): a normal draw reaches beyond 2.27σ",
                sourceLocation: sourceLocation)
        expectSpread(target)
    case .truncatedNormal(let target):
        #expect(largest <= 2 * target / 0.87962566103423978 * (1 + 1e-6), "\(what): largest |w| \(largest) beyond the truncation",
                sourceLocation: sourceLocation)
        expectSpread(target)
    }
}

@Suite struct InitializerTests {
    let cpu = TS.cpu

    /// InnerProduct (fan-in 60, fan-out 1500): W (60, 1500) and b (1, 1500) per layer math §1.
    @Test(arguments: allTypes.flatMap { w in allTypes.map { InitializerCase(layer: "InnerProduct", weight: w, bias: $0) } })
    func innerProduct(_ c: InitializerCase) throws {
        let (fanIn, fanOut) = (60.0, 1500.0)
        let layer = try TS.make(DenseLayer(.innerProduct, bottomNames: ["x"], topNames: ["fc"], numOutput: Int(fanOut),
                                           weightInitType: c.weight, biasInitType: c.bias),
                                [TS.variable("x", [2, Int(fanIn)], [])], seed: 17)
        let weight: Expected = switch c.weight {
        case .default, .xavierNorm: .truncatedNormal((2 / (fanIn + fanOut)).squareRoot())
        case .uniform: .uniform(1 / (fanIn + fanOut))
        case .xavierUniform: .uniform((6 / (fanIn + fanOut)).squareRoot())
        case .zero: .zero
        }
        let bias: Expected = switch c.bias {
        case .default: .normal((1 / fanOut).squareRoot())
        case .uniform: .uniform(1 / fanOut)
        case .xavierUniform: .uniform((3 / (fanOut / 2)).squareRoot())
        case .xavierNorm: .truncatedNormal((1 / (fanOut / 2)).squareRoot())
        case .zero: .zero
        }
        check(TS.floats(layer.parameters[0].value), weight, "\(c.testDescription): W \(weight)")
        check(TS.floats(layer.parameters[1].value), bias, "\(c.testDescription): b \(bias)")
    }

    /// WeightMultiply W (S, V) = (40, 50): fan-in S, fan-out S·V; Default is XavierUniform.
    @Test(arguments: allTypes.map { InitializerCase(layer: "WeightMultiply", weight: $0, bias: .default) })
    func weightMultiply(_ c: InitializerCase) throws {
        let (s, v) = (40.0, 50.0), fans = s + s * v
        let layer = try TS.make(DenseLayer(.weightMultiply, bottomNames: ["x"], topNames: ["wm"], weightInitType: c.weight,
                                           weightDims: [Int(s), Int(v)]),
                                [TS.variable("x", [2, Int(s)], [])], seed: 18)
        let expected: Expected = switch c.weight {
        case .default, .xavierUniform: .uniform((6 / fans).squareRoot())
        case .uniform: .uniform(1 / fans)
        case .xavierNorm: .truncatedNormal((2 / fans).squareRoot())
        case .zero: .zero
        }
        check(TS.floats(layer.parameters[0].value), expected, "\(c.testDescription): W \(expected)")
    }

    /// MultiCross (v1) of width 3000, two layers: every type but Zero gives w ~ N(0, 1/n); the
    /// biases start at 0 whatever `bias_init_type` says (HugeCTR's Default bias, which every type
    /// maps to).
    @Test(arguments: allTypes.flatMap { w in [Initializer.default, .uniform, .zero].map {
        InitializerCase(layer: "MultiCross", weight: w, bias: $0)
    } })
    func multiCross(_ c: InitializerCase) throws {
        let n = 3000
        let layer = try TS.make(DenseLayer(.multiCross, bottomNames: ["x"], topNames: ["cross"], weightInitType: c.weight,
                                           biasInitType: c.bias, numLayers: 2),
                                [TS.variable("x", [2, n], [])], seed: 19)
        let weight: Expected = c.weight == .zero ? .zero : .normal((1 / Double(n)).squareRoot())
        for l in 0..<2 {
            check(TS.floats(layer.parameters[2 * l].value), weight, "\(c.testDescription): w_\(l) \(weight)")
            check(TS.floats(layer.parameters[2 * l + 1].value), .zero, "\(c.testDescription): b_\(l)")
        }
        #expect(TS.floats(layer.parameters[0].value) != TS.floats(layer.parameters[2].value) || c.weight == .zero,
                "each cross layer draws its own weights")
    }

    /// Weights come from the counter RNG on the host: another CPU backend instance gets the very
    /// same values, another seed other values.
    @Test func weightsAreDrawnOnTheHostFromTheSeed() throws {
        let configs = [
            DenseLayer(.innerProduct, bottomNames: ["x"], topNames: ["fc"], numOutput: 7, weightInitType: .xavierUniform),
            DenseLayer(.multiCross, bottomNames: ["x"], topNames: ["cross"], numLayers: 2),
            DenseLayer(.weightMultiply, bottomNames: ["x"], topNames: ["wm"], weightDims: [5, 3]),
        ]
        for config in configs {
            func values(_ backend: CPUBackend, seed: UInt64) throws -> [[Float]] {
                let input = Variable(name: "x", shape: [2, 5], backend: backend)
                let layer = try LayerFactory(backend: backend, seed: seed).make(config, inputs: [input])
                return layer.parameters.map { backend.floats($0.value) }
            }
            let first = try values(cpu, seed: 23)
            #expect(try values(BackendTests.fallback, seed: 23) == first, "\(config.layerType.rawValue): same seed, same weights")
            #expect(try values(cpu, seed: 24) != first, "\(config.layerType.rawValue): another seed, other weights")
        }
    }
}
