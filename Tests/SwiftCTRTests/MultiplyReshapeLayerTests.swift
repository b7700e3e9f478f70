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
        ShapeErrorCase(name: "WeightMultiply without weight_dims (the default)", inputs: [[3]],
                       config: DenseLayer(.weightMultiply, bottomNames: ["x0"], topNames: ["wm_bad"]),
                       mentions: ["weight_dims must be [slot_dim, vec_dim] with both ≥ 1, found []", "weight_dims = [3, <vector size>]"]),
        ShapeErrorCase(name: "WeightMultiply weight_dims of one entry", inputs: [[3]],
                       config: DenseLayer(.weightMultiply, bottomNames: ["x0"], topNames: ["wm_bad"], weightDims: [3]),
                       mentions: ["found [3]"]),
        ShapeErrorCase(name: "WeightMultiply vec_dim 0", inputs: [[3]],
                       config: DenseLayer(.weightMultiply, bottomNames: ["x0"], topNames: ["wm_bad"], weightDims: [3, 0]),
                       mentions: ["found [3, 0]"]),
        ShapeErrorCase(name: "WeightMultiply slot_dim not the input width", inputs: [[3]],
                       config: DenseLayer(.weightMultiply, bottomNames: ["x0"], topNames: ["wm_bad"], weightDims: [4, 2]),
                       mentions: ["weight_dims[0] = 4 must equal the 3 features of 'x0'", "weight_dims = [3, 2]"]),
        ShapeErrorCase(name: "WeightMultiply on 3D", inputs: [[3, 2]],
                       config: DenseLayer(.weightMultiply, bottomNames: ["x0"], topNames: ["wm_bad"], weightDims: [3, 2]),
                       mentions: ["bottom 'x0' must be 2D", "found 3D"]),
    ])
    func shapeRuleErrors(_ c: ShapeErrorCase) throws {
        try LayerTests().shapeRuleErrors(c)
    }

    // MARK: Partial batches: only the batch's rows are read and written

    @Test(arguments: [
        PartialCase(name: "FmOrder2", inputs: [[12]],
                    config: DenseLayer(.fmOrder2, bottomNames: ["x0"], topNames: ["y"], outDim: 4)),
        PartialCase(name: "WeightMultiply", inputs: [[3]],
                    config: DenseLayer(.weightMultiply, bottomNames: ["x0"], topNames: ["y"], weightDims: [3, 4])),
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

    // MARK: WeightMultiply (§6.6)

    /// Layer math §1 with fan-in S = 4 and fan-out S·V = 20: Default is XavierUniform
    /// U(±√(6/24)), Uniform U(±1/24), XavierNorm has standard deviation √(2/24), Zero is 0.
    @Test(arguments: [Initializer.default, .xavierUniform, .uniform, .xavierNorm, .zero])
    func weightMultiplyInitializers(_ type: Initializer) throws {
        let x = Variable(name: "x", shape: [2, 4], backend: cpu)
        let layer = try TS.make(DenseLayer(.weightMultiply, bottomNames: ["x"], topNames: ["wm"], weightInitType: type,
                                           weightDims: [4, 5]), [x])
        let w = TS.floats(layer.parameters[0].value).map(Double.init)
        #expect(layer.parameters[0].shape == [4, 5])
        let maxAbs = w.map(abs).max()!, std = (w.map { $0 * $0 }.reduce(0, +) / Double(w.count)).squareRoot()
        switch type {
        case .default, .xavierUniform:
            #expect(maxAbs <= (6.0 / 24).squareRoot() && maxAbs > 1.0 / 24, "\(type.rawValue): max |w| = \(maxAbs)")
        case .uniform:
            #expect(maxAbs <= 1.0 / 24 && maxAbs > 0.5 / 24, "Uniform: max |w| = \(maxAbs)")
        case .xavierNorm:
            #expect(std > 0.5 * (2.0 / 24).squareRoot() && std < 1.5 * (2.0 / 24).squareRoot(), "XavierNorm: std \(std)")
        case .zero:
            #expect(maxAbs == 0)
        }
    }

    /// The weight gradient adds to what the buffer holds (a regularizer's term survives), and the
    /// input gradient is assigned.
    @Test func weightMultiplyAccumulatesItsWeightGradient() throws {
        let x = TS.variable("x", [3, 2], TS.normals(6, seed: 21))
        let layer = try TS.make(DenseLayer(.weightMultiply, bottomNames: ["x"], topNames: ["wm"], weightDims: [2, 3]), [x])
        let ctx = StepContext(batch: 3, training: true)
        layer.forward(ctx)
        TS.backward(layer, ctx, outputGrads: [TS.normals(18, seed: 22)])
        let once = TS.floats(layer.parameters[0].grad), dx = TS.floats(x.grad)
        cpu.fill(x.grad, 99)
        layer.backward(ctx)
        TS.expectClose(TS.floats(layer.parameters[0].grad), once.map { 2 * $0 }, rtol: 1e-6, atol: 1e-7, "dW after two backwards")
        TS.expectClose(TS.floats(x.grad), dx, rtol: 0, atol: 0, "dx after two backwards")
    }
}
