import CTRCore
import CTRCPU
import CTRLayers
import Foundation
import Testing

// ELU, Sub, ElementwiseMultiply, ReduceMean, Scale, Softmax, Select, Gather, PReLU_Dice and Cast:
// what their registry conformance cases do not cover — each shape rule's own message, the places
// where SwiftCTR's gradient differs from HugeCTR's on purpose, softmax overflow, 0/1 masks,
// partial batches, and Cast's 16-bit round trips.

@Suite struct LayerBookATests {
    let cpu = TS.cpu

    // MARK: shape rules

    @Test(arguments: [
        ShapeErrorCase(name: "ELU alpha NaN", inputs: [[4]],
                       config: DenseLayer(.elu, bottomNames: ["x0"], topNames: ["elu_bad"], eluAlpha: .nan),
                       mentions: ["elu_alpha must be a finite number, found nan"]),
        ShapeErrorCase(name: "Sub with 3 bottoms", inputs: [[4], [4], [4]],
                       config: DenseLayer(.sub, bottomNames: ["x0", "x1", "x2"], topNames: ["sub_bad"]),
                       mentions: ["expects 2 bottom tensors, found 3"]),
        ShapeErrorCase(name: "Sub with mismatched shapes", inputs: [[4], [5]],
                       config: DenseLayer(.sub, bottomNames: ["x0", "x1"], topNames: ["sub_bad"]),
                       mentions: ["all bottoms must have the same shape", "'x0' (4)", "'x1' (5)"]),
        ShapeErrorCase(name: "ElementwiseMultiply with 1 bottom", inputs: [[4]],
                       config: DenseLayer(.elementwiseMultiply, bottomNames: ["x0"], topNames: ["mul_bad"]),
                       mentions: ["ElementwiseMultiply needs at least 2 bottom tensors, found 1"]),
        ShapeErrorCase(name: "ElementwiseMultiply with transposed shapes", inputs: [[2, 3], [3, 2]],
                       config: DenseLayer(.elementwiseMultiply, bottomNames: ["x0", "x1"], topNames: ["mul_bad"]),
                       mentions: ["'x0' (2, 3)", "'x1' (3, 2)"]),
        ShapeErrorCase(name: "ReduceMean axis 0", inputs: [[3]],
                       config: DenseLayer(.reduceMean, bottomNames: ["x0"], topNames: ["mean_bad"], axis: 0),
                       mentions: ["axis must be a per-sample axis in 1..<2", "found 0"]),
        ShapeErrorCase(name: "ReduceMean axis 3 of a 3D input", inputs: [[2, 3]],
                       config: DenseLayer(.reduceMean, bottomNames: ["x0"], topNames: ["mean_bad"], axis: 3),
                       mentions: ["axis must be a per-sample axis in 1..<3", "found 3"]),
        ShapeErrorCase(name: "Scale on 3D", inputs: [[2, 3]],
                       config: DenseLayer(.scale, bottomNames: ["x0"], topNames: ["scale_bad"], factor: 2, axis: 1),
                       mentions: ["must be 2D", "found 3D"]),
        ShapeErrorCase(name: "Scale axis 2", inputs: [[3]],
                       config: DenseLayer(.scale, bottomNames: ["x0"], topNames: ["scale_bad"], factor: 2, axis: 2),
                       mentions: ["Scale takes axis 0", "found axis 2"]),
        ShapeErrorCase(name: "Scale factor 2.5", inputs: [[3]],
                       config: DenseLayer(.scale, bottomNames: ["x0"], topNames: ["scale_bad"], factor: 2.5, axis: 0),
                       mentions: ["factor must be a whole number ≥ 1", "found 2.5"]),
        ShapeErrorCase(name: "Scale factor 0", inputs: [[3]],
                       config: DenseLayer(.scale, bottomNames: ["x0"], topNames: ["scale_bad"], factor: 0, axis: 0),
                       mentions: ["factor must be a whole number ≥ 1", "found 0.0"]),
        ShapeErrorCase(name: "Softmax with 3 bottoms", inputs: [[3], [3], [3]],
                       config: DenseLayer(.softmax, bottomNames: ["x0", "x1", "x2"], topNames: ["softmax_bad"]),
                       mentions: ["Softmax takes one bottom", "found 3"]),
        ShapeErrorCase(name: "Softmax mask of another length", inputs: [[2, 3, 4], [1, 3, 5]],
                       config: DenseLayer(.softmax, bottomNames: ["x0", "x1"], topNames: ["softmax_bad"]),
                       mentions: ["the mask must have the input's shape with leading per-sample dimensions set to 1",
                                  "'x1' (1, 3, 5)"]),
        ShapeErrorCase(name: "Softmax mask of another rank", inputs: [[2, 3, 4], [3, 4]],
                       config: DenseLayer(.softmax, bottomNames: ["x0", "x1"], topNames: ["softmax_bad"]),
                       mentions: ["the mask must have", "'x1' (3, 4)"]),
        ShapeErrorCase(name: "Softmax mask with a middle 1", inputs: [[2, 3, 4], [2, 1, 4]],
                       config: DenseLayer(.softmax, bottomNames: ["x0", "x1"], topNames: ["softmax_bad"]),
                       mentions: ["the mask must have", "'x1' (2, 1, 4)"]),
        ShapeErrorCase(name: "Softmax masked with an infinite factor", inputs: [[2, 4], [1, 4]],
                       config: DenseLayer(.softmax, bottomNames: ["x0", "x1"], topNames: ["softmax_bad"], factor: .infinity),
                       mentions: ["factor (the masked softmax's scale) must be a finite number, found inf"]),
        ShapeErrorCase(name: "Select dim 0", inputs: [[4, 3]],
                       config: DenseLayer(.select, bottomNames: ["x0"], topNames: ["select_bad"], dim: 0, index: [0]),
                       mentions: ["dim must be a per-sample dimension in 1..<3", "found 0"]),
        ShapeErrorCase(name: "Select without index", inputs: [[4, 3]],
                       config: DenseLayer(.select, bottomNames: ["x0"], topNames: ["select_bad"], dim: 1),
                       mentions: ["index is empty"]),
        ShapeErrorCase(name: "Select index out of range", inputs: [[4, 3]],
                       config: DenseLayer(.select, bottomNames: ["x0"], topNames: ["select_bad"], dim: 1, index: [0, 4]),
                       mentions: ["index entry 4 is outside 0..<4", "dimension 1"]),
        ShapeErrorCase(name: "Select negative index", inputs: [[4, 3]],
                       config: DenseLayer(.select, bottomNames: ["x0"], topNames: ["select_bad"], dim: 2, index: [-1]),
                       mentions: ["index entry -1 is outside 0..<3", "dimension 2"]),
        ShapeErrorCase(name: "Gather without indices", inputs: [[5]],
                       config: DenseLayer(.gather, bottomNames: ["x0"], topNames: ["gather_bad"]),
                       mentions: ["indices is empty"]),
        ShapeErrorCase(name: "Gather index out of range", inputs: [[5, 2]],
                       config: DenseLayer(.gather, bottomNames: ["x0"], topNames: ["gather_bad"], indices: [1, 5]),
                       mentions: ["indices entry 5 is outside 0..<5"]),
        ShapeErrorCase(name: "Gather on 1D", inputs: [[]],
                       config: DenseLayer(.gather, bottomNames: ["x0"], topNames: ["gather_bad"], indices: [0]),
                       mentions: ["Gather needs per-sample dimensions"]),
        ShapeErrorCase(name: "PReLU_Dice eps < 0", inputs: [[4]],
                       config: DenseLayer(.preluDice, bottomNames: ["x0"], topNames: ["dice_bad"], eps: -1e-3),
                       mentions: ["eps must be a finite number ≥ 0", "found -0.001"]),
        ShapeErrorCase(name: "PReLU_Dice alpha infinite", inputs: [[4]],
                       config: DenseLayer(.preluDice, bottomNames: ["x0"], topNames: ["dice_bad"], eluAlpha: -.infinity),
                       mentions: ["elu_alpha (Dice's α) must be a finite number, found -inf"]),
        ShapeErrorCase(name: "PReLU_Dice on 1D", inputs: [[]],
                       config: DenseLayer(.preluDice, bottomNames: ["x0"], topNames: ["dice_bad"]),
                       mentions: ["PReLU_Dice needs features per sample"]),
        ShapeErrorCase(name: "Cast with 2 bottoms", inputs: [[4], [4]],
                       config: DenseLayer(.cast, bottomNames: ["x0", "x1"], topNames: ["cast_bad"]),
                       mentions: ["expects 1 bottom tensor, found 2"]),
    ])
    func shapeRuleErrors(_ c: ShapeErrorCase) throws {
        try LayerTests().shapeRuleErrors(c)
    }

