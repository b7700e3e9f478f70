import CTRCore
import CTRCPU
import CTRLayers
@testable import SwiftCTR
import Testing

/// The CPU backend's GEMM, with OpenBLAS and with the built-in fallback, against a naive loop.
@Suite("CPU backend GEMM")
struct BackendTests {
    static let fallback = CPUBackend(blasCandidates: ["libswiftctr-no-such-blas.so.0"])

    @Test func fallbackIsReported() {
        #expect(Self.fallback.blas == nil)
        #expect(Self.fallback.name.contains("built-in Swift GEMM"))
        #expect(Self.fallback.name.contains("OpenBLAS not found"))
    }

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)], [(1, 1, 1), (7, 5, 3), (33, 65, 17)])
    func gemmMatchesNaiveLoop(transposes: (Bool, Bool), size: (Int, Int, Int)) {
        let (transA, transB) = transposes
        let (m, n, k) = size
        let a = TS.normals(m * k, seed: 11), b = TS.normals(k * n, seed: 12), c0 = TS.normals(m * n, seed: 13)
        var expected = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    let av = transA ? a[p * m + i] : a[i * k + p]
                    let bv = transB ? b[j * k + p] : b[p * n + j]
                    s += Double(av) * Double(bv)
                }
                expected[i * n + j] = 0.5 * s + 2 * Double(c0[i * n + j])
            }
        }
        for backend in [TS.cpu, Self.fallback] {
            let ta = backend.tensor(a, [m * k]), tb = backend.tensor(b, [k * n]), tc = backend.tensor(c0, [m * n])
            backend.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: ta, b: tb, beta: 2, c: tc)
            let got = backend.floats(tc)
            for i in 0..<(m * n) {
                #expect(abs(Double(got[i]) - expected[i]) <= 1e-4 * (1 + abs(expected[i])), "\(backend.name) element \(i)")
            }
        }
    }
}

/// The device self-test machinery, run with the fallback-GEMM CPU backend as the "device": every
/// case must agree with the OpenBLAS CPU backend, and a wrong kernel must be caught.
@Suite("Backend self-test")
struct SelfTestTests {
    @Test func everyCasePassesOnTheCPU() {
        let results = BackendSelfTest.run(device: BackendTests.fallback)
        #expect(results.count >= 20)
        for result in results { #expect(result.passed, "\(result.name): \(result.detail)") }
        #expect(BackendSelfTest.report(results, device: "cpu").contains("\(results.count) passed, 0 failed"))
        // Every registered layer's conformance cases, and graph replay for each dense optimizer.
        let layerCases = LayerRegistry.types.reduce(0) { $0 + $1.conformanceCases.count }
        #expect(results.filter { $0.name.hasPrefix("layer ") }.count == layerCases)
        for optimizer in ["Adam", "SGD", "AdaGrad", "MomentumSGD", "Nesterov", "Ftrl"] {
            #expect(results.contains { $0.name.hasPrefix("training step replayed") && $0.name.hasSuffix(optimizer) })
        }
        for optimizer in ["AdaGrad", "MomentumSGD local", "MomentumSGD global", "Nesterov local", "Nesterov global"] {
            #expect(results.contains { $0.name.hasPrefix("sparse \(optimizer), vec") }, "single sparse \(optimizer) update")
            #expect(results.contains { $0.name == "one-hot embedding, 3 steps of sparse \(optimizer)" })
        }
        #expect(results.filter { $0.name.hasPrefix("dense ") }.count == 4)
    }

    @Test func comparisonCatchesAWrongValue() {
        let result = BackendSelfTest.compare("probe", [1, 2, 3], [1, 2, 3.1], tolerance: 1e-4)
        #expect(!result.passed)
        #expect(abs(result.maxAbsError - 0.1) < 1e-9)
        #expect(!BackendSelfTest.compare("probe", [1, 2], [1], tolerance: 1).passed)
    }
}

/// A ReLU read only by a Dropout runs as one fused layer; it must compute exactly what the pair does.
@Suite("ReLU + Dropout fusion")
struct FusionTests {
    @Test(arguments: [Float(0.5), 0.0, 0.25])
    func fusedEqualsThePair(rate: Float) throws {
        let (batch, width) = (7, 33)
        let x = TS.variable("x", [batch, width], TS.normals(batch * width, seed: 3))
        let relu = try TS.make(DenseLayer(.relu, bottomNames: ["x"], topNames: ["r"]), [x])
        let dropout = try TS.make(DenseLayer(.dropout, bottomNames: ["r"], topNames: ["d"], dropoutRate: rate), relu.outputs)
        let fused = ReLUDropout(name: "d", input: x, rate: rate, backend: TS.cpu)
        let dy = TS.normals(batch * width, seed: 4)
        for training in [true, false] {
            let ctx = StepContext(batch: batch, training: training, iteration: 3, seed: 9)
            relu.forward(ctx)
            dropout.forward(ctx)
            fused.forward(ctx)
            #expect(TS.floats(dropout.outputs[0].value) == TS.floats(fused.outputs[0].value), "forward, training \(training)")
            TS.set(dropout.outputs[0].grad, dy)
            TS.set(fused.outputs[0].grad, dy)
            dropout.backward(ctx)
            relu.backward(ctx)
            let pairGrad = TS.floats(x.grad)
            fused.backward(ctx)
            #expect(pairGrad == TS.floats(x.grad), "backward, training \(training)")
        }
    }

