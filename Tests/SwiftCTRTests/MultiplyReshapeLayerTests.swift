import CTRCore
import CTRCPU
@testable import CTRLayers
import Testing

// FmOrder2, WeightMultiply, MatrixMultiply, Concat, Reshape and the fused reshape-concats: what
// their conformance cases do not cover (each shape rule's own message, partial batches,
// initializers, the MatrixMutiply spelling).

@Suite struct MultiplyReshapeLayerTests {
    let cpu = TS.cpu

    // MARK: Shape rules: each violation has its own message

    @Test(arguments: [
        ShapeErrorCase(name: "FmOrder2 out_dim 0 (the default)", inputs: [[12]],
                       config: DenseLayer(.fmOrder2, bottomNames: ["x0"], topNames: ["fm_bad"]),
                       mentions: ["out_dim must be ≥ 1, found 0"]),
        ShapeErrorCase(name: "FmOrder2 out_dim not dividing the width", inputs: [[12]],
                       config: DenseLayer(.fmOrder2, bottomNames: ["x0"], topNames: ["fm_bad"], outDim: 5),
                       mentions: ["out_dim = 5 must divide the width 12"]),
        ShapeErrorCase(name: "FmOrder2 on 3D", inputs: [[3, 4]],
                       config: DenseLayer(.fmOrder2, bottomNames: ["x0"], topNames: ["fm_bad"], outDim: 4),
                       mentions: ["bottom 'x0' must be 2D", "found 3D"]),
        ShapeErrorCase(name: "FmOrder2 with two bottoms", inputs: [[4], [4]],
                       config: DenseLayer(.fmOrder2, bottomNames: ["x0", "x1"], topNames: ["fm_bad"], outDim: 2),
                       mentions: ["expects 1 bottom tensor, found 2"]),
    ])
    func shapeRuleErrors(_ c: ShapeErrorCase) throws {
        try LayerTests().shapeRuleErrors(c)
    }

    // MARK: Partial batches: only the batch's rows are read and written

    @Test(arguments: [
        PartialCase(name: "FmOrder2", inputs: [[12]],
                    config: DenseLayer(.fmOrder2, bottomNames: ["x0"], topNames: ["y"], outDim: 4)),
    ])
    func partialBatch(_ c: PartialCase) throws {
        try LayerTests().partialBatch(c)
    }

    // MARK: FmOrder2 (§6.5)

    /// One field has no pairs: the output and the gradient are exactly zero.
    @Test func fmOrder2OfOneFieldIsZero() throws {
        let x = TS.variable("x", [2, 3], TS.normals(6, seed: 3))
        let layer = try TS.make(DenseLayer(.fmOrder2, bottomNames: ["x"], topNames: ["fm"], outDim: 3), [x])
        #expect(layer.outputs[0].shape == [2, 3])
        let ctx = StepContext(batch: 2, training: true)
        layer.forward(ctx)
        TS.expectAll(TS.floats(layer.outputs[0].value), equal: 0, "FM of a single field")
        TS.backward(layer, ctx, outputGrads: [TS.normals(6, seed: 4)])
        TS.expectAll(TS.floats(x.grad), equal: 0, "FM gradient of a single field")
    }
}
