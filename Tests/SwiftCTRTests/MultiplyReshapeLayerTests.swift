import CTRCore
import CTRCPU
@testable import CTRLayers
import Foundation
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
        ShapeErrorCase(name: "MatrixMultiply with three bottoms", inputs: [[2, 3], [3, 2], [2, 2]],
                       config: DenseLayer(.matrixMultiply, bottomNames: ["x0", "x1", "x2"], topNames: ["mm_bad"]),
                       mentions: ["multiplies exactly 2 bottoms (A, B), found 3"]),
        ShapeErrorCase(name: "MatrixMultiply 3D×2D", inputs: [[2, 3], [3]],
                       config: DenseLayer(.matrixMultiply, bottomNames: ["x0", "x1"], topNames: ["mm_bad"]),
                       mentions: ["must be 2D×2D, 2D×3D, 3D×3D or 4D×4D, found 3D×2D"]),
        ShapeErrorCase(name: "MatrixMultiply 3D inner dimensions", inputs: [[2, 3], [4, 2]],
                       config: DenseLayer(.matrixMultiply, bottomNames: ["x0", "x1"], topNames: ["mm_bad"]),
                       mentions: ["A's last dimension (3) must equal B's second-to-last (4)"]),
        ShapeErrorCase(name: "MatrixMultiply 4D heads", inputs: [[2, 3, 4], [3, 4, 2]],
                       config: DenseLayer(.matrixMultiply, bottomNames: ["x0", "x1"], topNames: ["mm_bad"]),
                       mentions: ["the leading 2 dimensions (the batch and the heads) must be equal"]),
        ShapeErrorCase(name: "MatrixMultiply 2D inner dimensions", inputs: [[3], [2]],
                       config: DenseLayer(.matrixMultiply, bottomNames: ["x0", "x1"], topNames: ["mm_bad"]),
                       mentions: ["A's columns (3) must equal B's first dimension (4)"]),
        ShapeErrorCase(name: "Concat of one bottom", inputs: [[2, 3]],
                       config: DenseLayer(.concat, bottomNames: ["x0"], topNames: ["cat_bad"], axis: 1),
                       mentions: ["Concat needs at least 2 bottom tensors, found 1"]),
        ShapeErrorCase(name: "Concat 3D axis 2 with unequal slot counts", inputs: [[2, 3], [4, 3]],
                       config: DenseLayer(.concat, bottomNames: ["x0", "x1"], topNames: ["cat_bad"], axis: 2),
                       mentions: ["concatenating on axis 2 needs equal dimension 1", "(4, 3)"]),
        ShapeErrorCase(name: "Concat 3D axis 3", inputs: [[2, 3], [2, 3]],
                       config: DenseLayer(.concat, bottomNames: ["x0", "x1"], topNames: ["cat_bad"], axis: 3),
                       mentions: ["3D Concat takes axis 1 or 2, found 3"]),
        ShapeErrorCase(name: "Concat 4D", inputs: [[2, 3, 4], [2, 3, 4]],
                       config: DenseLayer(.concat, bottomNames: ["x0", "x1"], topNames: ["cat_bad"], axis: 1),
                       mentions: ["all bottoms must be 2D or all 3D", "(2, 3, 4)"]),
        ShapeErrorCase(name: "Reshape selected on 2D", inputs: [[12]],
                       config: DenseLayer(.reshape, bottomNames: ["x0"], topNames: ["reshape_bad"], selected: true, selectedSlots: [0]),
                       mentions: ["selected = true picks slots of a 3D (batch, slots, vector) input, found 'x0' (4, 12)"]),
        ShapeErrorCase(name: "Reshape selecting more slots than there are", inputs: [[2, 3]],
                       config: DenseLayer(.reshape, bottomNames: ["x0"], topNames: ["reshape_bad"], selected: true,
                                          selectedSlots: [0, 1, 1]),
                       mentions: ["selected_slots lists 3 slots but 'x0' (2, 3) has 2"]),
        ShapeErrorCase(name: "Reshape selecting a slot beyond the last", inputs: [[4, 3]],
                       config: DenseLayer(.reshape, bottomNames: ["x0"], topNames: ["reshape_bad"], selected: true,
                                          selectedSlots: [1, 4]),
                       mentions: ["selected slot 4 is outside 0..<4"]),
        ShapeErrorCase(name: "Reshape selecting a negative slot", inputs: [[4, 3]],
                       config: DenseLayer(.reshape, bottomNames: ["x0"], topNames: ["reshape_bad"], selected: true,
                                          selectedSlots: [-1]),
                       mentions: ["selected slot -1 is outside 0..<4"]),
        ShapeErrorCase(name: "Reshape time_step without leading_dim", inputs: [[12]],
                       config: DenseLayer(.reshape, bottomNames: ["x0"], topNames: ["reshape_bad"], timeStep: 3),
                       mentions: ["time_step = 3 needs leading_dim > 0"]),
        ShapeErrorCase(name: "FusedReshapeConcatGeneral on 2D", inputs: [[3, 2], [6]],
                       config: DenseLayer(.fusedReshapeConcatGeneral, bottomNames: ["x0", "x1"], topNames: ["frcg_bad"]),
                       mentions: ["bottom 'x1' must be 3D", "found 2D"]),
        ShapeErrorCase(name: "FusedReshapeConcatGeneral with unequal slot counts", inputs: [[3, 2], [4, 2]],
                       config: DenseLayer(.fusedReshapeConcatGeneral, bottomNames: ["x0", "x1"], topNames: ["frcg_bad"]),
                       mentions: ["all bottoms must have the same batch and slot count (dimensions 0 and 1)", "(4, 2)"]),
        ShapeErrorCase(name: "FusedReshapeConcatGeneral with two tops", inputs: [[3, 2]],
                       config: DenseLayer(.fusedReshapeConcatGeneral, bottomNames: ["x0"], topNames: ["frcg_bad", "extra"]),
                       mentions: ["expects 1 top name, found 2"]),
        ShapeErrorCase(name: "FusedReshapeConcat with one top", inputs: [[3, 2], [3, 1]],
                       config: DenseLayer(.fusedReshapeConcat, bottomNames: ["x0", "x1"], topNames: ["frc_bad"]),
                       mentions: ["expects 2 top names, found 1"]),
        ShapeErrorCase(name: "FusedReshapeConcat of one slot", inputs: [[1, 2], [1, 3]],
                       config: DenseLayer(.fusedReshapeConcat, bottomNames: ["x0", "x1"], topNames: ["frc_bad", "ad"]),
                       mentions: ["needs at least 2 slots (the items, then the ad in the last slot), found 1"]),
        ShapeErrorCase(name: "FusedReshapeConcat with unequal slot counts", inputs: [[3, 2], [2, 2]],
                       config: DenseLayer(.fusedReshapeConcat, bottomNames: ["x0", "x1"], topNames: ["frc_bad", "ad"]),
                       mentions: ["same batch and slot count", "(2, 2)"]),
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
        PartialCase(name: "MatrixMultiply 3D×3D", inputs: [[2, 3], [3, 4]],
                    config: DenseLayer(.matrixMultiply, bottomNames: ["x0", "x1"], topNames: ["y"])),
        PartialCase(name: "MatrixMultiply 4D×4D", inputs: [[2, 2, 3], [2, 3, 2]],
                    config: DenseLayer(.matrixMultiply, bottomNames: ["x0", "x1"], topNames: ["y"])),
        PartialCase(name: "Concat 3D axis 1, four bottoms", inputs: [[1, 2], [3, 2], [2, 2], [1, 2]],
                    config: DenseLayer(.concat, bottomNames: ["x0", "x1", "x2", "x3"], topNames: ["y"], axis: 1)),
        PartialCase(name: "Reshape selected", inputs: [[4, 3]],
                    config: DenseLayer(.reshape, bottomNames: ["x0"], topNames: ["y"], selected: true, selectedSlots: [2, 0])),
        PartialCase(name: "Reshape selected, a slot twice", inputs: [[3, 2]],
                    config: DenseLayer(.reshape, bottomNames: ["x0"], topNames: ["y"], selected: true, selectedSlots: [1, 1])),
        PartialCase(name: "Reshape selected, every slot", inputs: [[3, 2]],
                    config: DenseLayer(.reshape, bottomNames: ["x0"], topNames: ["y"], selected: true, selectedSlots: [2, 0, 1])),
        PartialCase(name: "FusedReshapeConcat", inputs: [[3, 2], [3, 1]],
                    config: DenseLayer(.fusedReshapeConcat, bottomNames: ["x0", "x1"], topNames: ["item", "ad"])),
        PartialCase(name: "FusedReshapeConcat, one bottom", inputs: [[3, 2]],
                    config: DenseLayer(.fusedReshapeConcat, bottomNames: ["x0"], topNames: ["item", "ad"])),
        PartialCase(name: "FusedReshapeConcatGeneral", inputs: [[3, 2], [3, 1]],
                    config: DenseLayer(.fusedReshapeConcatGeneral, bottomNames: ["x0", "x1"], topNames: ["y"])),
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

    // MARK: MatrixMultiply (§6.29)

    /// The layer book's spelling `MatrixMutiply` names the same type, in Swift, by name and in JSON;
    /// the type encodes as HugeCTR's class name.
    @Test func matrixMutiplySpellingIsAccepted() throws {
        #expect(LayerType.matrixMutiply == .matrixMultiply)
        #expect(LayerType(hugeCTRName: "MatrixMutiply") == .matrixMultiply)
        #expect(LayerType(hugeCTRName: "MatrixMultiply") == .matrixMultiply)
        #expect(LayerType(hugeCTRName: "Concat") == .concat)
        #expect(LayerType(hugeCTRName: "MatrixMultiplication") == nil)
        let decoded = try JSONDecoder().decode([LayerType].self, from: Data(#"["MatrixMutiply", "MatrixMultiply", "FmOrder2"]"#.utf8))
        #expect(decoded == [.matrixMultiply, .matrixMultiply, .fmOrder2])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([LayerType].self, from: Data(#"["MatrixMul"]"#.utf8)) }
        #expect(String(decoding: try JSONEncoder().encode([LayerType.matrixMutiply]), as: UTF8.self) == #"["MatrixMultiply"]"#)
        let a = Variable(name: "a", shape: [3, 2, 4], backend: cpu), b = Variable(name: "b", shape: [3, 4, 5], backend: cpu)
        let layer = try TS.make(DenseLayer(.matrixMutiply, bottomNames: ["a", "b"], topNames: ["ab"]), [a, b])
        #expect(layer is MatrixMultiply)
        #expect(layer.outputs[0].shape == [3, 2, 5])
    }

    /// 2D×2D: B is one matrix used whole, so its gradient sums over the batch's rows only; rows of
    /// A beyond the batch are neither read nor written.
    @Test func matrixMultiply2DUsesTheBatchRowsOfA() throws {
        let av = TS.normals(5 * 3, seed: 31), bv = TS.normals(3 * 2, seed: 32)
        let a = TS.variable("a", [5, 3], av), b = TS.variable("b", [3, 2], bv)
        let layer = try TS.make(DenseLayer(.matrixMultiply, bottomNames: ["a", "b"], topNames: ["ab"]), [a, b])
        #expect(layer.outputs[0].shape == [5, 2])
        let ctx = StepContext(batch: 2, training: true)
        cpu.fill(layer.outputs[0].value, 777)
        layer.forward(ctx)
        let expected = (0..<2 * 2).map { e in (0..<3).reduce(0.0) { $0 + Double(av[e / 2 * 3 + $1]) * Double(bv[$1 * 2 + e % 2]) } }
        let y = TS.floats(layer.outputs[0].value)
        TS.expectClose(Array(y.prefix(4)), expected, rtol: 1e-5, atol: 1e-6, "C for the batch")
        TS.expectAll(Array(y.dropFirst(4)), equal: 777, "C beyond the batch")
        let dc = TS.normals(10, seed: 33)
        TS.backward(layer, ctx, outputGrads: [dc])
        let db = (0..<6).map { e in (0..<2).reduce(0.0) { $0 + Double(av[$1 * 3 + e / 2]) * Double(dc[$1 * 2 + e % 2]) } }
        TS.expectClose(TS.floats(b.grad), db, rtol: 1e-5, atol: 1e-6, "dB = Aᵀ·dC over the batch's rows")
        TS.expectAll(Array(TS.floats(a.grad).dropFirst(6)), equal: 1234.5, "dA beyond the batch")
    }

    // MARK: Concat (§6.10)

    /// 3D axis 1 stacks the slots, axis 2 joins the vectors; a 2D Concat ignores `axis` (HugeCTR).
    @Test func concatOutputShapes() throws {
        func shape(_ a: Shape, _ b: Shape, axis: Int) throws -> Shape {
            let x = Variable(name: "x", shape: a, backend: cpu), y = Variable(name: "y", shape: b, backend: cpu)
            return try TS.make(DenseLayer(.concat, bottomNames: ["x", "y"], topNames: ["c"], axis: axis), [x, y]).outputs[0].shape
        }
        #expect(try shape([4, 2, 3], [4, 5, 3], axis: 1) == [4, 7, 3])
        #expect(try shape([4, 2, 3], [4, 2, 6], axis: 2) == [4, 2, 9])
        #expect(try shape([4, 3], [4, 6], axis: 2) == [4, 9])
        #expect(try shape([4, 3], [4, 6], axis: 0) == [4, 9])
    }

    // MARK: Reshape (§6.11)

    /// The modes' output shapes: the book's default leading_dim flattens each sample;
    /// `selected_slots` counts only with `selected`; selected mode copies (no view), and an empty
    /// selection is a view of every slot.
    @Test func reshapeModes() throws {
        let x = Variable(name: "x", shape: [4, 5, 3], backend: cpu)
        func make(_ config: DenseLayer) throws -> any Layer { try TS.make(config, [x]) }
        let flat = try make(DenseLayer(.reshape, bottomNames: ["x"], topNames: ["r"]))
        #expect(flat.outputs[0].shape == [4, 15] && flat.outputs[0].rowsPerSample == 1)
        #expect(flat.outputs[0].value.storage === x.value.storage, "the default reshape is a view")
        let ignored = try make(DenseLayer(.reshape, bottomNames: ["x"], topNames: ["r"], leadingDim: 3, selectedSlots: [1]))
        #expect(ignored.outputs[0].shape == [20, 3] && ignored.outputs[0].rowsPerSample == 5)
        let picked = try make(DenseLayer(.reshape, bottomNames: ["x"], topNames: ["r"], selected: true, selectedSlots: [4, 0]))
        #expect(picked.outputs[0].shape == [4, 6] && picked.outputs[0].value.storage !== x.value.storage)
        let all = try make(DenseLayer(.reshape, bottomNames: ["x"], topNames: ["r"], selected: true))
        #expect(all.outputs[0].shape == [4, 15] && all.outputs[0].value.storage === x.value.storage)
    }

    // MARK: FusedReshapeConcat, FusedReshapeConcatGeneral (§6.25, §6.26)

    /// The outputs are named by `top_names` in order (item, then ad) and fill S−1, 1 and S rows per
    /// sample.
    @Test func fusedReshapeConcatOutputs() throws {
        let a = Variable(name: "a", shape: [4, 5, 2], backend: cpu), b = Variable(name: "b", shape: [4, 5, 3], backend: cpu)
        let fused = try TS.make(DenseLayer(.fusedReshapeConcat, bottomNames: ["a", "b"], topNames: ["item", "ad"]), [a, b])
        #expect(fused.outputs.map(\.name) == ["item", "ad"])
        #expect(fused.outputs.map(\.shape) == [[16, 5], [4, 5]])
        #expect(fused.outputs.map(\.rowsPerSample) == [4, 1])
        let general = try TS.make(DenseLayer(.fusedReshapeConcatGeneral, bottomNames: ["a", "b"], topNames: ["all"]), [a, b])
        #expect(general.outputs[0].shape == [20, 5] && general.outputs[0].rowsPerSample == 5)
    }
}