    @Test func castRejectsIntegerTensors() {
        let ids = Variable(name: "ids", shape: [4, 3], backend: cpu, valueType: .int64, gradType: .int64)
        let error = #expect(throws: SwiftCTRError.self) {
            _ = try TS.make(DenseLayer(.cast, bottomNames: ["ids"], topNames: ["cast_bad"]), [ids])
        }
        #expect(error?.description.contains("Cast converts fp32, fp16 or bf16 tensors; 'ids' holds int64 values") == true)
    }

    // MARK: gradients that differ from HugeCTR's on purpose

    /// HugeCTR divides `dy·y/xᵢ` and zeroes every gradient where the product is 0; the product
    /// rule gives the zero factor `dy·x₁` (§6.7).
    @Test func elementwiseMultiplyGivesAZeroFactorItsGradient() throws {
        let x0 = TS.variable("x0", [2, 3], [0, 2, -1, 3, 0, 4]), x1 = TS.variable("x1", [2, 3], [5, -2, 7, 1, 6, -3])
        let layer = try TS.make(DenseLayer(.elementwiseMultiply, bottomNames: ["x0", "x1"], topNames: ["p"]), [x0, x1])
        let context = StepContext(batch: 2, training: true)
        layer.forward(context)
        #expect(TS.floats(layer.outputs[0].value) == [0, -4, -7, 3, 0, -12], "product")
        TS.backward(layer, context, outputGrads: [[1, 1, 1, 2, 2, 2]])
        #expect(TS.floats(x0.grad) == [5, -2, 7, 2, 12, -6], "dx0 = dy·x1, also where x0 = 0")
        #expect(TS.floats(x1.grad) == [0, 2, -1, 6, 0, 8], "dx1 = dy·x0")
    }

    /// HugeCTR's Scale backward takes the first copy's gradient only (§6.24); the copies' sum is the
    /// gradient of the forward.
    @Test(arguments: [0, 1])
    func scaleBackwardSumsTheCopies(axis: Int) throws {
        let x = TS.variable("x", [2, 2], [1, 2, 3, 4])
        let layer = try TS.make(DenseLayer(.scale, bottomNames: ["x"], topNames: ["s"], factor: 3, axis: axis), [x])
        let context = StepContext(batch: 2, training: true)
        layer.forward(context)
        let expected: [Float] = axis == 0 ? [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4] : [1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4]
        #expect(layer.outputs[0].shape == Shape(axis == 0 ? [2, 6] : [6, 2]))
        #expect(layer.outputs[0].rowsPerSample == (axis == 0 ? 1 : 3))
        #expect(TS.floats(layer.outputs[0].value) == expected, "Scale axis \(axis)")
        TS.backward(layer, context, outputGrads: [(1...12).map(Float.init)])
        let sums: [Float] = axis == 0 ? [6, 15, 24, 33] : [9, 12, 27, 30]
        #expect(TS.floats(x.grad) == sums, "dx sums the three copies (axis \(axis))")
    }

    /// Select and Gather zero what they do not pick and sum repeats (HugeCTR leaves stale values and
    /// lets the last repeat win, §6.12).
    @Test func selectZeroesUnselectedAndSumsRepeats() throws {
        let x = TS.variable("x", [1, 4], [10, 20, 30, 40])
        let layer = try TS.make(DenseLayer(.select, bottomNames: ["x"], topNames: ["s"], dim: 1, index: [2, 0, 2]), [x])
        let context = StepContext(batch: 1, training: true)
        layer.forward(context)
        #expect(TS.floats(layer.outputs[0].value) == [30, 10, 30], "selected")
        TS.backward(layer, context, outputGrads: [[1, 2, 4]])
        #expect(TS.floats(x.grad) == [2, 0, 5, 0], "dx")
    }

    @Test func gatherKeepsEachSamplesRows() throws {
        // Two samples of 3 rows of width 2 (as after a Reshape with leading_dim 2).
        let x = TS.variable("x", [6, 2], (0..<12).map(Float.init), rowsPerSample: 3)
        let layer = try TS.make(DenseLayer(.gather, bottomNames: ["x"], topNames: ["g"], indices: [2, 0]), [x])
        #expect(layer.outputs[0].shape == [4, 2])
        #expect(layer.outputs[0].rowsPerSample == 2)
        layer.forward(StepContext(batch: 2, training: true))
        #expect(TS.floats(layer.outputs[0].value) == [4, 5, 0, 1, 10, 11, 6, 7], "gathered rows")

        let flat = TS.variable("f", [2, 4], (0..<8).map(Float.init))
        let columns = try TS.make(DenseLayer(.gather, bottomNames: ["f"], topNames: ["g2"], indices: [3, 1]), [flat])
        #expect(columns.outputs[0].shape == [2, 2] && columns.outputs[0].rowsPerSample == 1)
        columns.forward(StepContext(batch: 2, training: true))
        #expect(TS.floats(columns.outputs[0].value) == [3, 1, 7, 5], "gathered elements of (B, N)")
    }

    // MARK: Softmax

    /// HugeCTR's softmax has no max subtraction and overflows past x ≈ 88 (§6.27).
    @Test func softmaxOfLargeInputsStaysFinite() throws {
        let values: [Float] = [1000, 999, 0, -1000, 90, 89, 88, 87]
        let x = TS.variable("x", [2, 4], values)
        let layer = try TS.make(DenseLayer(.softmax, bottomNames: ["x"], topNames: ["p"]), [x])
        layer.forward(StepContext(batch: 2, training: true))
        let y = TS.floats(layer.outputs[0].value)
        #expect(y.allSatisfy { $0.isFinite })
        let e = [1, exp(-1.0)], f = [1, exp(-1.0), exp(-2.0), exp(-3.0)]
        let first = e.map { $0 / e.reduce(0, +) } + [0, 0], second = f.map { $0 / f.reduce(0, +) }
        TS.expectClose(y, first + second, rtol: 1e-5, atol: 1e-7, "softmax of large inputs")
    }

    /// A 0/1 mask (as SequenceMask makes): masked positions get 0 probability and pass no gradient;
    /// the rest is the softmax of `factor·x`, checked against finite differences.
    @Test(arguments: [[1, 3, 4], [1, 1, 4]])
    func maskedSoftmaxWithBinaryMask(maskShape: [Int]) throws {
        let shape = Shape([2, 2, 3, 4]), factor: Float = 0.35
        let maskCount = 2 * maskShape.reduce(1, *)
        let xs = TS.normals(shape.count, seed: 3, std: 2)
        let ms = TS.uniforms(maskCount, seed: 4, 0, 1).enumerated().map { k, u in k % 4 == 0 || u < 0.6 ? Float(1) : 0 }
        let x = TS.variable("x", shape, xs), mask = TS.variable("mask", Shape([2] + maskShape), ms)
        let layer = try TS.make(DenseLayer(.softmax, bottomNames: ["x", "mask"], topNames: ["p"], factor: factor), [x, mask])
        let context = StepContext(batch: 2, training: true)
        layer.forward(context)
        let perSample = shape.count / 2, elements = maskCount / 2
        let keep = (0..<shape.count).map { i in ms[i / perSample * elements + i % perSample % elements] == 1 }
        let expected = stride(from: 0, to: shape.count, by: 4).flatMap { start -> [Double] in
            let e = (start..<start + 4).map { keep[$0] ? exp(Double(factor * xs[$0])) : 0 }
            return e.map { $0 / e.reduce(0, +) }
        }
        TS.expectClose(TS.floats(layer.outputs[0].value), expected, rtol: 1e-5, atol: 1e-7, "masked softmax \(maskShape)")

        let r = [TS.normals(shape.count, seed: 5)]
        TS.backward(layer, context, outputGrads: r)
        let dx = TS.floats(x.grad)
        #expect(zip(dx, keep).allSatisfy { $1 || abs($0) < 1e-6 }, "masked positions pass no gradient")
        TS.expectAll(TS.floats(mask.grad), equal: 1234.5, "the mask gets no gradient (its buffer is not written)")
        TS.finiteDifferenceCheck(layer, context, r: r, target: x.value, analytic: dx, h: 1e-2, "masked softmax dx \(maskShape)")
    }

    // MARK: PReLU_Dice

    /// Statistics come from the current batch only: rows beyond it change nothing.
    @Test func diceUsesTheCurrentBatchOnly() throws {
        let xs = TS.normals(6 * 5, seed: 8)
        let full = TS.variable("x", [6, 5], Array(xs.prefix(20)) + Array(repeating: 1e4, count: 10))
        let exact = TS.variable("x4", [4, 5], Array(xs.prefix(20)))
        let config = DenseLayer(.preluDice, bottomNames: ["x"], topNames: ["dice"], eps: 1e-8, eluAlpha: 0.2)
        let layer = try TS.make(config, [full]), reference = try TS.make(config, [exact])
        let context = StepContext(batch: 4, training: true)
        layer.forward(context)
        reference.forward(context)
        TS.expectClose(TS.floats(layer.outputs[0].value, 20), TS.floats(reference.outputs[0].value), rtol: 0, atol: 0,
                       "Dice of a partial batch")
        let r = [TS.normals(20, seed: 9)]
        TS.backward(layer, context, outputGrads: r)
        TS.backward(reference, context, outputGrads: r)
        TS.expectClose(TS.floats(full.grad, 20), TS.floats(exact.grad), rtol: 0, atol: 0, "Dice backward of a partial batch")
        TS.expectAll(Array(TS.floats(full.grad).suffix(10)), equal: 1234.5, "rows beyond the batch keep their gradient")
    }

    /// A constant column has zero variance: with eps = 0 the scale is 0, so p = ½ everywhere and
    /// nothing divides by zero.
    @Test func diceOfAConstantColumnWithZeroEps() throws {
        let x = TS.variable("x", [3, 2], [2, 1, 2, -1, 2, 3])
        let layer = try TS.make(DenseLayer(.preluDice, bottomNames: ["x"], topNames: ["dice"], eps: 0, eluAlpha: 0.5), [x])
        let context = StepContext(batch: 3, training: true)
        layer.forward(context)
        let y = TS.floats(layer.outputs[0].value)
        #expect(y.allSatisfy { $0.isFinite })
        TS.expectClose([y[0], y[2], y[4]], [1.5, 1.5, 1.5], rtol: 1e-6, atol: 1e-6, "y = x·(α + (1 − α)/2)")
        TS.backward(layer, context, outputGrads: [[1, 0, 1, 0, 1, 0]])
        TS.expectClose([TS.floats(x.grad)[0], TS.floats(x.grad)[2]], [0.75, 0.75], rtol: 1e-6, atol: 1e-6, "dx")
    }

    // MARK: Cast

    /// fp32 → fp16 values: every output is the fp16 rounding of its input (some change), and a
    /// second Cast changes nothing.
    @Test func castRoundsToHalfAndIsIdempotent() throws {
        let xs = TS.normals(40, seed: 12, std: 100) + [65504, 70000, -1e-8, 0.1, .infinity]
        let x = TS.variable("x", [45, 1], xs)
        let cast = try TS.make(DenseLayer(.cast, bottomNames: ["x"], topNames: ["h"]), [x])
        let again = try TS.make(DenseLayer(.cast, bottomNames: ["h"], topNames: ["h2"]), cast.outputs)
        let context = StepContext(batch: 45, training: true)
        cast.forward(context)
        again.forward(context)
        let y = TS.floats(cast.outputs[0].value)
        #expect(y == xs.map { Float(Float16($0)) })
        #expect(zip(y, xs).filter { $0 != $1 }.count > 30, "most values change when rounded to fp16")
        #expect(y[41] == .infinity && y[43] == Float(Float16(0.1)))
        #expect(TS.floats(again.outputs[0].value) == y)
    }

    /// 16-bit tensors (2-byte elements on the CPU too) → fp32 exactly, and the fp32 → fp16 → fp32
    /// round trip keeps the fp16 values; the gradient flows straight through, rounded to the
    /// input's gradient type.
    @Test(arguments: [DType.float16, .bfloat16])
    func castRoundTripThrough16Bits(_ type: DType) throws {
        let xs = TS.normals(24, seed: 13, std: 3)
        let x = TS.variable("x", [4, 6], xs)
        let narrow = try TS.make(DenseLayer(.cast, bottomNames: ["x"], topNames: ["h"]), [x])
        let context = StepContext(batch: 4, training: true)
        narrow.forward(context)
        let halves = TS.floats(narrow.outputs[0].value)

        #expect(halves == xs.map { round16($0, .float16) })
        let half = Variable(name: "half", shape: [4, 6], backend: cpu, valueType: type, gradType: type)
        upload16(xs, type, to: half.value)
        let widen = try TS.make(DenseLayer(.cast, bottomNames: ["half"], topNames: ["wide"]), [half])
        #expect((widen as? Cast)?.precision == .float32)
        widen.forward(context)
        #expect(TS.floats(widen.outputs[0].value) == xs.map { round16($0, type) }, "16-bit \(type) → fp32, exactly")

        let dy = TS.normals(24, seed: 14)
        cpu.upload(dy, to: widen.outputs[0].grad)
        widen.backward(context)
        #expect(download16(half.grad, type) == dy.map { round16($0, type) }, "dx = dy, rounded to \(type)")
        TS.backward(narrow, context, outputGrads: [dy])
        #expect(TS.floats(x.grad) == dy, "fp32 input: dx = dy exactly")
    }

    // MARK: helpers

    /// `v` rounded to `type` (to nearest, ties to even), written out here independently of the backend.
    private func round16(_ v: Float, _ type: DType) -> Float {
        guard type == .bfloat16 else { return Float(Float16(v)) }
        let u = v.bitPattern, lower = u & 0xFFFF
        let up: UInt32 = lower > 0x8000 || (lower == 0x8000 && (u >> 16) & 1 == 1) ? 0x1_0000 : 0
        return Float(bitPattern: (u & 0xFFFF_0000) &+ up)
    }

    private func upload16(_ values: [Float], _ type: DType, to t: Tensor) {
        let bits = values.map { type == .float16 ? Float16($0).bitPattern : UInt16((round16($0, type).bitPattern) >> 16) }
        bits.withUnsafeBytes { cpu.upload($0, to: t) }
    }

    private func download16(_ t: Tensor, _ type: DType) -> [Float] {
        let bits = [UInt16](unsafeUninitializedCapacity: t.count) { buffer, done in
            cpu.download(t, into: UnsafeMutableRawBufferPointer(buffer))
            done = t.count
        }
        return bits.map { type == .float16 ? Float(Float16(bitPattern: $0)) : Float(bitPattern: UInt32($0) << 16) }
    }
}
