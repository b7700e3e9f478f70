import CTRCore
import CTRCPU
@testable import CTRLayers
import Testing

// MultiCross v2, MLP and FusedInnerProduct: what their registry conformance cases do not cover —
// each shape rule's own message, initializers, partial batches, gradient accumulation and v1's
// unchanged path.

@Suite struct LayerBookDTests {
    let cpu = TS.cpu

    // MARK: shape rules

    @Test(arguments: [
        ShapeErrorCase(name: "MultiCross negative projection_dim", inputs: [[5]],
                       config: DenseLayer(.multiCross, bottomNames: ["x0"], topNames: ["cross_bad"], numLayers: 2,
                                          projectionDim: -1),
                       mentions: ["projection_dim must be 0 (DCN v1) or the rank k ≥ 1", "found -1"]),
        ShapeErrorCase(name: "MultiCross v2 num_layers 0", inputs: [[5]],
                       config: DenseLayer(.multiCross, bottomNames: ["x0"], topNames: ["cross_bad"], projectionDim: 4),
                       mentions: ["num_layers must be ≥ 1, found 0"]),
        ShapeErrorCase(name: "MultiCross v2 on 3D", inputs: [[2, 5]],
                       config: DenseLayer(.multiCross, bottomNames: ["x0"], topNames: ["cross_bad"], numLayers: 1,
                                          projectionDim: 4),
                       mentions: ["must be 2D", "found 3D"]),
    ])
    func shapeRuleErrors(_ c: ShapeErrorCase) throws {
        try LayerTests().shapeRuleErrors(c)
    }

    // MARK: MultiCross v2 (§6.4)

    /// Sample standard deviation of `values`.
    private func std(_ values: [Float]) -> Double {
        let n = Double(values.count), mean = values.reduce(0.0) { $0 + Double($1) } / n
        return (values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n).squareRoot()
    }

    @Test func multiCrossV2ParametersAndInitializers() throws {
        let n = 300, k = 100
        let x = Variable(name: "x", shape: [2, n], backend: cpu)
        let layer = try TS.make(DenseLayer(.multiCross, bottomNames: ["x"], topNames: ["cross"], biasInitType: .zero,
                                           numLayers: 2, projectionDim: k), [x])
        #expect(layer is MultiCrossV2)
        #expect(layer.parameters.map(\.name) == ["cross.0.u", "cross.0.v", "cross.0.bias", "cross.1.u", "cross.1.v", "cross.1.bias"])
        #expect(layer.parameters.map(\.shape) == [[n, k], [k, n], [1, n], [n, k], [k, n], [1, n]])
        let sigma = (2 / Double(n + k)).squareRoot()
        for l in 0..<2 {
            // bias_init_type = Zero zeroes no U or V (HugeCTR's parity walk would zero V_0 and U_1).
            for p in [layer.parameters[3 * l], layer.parameters[3 * l + 1]] {
                #expect(abs(std(TS.floats(p.value)) / sigma - 1) < 0.05, "\(p.name): std \(std(TS.floats(p.value))), expected \(sigma)")
            }
            TS.expectAll(TS.floats(layer.parameters[3 * l + 2].value), equal: 0, "b\(l) starts at zero")
        }
        #expect(TS.floats(layer.parameters[0].value) != TS.floats(layer.parameters[3].value), "layers draw separately")
        let zero = try TS.make(DenseLayer(.multiCross, bottomNames: ["x"], topNames: ["cross"], weightInitType: .zero,
                                          numLayers: 1, projectionDim: k), [x])
        for p in zero.parameters { TS.expectAll(TS.floats(p.value), equal: 0, "weight_init_type Zero: \(p.name)") }
    }

    @Test func multiCrossWithoutProjectionIsV1() throws {
        let x = Variable(name: "x", shape: [2, 6], backend: cpu)
        let layer = try TS.make(DenseLayer(.multiCross, bottomNames: ["x"], topNames: ["cross"], numLayers: 2), [x])
        #expect(layer is MultiCross)
        #expect(layer.parameters.map(\.shape) == [[1, 6], [1, 6], [1, 6], [1, 6]])
    }

    /// dU, dV and db accumulate across backward passes (HugeCTR assigns db); dX is assigned.
    @Test func multiCrossV2AccumulatesEveryWeightGradient() throws {
        let (x, _) = TS.randomVariable("x", [4, 5], seed: 211)
        let layer = try TS.make(DenseLayer(.multiCross, bottomNames: ["x"], topNames: ["cross"], numLayers: 2,
                                           projectionDim: 3), [x])
        let ctx = StepContext(batch: 4, training: true)
        layer.forward(ctx)
        TS.backward(layer, ctx, outputGrads: [TS.normals(20, seed: 219)])
        let dx = TS.floats(x.grad), grads = layer.parameters.map { TS.floats($0.grad) }
        #expect(grads.allSatisfy { g in g.contains { $0 != 0 } }, "every parameter gets a gradient")
        layer.backward(ctx)
        #expect(TS.floats(x.grad) == dx, "dX is assigned")
        for (p, g) in zip(layer.parameters, grads) {
            TS.expectClose(TS.floats(p.grad), g.map { 2 * Double($0) }, "d\(p.name) accumulates")
        }
    }

    @Test(arguments: [1, 3])
    func multiCrossV2PartialBatch(layers: Int) throws {
        try LayerTests().partialBatch(PartialCase(
            name: "MultiCross v2", inputs: [[6]],
            config: DenseLayer(.multiCross, bottomNames: ["x0"], topNames: ["y"], numLayers: layers, projectionDim: 2)))
    }

    @Test func multiCrossV2AfterLeadingDimReshape() throws {
        try LayerTests().layerAfterLeadingDimReshape(PartialCase(
            name: "MultiCross v2", inputs: [],
            config: DenseLayer(.multiCross, bottomNames: ["r"], topNames: ["y"], numLayers: 2, projectionDim: 3)))
    }
}
