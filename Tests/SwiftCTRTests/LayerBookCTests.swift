import CTRCore
import CTRCPU
@testable import CTRLayers
import Testing

// LayerNorm, BatchNorm, SequenceMask, MultiHeadAttention and GRU: what their conformance cases do
// not cover (each shape rule's own message, partial batches, initial values, running statistics,
// gradient accumulation).

@Suite struct LayerBookCTests {
    let cpu = TS.cpu

    // MARK: Shape rules: each violation has its own message

    @Test(arguments: [
        ShapeErrorCase(name: "LayerNorm on 5D", inputs: [[2, 2, 2, 2]],
                       config: DenseLayer(.layerNorm, bottomNames: ["x0"], topNames: ["ln_bad"]),
                       mentions: ["bottom 'x0' must be 2D or 3D or 4D", "found 5D"]),
        ShapeErrorCase(name: "LayerNorm with a negative eps", inputs: [[4]],
                       config: DenseLayer(.layerNorm, bottomNames: ["x0"], topNames: ["ln_bad"], eps: -1e-5),
                       mentions: ["eps must be ≥ 0, found -1e-05"]),
        ShapeErrorCase(name: "LayerNorm with two bottoms", inputs: [[4], [4]],
                       config: DenseLayer(.layerNorm, bottomNames: ["x0", "x1"], topNames: ["ln_bad"]),
                       mentions: ["expects 1 bottom tensor, found 2"]),
    ])
    func shapeRuleErrors(_ c: ShapeErrorCase) throws {
        try LayerTests().shapeRuleErrors(c)
    }

    // MARK: Partial batches: only the batch's rows are read and written

    @Test(arguments: [
        PartialCase(name: "LayerNorm 3D", inputs: [[3, 4]],
                    config: DenseLayer(.layerNorm, bottomNames: ["x0"], topNames: ["y"])),
    ])
    func partialBatch(_ c: PartialCase) throws {
        try LayerTests().partialBatch(c)
    }

    // MARK: LayerNorm (§6.9)

    /// γ starts at 1 and β at 0 for every initializer type but Zero (layer math §1).
    @Test(arguments: [Initializer.default, .uniform, .xavierNorm, .xavierUniform, .zero])
    func layerNormInitialValues(_ type: Initializer) throws {
        let x = Variable(name: "x", shape: [2, 5], backend: cpu)
        let layer = try TS.make(DenseLayer(.layerNorm, bottomNames: ["x"], topNames: ["ln"], gammaInitType: type,
                                           betaInitType: type), [x])
        #expect(layer.parameters.map(\.name) == ["ln.gamma", "ln.beta"])
        #expect(layer.parameters.map(\.shape) == [[1, 5], [1, 5]])
        TS.expectAll(TS.floats(layer.parameters[0].value), equal: type == .zero ? 0 : 1, "γ with \(type.rawValue)")
        TS.expectAll(TS.floats(layer.parameters[1].value), equal: 0, "β with \(type.rawValue)")
    }

    /// A constant row normalizes to 0 (no division by zero thanks to eps): the output is β.
    @Test func layerNormOfAConstantRowIsBeta() throws {
        let x = TS.variable("x", [2, 4], [3, 3, 3, 3, 1, 2, 3, 4])
        let layer = try TS.make(DenseLayer(.layerNorm, bottomNames: ["x"], topNames: ["ln"]), [x])
        TS.set(layer.parameters[1].value, [0.5, -1, 2, 0])
        layer.forward(StepContext(batch: 2, training: true))
        let y = TS.floats(layer.outputs[0].value)
        TS.expectClose(Array(y.prefix(4)), [0.5, -1, 2, 0], rtol: 0, atol: 1e-6, "constant row")
        let s = 1 / (1.25 + 1e-5).squareRoot()
        TS.expectClose(Array(y.dropFirst(4)), [-1.5 * s + 0.5, -0.5 * s - 1, 0.5 * s + 2, 1.5 * s], rtol: 1e-5, atol: 1e-6,
                       "row 1 2 3 4")
    }

    /// dγ and dβ add to what the buffers hold; dx is assigned.
    @Test func layerNormAccumulatesItsWeightGradients() throws {
        try expectWeightGradientsAccumulate(DenseLayer(.layerNorm, bottomNames: ["x"], topNames: ["ln"]), shape: [3, 4])
    }

    // MARK: helpers

    /// Two backwards in a row double every weight gradient and leave the input gradient as it was.
    func expectWeightGradientsAccumulate(_ config: DenseLayer, shape: Shape, training: Bool = true) throws {
        let x = TS.variable("x", shape, TS.normals(shape.count, seed: 61))
        let layer = try TS.make(config, [x])
        let ctx = StepContext(batch: shape[0], training: training)
        layer.forward(ctx)
        TS.backward(layer, ctx, outputGrads: [TS.normals(layer.outputs[0].value.count, seed: 62)])
        let once = layer.parameters.map { TS.floats($0.grad) }, dx = TS.floats(x.grad)
        #expect(once.allSatisfy { $0.contains { $0 != 0 } }, "every weight gradient is non-zero")
        cpu.fill(x.grad, 99)
        layer.backward(ctx)
        for (p, g) in zip(layer.parameters, once) {
            TS.expectClose(TS.floats(p.grad), g.map { 2 * $0 }, rtol: 1e-6, atol: 1e-7, "d\(p.name) after two backwards")
        }
        TS.expectClose(TS.floats(x.grad), dx, rtol: 0, atol: 0, "dx after two backwards")
    }
}
