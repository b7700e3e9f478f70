import CTRCore
import CTRCPU
import CTRLayers
import Testing

/// Every registered layer's conformance cases on the CPU backend (PyTorch's OpInfo pattern): the
/// forward against the case's float64 reference, and every input and weight gradient against
/// central differences of that reference (training cases) for `L = Σ r·y` with a random upstream gradient `r`.
/// A layer added to `LayerRegistry` is tested here with no new test code.
@Suite("Layer conformance")
struct ConformanceTests {
    /// One case, named for the test list.
    struct Sample: Sendable, CustomTestStringConvertible {
        let conformanceCase: ConformanceCase
        var testDescription: String { conformanceCase.name }
    }

    static let samples = LayerRegistry.types.flatMap { $0.conformanceCases.map(Sample.init) }

    @Test func everyRegisteredTypeHasCasesOfItsType() {
        for type in LayerRegistry.types {
            #expect(!type.conformanceCases.isEmpty, "\(type.layerType.rawValue) has no conformance case")
            for c in type.conformanceCases {
                #expect(c.config.layerType == type.layerType, "\(c.name) is registered under \(type.layerType.rawValue)")
            }
        }
    }

    @Test func availableIsTheRegistry() {
        let types = LayerRegistry.types.map { $0.layerType }
        #expect(LayerFactory.available == types)
        #expect(Set(types).count == types.count, "a layer type is registered twice")
    }

    @Test(arguments: samples)
    func forwardAndBackwardMatchTheReference(_ sample: Sample) throws {
        let c = sample.conformanceCase
        let run = try ConformanceRun(c, backend: TS.cpu)
        let x = run.inputValues(\.value).map { $0.map(Double.init) }
        let w = run.layer.parameters.map { TS.floats($0.value).map(Double.init) }
        func reference(_ x: [[Double]], _ w: [[Double]]) -> [[Double]] {
            c.reference(ConformanceReference(inputs: x, parameters: w, batch: c.batch, context: c.context))
        }

        let expected = reference(x, w), outputs = run.forward()
        #expect(outputs.count == expected.count, "\(c.name): \(outputs.count) outputs, reference \(expected.count)")
        for (k, (got, want)) in zip(outputs, expected).enumerated() {
            let scale = want.map(abs).max() ?? 1
            TS.expectClose(got, want, rtol: 1e-4, atol: 1e-5 * max(1, scale), "\(c.name) output \(k)")
        }

        // Backward only follows a training forward (an evaluation step has none).
        guard c.training else { return }
        let r = run.upstream()
        let grads = run.backward(r)
        func loss(_ x: [[Double]], _ w: [[Double]]) -> Double {
            zip(reference(x, w), r).reduce(0) { total, pair in
                zip(pair.0, pair.1).reduce(total) { $0 + $1.0 * Double($1.1) }
            }
        }
        /// Central differences of `loss` over element i of `tensor` (input or parameter k).
        func check(_ analytic: [Float], _ what: String, perturb: (inout [[Double]], inout [[Double]], Int, Double) -> Void) {
            let h = 1e-4, scale = max(1, analytic.map { abs(Double($0)) }.max() ?? 0)
            var failures: [String] = []
            for i in TS.sampleIndices(analytic.count) {
                var (xp, wp, xm, wm) = (x, w, x, w)
                perturb(&xp, &wp, i, h)
                perturb(&xm, &wm, i, -h)
                let numeric = (loss(xp, wp) - loss(xm, wm)) / (2 * h), a = Double(analytic[i])
                if !(abs(a - numeric) <= 1e-4 * scale + 1e-3 * abs(numeric)) {
                    failures.append("[\(i)] analytic \(a) vs numeric \(numeric)")
                }
            }
            #expect(failures.isEmpty, "\(c.name) \(what): finite differences disagree at \(failures.prefix(4).joined(separator: ", "))")
        }
        for (k, input) in c.inputs.enumerated() where input.differentiable {
            #expect(grads.inputs[k].count == x[k].count)
            check(grads.inputs[k], "d(input \(k))") { x, _, i, h in x[k][i] += h }
        }
        for (k, parameter) in run.layer.parameters.enumerated() {
            check(grads.parameters[k], "d(\(parameter.name))") { _, w, i, h in w[k][i] += h }
        }
    }
}