    @Test func biasFoldedIntoTheFusedLayerEqualsTheChain() throws {
        let (batch, inWidth, width) = (6, 5, 9)
        let x = TS.variable("x", [batch, inWidth], TS.normals(batch * inWidth, seed: 21))
        let config = DenseLayer(.innerProduct, bottomNames: ["x"], topNames: ["fc"], numOutput: width,
                                biasInitType: .uniform)
        let ip = try TS.make(config, [x], seed: 4), folded = try TS.make(config, [x], seed: 4) as! InnerProduct
        folded.biasAddedByConsumer = true
        folded.biasGradientByConsumer = true
        let relu = try TS.make(DenseLayer(.relu, bottomNames: ["fc"], topNames: ["r"]), ip.outputs)
        let dropout = try TS.make(DenseLayer(.dropout, bottomNames: ["r"], topNames: ["d"], dropoutRate: 0.3), relu.outputs)
        let fused = ReLUDropout(name: "d", input: folded.outputs[0], rate: 0.3, bias: folded.parameters[1],
                                backend: TS.cpu)
        let ctx = StepContext(batch: batch, training: true, iteration: 2, seed: 5)
        for layer in [ip, relu, dropout, folded, fused] as [any Layer] { layer.forward(ctx) }
        TS.expectClose(TS.floats(fused.outputs[0].value), TS.floats(dropout.outputs[0].value), rtol: 1e-6, atol: 1e-6,
                       "forward")
        let dy = TS.normals(batch * width, seed: 22)
        TS.set(dropout.outputs[0].grad, dy)
        TS.set(fused.outputs[0].grad, dy)
        for p in ip.parameters + folded.parameters { TS.cpu.fill(p.grad, 0) }
        for layer in [dropout, relu, ip] as [any Layer] { layer.backward(ctx) }
        let chainInputGrad = TS.floats(x.grad)
        for layer in [fused, folded] as [any Layer] { layer.backward(ctx) }
        TS.expectClose(TS.floats(x.grad), chainInputGrad, rtol: 1e-5, atol: 1e-6, "input gradient")
        for (a, b) in zip(ip.parameters, folded.parameters) {
            TS.expectClose(TS.floats(b.grad), TS.floats(a.grad), rtol: 1e-5, atol: 1e-6, "\(a.name) gradient")
        }
    }

    @Test func compiledDCNRunsTheFusedLayer() throws {
        let reader = DataReaderParams(dataReaderType: .norm, source: ["unused"], evalSource: "unused", checkType: .none)
        let model = try Model(Solver(seed: 1, batchsizeEval: 8, batchsize: 8), reader, CreateOptimizer())
        let sparse = DataReaderSparseParam("data1", 1, true, 3)
        model.add(Input(labelDim: 1, labelName: "label", denseDim: 2, denseName: "dense", dataReaderSparseParamArray: [sparse]))
        let (embedding, layers) = Recipes.dcn(sparseInput: sparse, vecSize: 4, workspaceMB: 1, crossLayers: 2, deepWidth: 8)
        model.add(embedding)
        layers.forEach(model.add)
        try model.compile()
        let text = model.summary()
        #expect(text.split(separator: "\n").filter { $0.contains(" ReLU+Dropout ") }.count == 2)
        #expect(!text.contains("relu1 "))
        // concat2 (deep and cross outputs) is read only by fc3, which reads its two parts instead.
        let fc3 = text.split(separator: "\n").first { $0.hasPrefix("fc3 ") }.map(String.init) ?? ""
        #expect(fc3.contains("dropout2, multicross1"), "fc3's row: \(fc3)")
        #expect(!text.split(separator: "\n").contains { $0.hasPrefix("concat2 ") })
    }
}
