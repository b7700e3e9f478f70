import CTRCore
import CTRCPU
@testable import CTRLayers
@testable import SwiftCTR
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
        ShapeErrorCase(name: "BatchNorm on 3D", inputs: [[2, 4]],
                       config: DenseLayer(.batchNorm, bottomNames: ["x0"], topNames: ["bn_bad"]),
                       mentions: ["bottom 'x0' must be 2D", "found 3D"]),
        ShapeErrorCase(name: "BatchNorm factor above 1", inputs: [[4]],
                       config: DenseLayer(.batchNorm, bottomNames: ["x0"], topNames: ["bn_bad"], factor: 1.5),
                       mentions: ["factor must be in [0, 1]", "found 1.5"]),
        ShapeErrorCase(name: "BatchNorm negative factor", inputs: [[4]],
                       config: DenseLayer(.batchNorm, bottomNames: ["x0"], topNames: ["bn_bad"], factor: -0.1),
                       mentions: ["factor must be in [0, 1]", "found -0.1"]),
        ShapeErrorCase(name: "BatchNorm with a negative eps", inputs: [[4]],
                       config: DenseLayer(.batchNorm, bottomNames: ["x0"], topNames: ["bn_bad"], eps: -1),
                       mentions: ["eps must be ≥ 0, found -1.0"]),
        ShapeErrorCase(name: "SequenceMask with one bottom", inputs: [[1]],
                       config: DenseLayer(.sequenceMask, bottomNames: ["x0"], topNames: ["mask_bad"]),
                       mentions: ["expects 2 bottom tensors, found 1"]),
        ShapeErrorCase(name: "SequenceMask lengths of width 2", inputs: [[1], [2]],
                       config: DenseLayer(.sequenceMask, bottomNames: ["x0", "x1"], topNames: ["mask_bad"]),
                       mentions: ["bottom 'x1' must hold one sequence length per sample, (batch, 1), found (2)"]),
        ShapeErrorCase(name: "SequenceMask max_sequence_len_to 0", inputs: [[1], [1]],
                       config: DenseLayer(.sequenceMask, bottomNames: ["x0", "x1"], topNames: ["mask_bad"], maxSequenceLenTo: 0),
                       mentions: ["max_sequence_len_to must be ≥ 1, found 0"]),
        ShapeErrorCase(name: "GRU element count off", inputs: [[5, 2]],
                       config: DenseLayer(.gru, bottomNames: ["x0"], topNames: ["gru_bad"], numOutput: 2, seqLength: 3, vectorSize: 2),
                       mentions: ["SeqLength × vector_size = 3 × 2 = 6 elements, found 10"]),
        ShapeErrorCase(name: "GRU last dimension neither E nor T·E", inputs: [[2, 6]],
                       config: DenseLayer(.gru, bottomNames: ["x0"], topNames: ["gru_bad"], numOutput: 2, seqLength: 3, vectorSize: 4),
                       mentions: ["the last dimension of 'x0' (2, 6) must be vector_size = 4", "or SeqLength × vector_size = 12", "Reshape it to (batch, 3, 4)"]),
        ShapeErrorCase(name: "GRU num_output 0", inputs: [[2, 2]],
                       config: DenseLayer(.gru, bottomNames: ["x0"], topNames: ["gru_bad"], numOutput: 0, seqLength: 2, vectorSize: 2),
                       mentions: ["num_output must be ≥ 1, found 0"]),
        ShapeErrorCase(name: "GRU SeqLength 0", inputs: [[2, 2]],
                       config: DenseLayer(.gru, bottomNames: ["x0"], topNames: ["gru_bad"], numOutput: 2, seqLength: 0, vectorSize: 2),
                       mentions: ["SeqLength must be ≥ 1, found 0"]),
        ShapeErrorCase(name: "GRU batchsize 0", inputs: [[2, 2]],
                       config: DenseLayer(.gru, bottomNames: ["x0"], topNames: ["gru_bad"], numOutput: 2, batchsize: 0, seqLength: 2, vectorSize: 2),
                       mentions: ["batchsize must be ≥ 1, found 0"]),
        ShapeErrorCase(name: "GRU with two bottoms", inputs: [[2, 2], [2, 2]],
                       config: DenseLayer(.gru, bottomNames: ["x0", "x1"], topNames: ["gru_bad"], numOutput: 2, seqLength: 2, vectorSize: 2),
                       mentions: ["expects 1 bottom tensor, found 2"]),
        ShapeErrorCase(name: "MultiHeadAttention with two bottoms", inputs: [[2, 4], [3, 4]],
                       config: DenseLayer(.multiHeadAttention, bottomNames: ["x0", "x1"], topNames: ["mha_bad"]),
                       mentions: ["expects the bottoms query, key, value and optionally a mask (3 or 4), found 2"]),
        ShapeErrorCase(name: "MultiHeadAttention on 2D", inputs: [[2, 4], [8], [3, 4]],
                       config: DenseLayer(.multiHeadAttention, bottomNames: ["x0", "x1", "x2"], topNames: ["mha_bad"]),
                       mentions: ["query, key and value must be 3D (batch, sequence, width), found 'x1' (8)"]),
        ShapeErrorCase(name: "MultiHeadAttention widths differ", inputs: [[2, 4], [3, 4], [3, 5]],
                       config: DenseLayer(.multiHeadAttention, bottomNames: ["x0", "x1", "x2"], topNames: ["mha_bad"]),
                       mentions: ["query, key and value must have the same width (last dimension)", "'x2' (3, 5)"]),
        ShapeErrorCase(name: "MultiHeadAttention key and value lengths differ", inputs: [[2, 4], [3, 4], [2, 4]],
                       config: DenseLayer(.multiHeadAttention, bottomNames: ["x0", "x1", "x2"], topNames: ["mha_bad"]),
                       mentions: ["key and value must have the same sequence length (dimension 1), found 'x1' (3, 4) and 'x2' (2, 4)"]),
        ShapeErrorCase(name: "MultiHeadAttention heads not dividing the width", inputs: [[2, 6], [3, 6], [3, 6]],
                       config: DenseLayer(.multiHeadAttention, bottomNames: ["x0", "x1", "x2"], topNames: ["mha_bad"], numAttentionHeads: 4),
                       mentions: ["num_attention_heads = 4 must divide the width 6", "Set num_attention_heads to a divisor of 6"]),
        ShapeErrorCase(name: "MultiHeadAttention zero heads", inputs: [[2, 4], [3, 4], [3, 4]],
                       config: DenseLayer(.multiHeadAttention, bottomNames: ["x0", "x1", "x2"], topNames: ["mha_bad"], numAttentionHeads: 0),
                       mentions: ["num_attention_heads must be ≥ 1, found 0"]),
        ShapeErrorCase(name: "MultiHeadAttention mask of the wrong shape", inputs: [[2, 4], [3, 4], [3, 4], [1, 3, 2]],
                       config: DenseLayer(.multiHeadAttention, bottomNames: ["x0", "x1", "x2", "x3"], topNames: ["mha_bad"]),
                       mentions: ["the mask 'x3' must be (batch, 1, 2, 3) or (batch, 1, 1, 3)", "found (1, 3, 2)", "max_sequence_len_from = 2, max_sequence_len_to = 3"]),
    ])
    func shapeRuleErrors(_ c: ShapeErrorCase) throws {
        try LayerTests().shapeRuleErrors(c)
    }

    // MARK: Partial batches: only the batch's rows are read and written

    @Test(arguments: [
        PartialCase(name: "LayerNorm 3D", inputs: [[3, 4]],
                    config: DenseLayer(.layerNorm, bottomNames: ["x0"], topNames: ["y"])),
        PartialCase(name: "BatchNorm (statistics over the batch's rows only)", inputs: [[4]],
                    config: DenseLayer(.batchNorm, bottomNames: ["x0"], topNames: ["y"])),
        PartialCase(name: "SequenceMask", inputs: [[1], [1]],
                    config: DenseLayer(.sequenceMask, bottomNames: ["x0", "x1"], topNames: ["y"], maxSequenceLenFrom: 2,
                                       maxSequenceLenTo: 3)),
        PartialCase(name: "MultiHeadAttention, 2 heads, mask", inputs: [[2, 4], [3, 4], [3, 4], [1, 2, 3]],
                    config: DenseLayer(.multiHeadAttention, bottomNames: ["x0", "x1", "x2", "x3"], topNames: ["y"],
                                       numAttentionHeads: 2)),
        PartialCase(name: "MultiHeadAttention, 1 head", inputs: [[3, 2], [2, 2], [2, 2]],
                    config: DenseLayer(.multiHeadAttention, bottomNames: ["x0", "x1", "x2"], topNames: ["y"])),
        PartialCase(name: "GRU (batchsize 1 runs any batch)", inputs: [[3, 2]],
                    config: DenseLayer(.gru, bottomNames: ["x0"], topNames: ["y"], numOutput: 4, seqLength: 3, vectorSize: 2)),
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

    // MARK: BatchNorm (§6.8)

    /// The running statistics are the layer's non-trainable state, under HugeCTR's JSON keys;
    /// they start at mean 0 and variance 1, and γ, β start as LayerNorm's.
    @Test func batchNormStateAndInitialValues() throws {
        let x = Variable(name: "x", shape: [4, 3], backend: cpu)
        let layer = try TS.make(DenseLayer(.batchNorm, bottomNames: ["x"], topNames: ["bn"], gammaInitType: .xavierUniform), [x])
        #expect(layer.parameters.map(\.name) == ["bn.gamma", "bn.beta"])
        #expect(layer.nonTrainable.map(\.key) == ["mean", "var"])
        #expect(layer.nonTrainable.map(\.value.shape) == [[3], [3]])
        TS.expectAll(TS.floats(layer.nonTrainable[0].value), equal: 0, "initial running mean")
        TS.expectAll(TS.floats(layer.nonTrainable[1].value), equal: 1, "initial running variance")
        TS.expectAll(TS.floats(layer.parameters[0].value), equal: 1, "γ")
        TS.expectAll(TS.floats(layer.parameters[1].value), equal: 0, "β")
        #expect(ReLU(name: "r", input: x, backend: cpu).nonTrainable.isEmpty, "layers without state have none")
    }

    /// Each training step moves the running statistics by `factor` towards the batch's mean and
    /// unbiased variance (over the batch's rows only); evaluation normalizes with them, and leaves
    /// them alone.
    @Test(arguments: [Float(1), 0.3])
    func batchNormRunningStatistics(factor: Float) throws {
        let features = 2, batch = 3
        let steps: [[Float]] = [[1, 10, 2, 20, 6, 60, 99, 99], [0, -1, 4, 1, 5, 3, 99, 99]]
        let x = TS.variable("x", [4, features], steps[0])
        let layer = try TS.make(DenseLayer(.batchNorm, bottomNames: ["x"], topNames: ["bn"], factor: factor, eps: 1e-3), [x])
        var mean: [Double] = [0, 0], variance: [Double] = [1, 1]
        for values in steps {
            TS.set(x.value, values)
            layer.forward(StepContext(batch: batch, training: true))
            for c in 0..<features {
                let column = (0..<batch).map { Double(values[$0 * features + c]) }
                let mu = column.reduce(0, +) / 3, unbiased = column.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / 2
                mean[c] = (1 - Double(factor)) * mean[c] + Double(factor) * mu
                variance[c] = (1 - Double(factor)) * variance[c] + Double(factor) * unbiased
            }
            TS.expectClose(TS.floats(layer.nonTrainable[0].value), mean, rtol: 1e-5, atol: 1e-5, "running mean")
            TS.expectClose(TS.floats(layer.nonTrainable[1].value), variance, rtol: 1e-5, atol: 1e-5, "running variance")
        }
        TS.set(layer.parameters[0].value, [2, -1])
        TS.set(layer.parameters[1].value, [0.5, 0.25])
        TS.set(x.value, [1, 2, 3, 4])
        layer.forward(StepContext(batch: 2, training: false))
        let gamma: [Double] = [2, -1], beta: [Double] = [0.5, 0.25]
        let expected = (0..<4).map { i in
            let c = i % features
            return (Double(i + 1) - mean[c]) / (variance[c] + 1e-3).squareRoot() * gamma[c] + beta[c]
        }
        TS.expectClose(TS.floats(layer.outputs[0].value, 4), expected, rtol: 1e-5, atol: 1e-5, "evaluation output")
        TS.expectClose(TS.floats(layer.nonTrainable[0].value), mean, rtol: 1e-5, atol: 1e-5, "running mean after evaluation")
    }

    /// One sample: the batch variance is 0, the output is β, and the running variance takes the
    /// biased value 0 (there is no unbiased one).
    @Test func batchNormOfOneSample() throws {
        let x = TS.variable("x", [2, 2], [3, -4, 7, 7])
        let layer = try TS.make(DenseLayer(.batchNorm, bottomNames: ["x"], topNames: ["bn"]), [x])
        TS.set(layer.parameters[1].value, [0.5, -2])
        layer.forward(StepContext(batch: 1, training: true))
        TS.expectClose(TS.floats(layer.outputs[0].value, 2), [0.5, -2], rtol: 0, atol: 1e-6, "output of one sample")
        TS.expectClose(TS.floats(layer.nonTrainable[0].value), [3, -4] as [Float], rtol: 0, atol: 0, "running mean")
        TS.expectAll(TS.floats(layer.nonTrainable[1].value), equal: 0, "running variance")
    }

    /// dγ and dβ add to what the buffers hold; dx is assigned.
    @Test func batchNormAccumulatesItsWeightGradients() throws {
        try expectWeightGradientsAccumulate(DenseLayer(.batchNorm, bottomNames: ["x"], topNames: ["bn"], factor: 0.5),
                                            shape: [5, 3])
    }

    // MARK: SequenceMask (§6.31)

    /// Lengths are truncated toward zero; negative ones mask everything, ones beyond the maximum
    /// nothing; the output is (B, 1, Lf, Lt) and the lengths get a zero gradient.
    @Test func sequenceMaskTruncatesTheLengths() throws {
        let from = TS.variable("from", [4, 1], [2.9, 0.5, 7, -3]), to = TS.variable("to", [4, 1], [1, 3, 2.2, 4])
        let layer = try TS.make(DenseLayer(.sequenceMask, bottomNames: ["from", "to"], topNames: ["mask"],
                                           maxSequenceLenFrom: 3, maxSequenceLenTo: 4), [from, to])
        #expect(layer.outputs[0].shape == [4, 1, 3, 4])
        let ctx = StepContext(batch: 4, training: true)
        layer.forward(ctx)
        let expected: [Float] = [1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
                                 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0,
                                 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        #expect(TS.floats(layer.outputs[0].value) == expected)
        TS.backward(layer, ctx, outputGrads: [TS.normals(48, seed: 3)])
        TS.expectAll(TS.floats(from.grad) + TS.floats(to.grad), equal: 0, "length gradients")
    }

    // MARK: MultiHeadAttention (§6.30)

    /// A key the mask hides for every query is as good as absent: the output and dQ equal
    /// attention over the other keys, and the hidden key and value get no gradient.
    @Test(arguments: [1, 2])
    func multiHeadAttentionMaskedKeyIsAbsent(heads: Int) throws {
        let (n, lf, lt, width) = (2, 3, 4, 4)
        let qv = TS.normals(n * lf * width, seed: 71), kv = TS.normals(n * lt * width, seed: 72)
        let vv = TS.normals(n * lt * width, seed: 73)
        /// Keys and values without key 1 of every sample.
        func dropKey(_ x: [Float]) -> [Float] {
            (0..<n * lt).filter { $0 % lt != 1 }.flatMap { x[$0 * width..<($0 + 1) * width] }
        }
        let q = TS.variable("q", [n, lf, width], qv), k = TS.variable("k", [n, lt, width], kv)
        let v = TS.variable("v", [n, lt, width], vv), mask = TS.variable("m", [n, 1, 1, lt], [1, 0, 1, 1, 1, 0, 1, 1])
        let masked = try TS.make(DenseLayer(.multiHeadAttention, bottomNames: ["q", "k", "v", "m"], topNames: ["a"],
                                            numAttentionHeads: heads), [q, k, v, mask])
        let q2 = TS.variable("q", [n, lf, width], qv), k2 = TS.variable("k", [n, lt - 1, width], dropKey(kv))
        let v2 = TS.variable("v", [n, lt - 1, width], dropKey(vv))
        let plain = try TS.make(DenseLayer(.multiHeadAttention, bottomNames: ["q", "k", "v"], topNames: ["a"],
                                           numAttentionHeads: heads), [q2, k2, v2])
        let ctx = StepContext(batch: n, training: true), dy = TS.normals(n * lf * width, seed: 74)
        for layer in [masked, plain] {
            layer.forward(ctx)
            TS.backward(layer, ctx, outputGrads: [dy])
        }
        TS.expectClose(TS.floats(masked.outputs[0].value), TS.floats(plain.outputs[0].value), rtol: 1e-5, atol: 1e-6, "output")
        TS.expectClose(TS.floats(q.grad), TS.floats(q2.grad), rtol: 1e-5, atol: 1e-6, "dQ")
        TS.expectClose(dropKey(TS.floats(k.grad)), TS.floats(k2.grad), rtol: 1e-5, atol: 1e-6, "dK of the other keys")
        TS.expectClose(dropKey(TS.floats(v.grad)), TS.floats(v2.grad), rtol: 1e-5, atol: 1e-6, "dV of the other keys")
        let dk = TS.floats(k.grad), dv = TS.floats(v.grad)
        let hidden: [Float] = (0..<n).flatMap { b -> [Float] in
            let key = (b * lt + 1) * width..<(b * lt + 2) * width
            return Array(dk[key]) + Array(dv[key])
        }
        TS.expectAll(hidden, equal: 0, "dK and dV of the hidden key")
        TS.expectAll(TS.floats(mask.grad), equal: 0, "mask gradient")
    }

    /// Large scores do not overflow: the softmax subtracts each row's maximum.
    @Test func multiHeadAttentionOfLargeScoresIsFinite() throws {
        let q = TS.variable("q", [1, 1, 2], [30, 30]), k = TS.variable("k", [1, 2, 2], [10, 10, 9, 9])
        let v = TS.variable("v", [1, 2, 2], [1, 2, 3, 4])
        let layer = try TS.make(DenseLayer(.multiHeadAttention, bottomNames: ["q", "k", "v"], topNames: ["a"]), [q, k, v])
        layer.forward(StepContext(batch: 1, training: false))
        // Scores 600/√2 and 540/√2: the second key's weight is e^(−60/√2) ≈ 4e-19.
        TS.expectClose(TS.floats(layer.outputs[0].value), [1, 2] as [Float], rtol: 1e-6, atol: 1e-6, "output")
    }

    // MARK: GRU (§6.22)

    /// The output keeps the input's form with H in place of E; the weights are W (3H, E),
    /// R (3H, H) and b (1, 3H), drawn from the initializer types (Zero gives zeros).
    @Test func gruShapesAndWeights() throws {
        func make(_ shape: Shape, rowsPerSample: Int = 1, _ type: Initializer = .default) throws -> any Layer {
            let x = Variable(name: "x", shape: shape, backend: cpu, rowsPerSample: rowsPerSample)
            return try TS.make(DenseLayer(.gru, bottomNames: ["x"], topNames: ["gru"], numOutput: 5, weightInitType: type,
                                          biasInitType: type, seqLength: 3, vectorSize: 2), [x])
        }
        #expect(try make([4, 3, 2]).outputs[0].shape == [4, 3, 5])
        #expect(try make([4, 6]).outputs[0].shape == [4, 15])
        let rows = try make([12, 2], rowsPerSample: 3)
        #expect(rows.outputs[0].shape == [12, 5] && rows.outputs[0].rowsPerSample == 3)
        #expect(rows.parameters.map(\.name) == ["gru.weight", "gru.recurrent_weight", "gru.bias"])
        #expect(rows.parameters.map(\.shape) == [[15, 2], [15, 5], [1, 15]])
        for p in try make([4, 3, 2], .zero).parameters { TS.expectAll(TS.floats(p.value), equal: 0, "\(p.name) with Zero") }
        for p in try make([4, 3, 2], .xavierUniform).parameters {
            let w = TS.floats(p.value)
            #expect(Set(w).count == w.count, "\(p.name) with XavierUniform has distinct values")
        }
    }

    /// A step's output depends on the earlier steps only: changing the last input vector leaves
    /// every earlier output alone.
    @Test func gruIsCausal() throws {
        let values = TS.normals(2 * 4 * 3, seed: 81)
        let x = TS.variable("x", [2, 4, 3], values)
        let layer = try TS.make(DenseLayer(.gru, bottomNames: ["x"], topNames: ["gru"], numOutput: 2, seqLength: 4,
                                           vectorSize: 3), [x])
        let ctx = StepContext(batch: 2, training: false)
        layer.forward(ctx)
        let before = TS.floats(layer.outputs[0].value)
        var changed = values
        for i in 9..<12 { changed[i] += 1 }
        TS.set(x.value, changed)
        layer.forward(ctx)
        let after = TS.floats(layer.outputs[0].value)
        #expect(Array(after.prefix(6)) == Array(before.prefix(6)), "steps 0–2 of sample 0")
        #expect(Array(after[6..<8]) != Array(before[6..<8]), "step 3 of sample 0")
        #expect(Array(after.dropFirst(8)) == Array(before.dropFirst(8)), "sample 1")
    }

    /// dW, dR and db add to what the buffers hold; dx is assigned.
    @Test func gruAccumulatesItsWeightGradients() throws {
        try expectWeightGradientsAccumulate(DenseLayer(.gru, bottomNames: ["x"], topNames: ["gru"], numOutput: 3, seqLength: 2,
                                                       vectorSize: 4), shape: [3, 8])
    }

    // MARK: In a model

    /// A BST-like model (SequenceMask of the dense length twice, as HugeCTR's BST sample writes it,
    /// → MultiHeadAttention → Add → LayerNorm, beside a GRU, then
    /// BatchNorm and an InnerProduct) compiles, and Adam drives its loss on one batch down: the
    /// gradients flow through every new layer. BatchNorm's running statistics move.
    @Test func behaviourSequenceModelLearnsOneBatch() throws {
        let (batchSize, slots, vec) = (32, 6, 8)
        var rng = CounterRNG(seed: 3, stream: 5)
        let batch = Batch(count: batchSize, labels: (0..<batchSize).map { Float($0 % 2) },
                          dense: (0..<batchSize).map { _ in Float(1 + rng.nextInt(below: slots)) },
                          sparse: [SparseBatch(rowOffsets: (0...batchSize * slots).map(Int64.init),
                                               keys: (0..<batchSize * slots).map { _ in Int64(rng.nextInt(below: 40)) })])
        let reader = DataReaderParams(dataReaderType: .norm, source: ["in memory"], evalSource: "in memory", checkType: .none)
        let model = try Model(Solver(seed: 1, lr: 0.01, batchsizeEval: batchSize, batchsize: batchSize), reader,
                              CreateOptimizer(optimizerType: .adam), backend: cpu)
        model.printsProgress = false
        let sparse = DataReaderSparseParam("items", 1, true, slots)
        model.add(Input(labelDim: 1, labelName: "label", denseDim: 1, denseName: "length", dataReaderSparseParamArray: [sparse]))
        model.add(SparseEmbedding(embeddingType: .distributedSlotSparseEmbeddingHash, workspaceSizePerGPUInMB: 1,
                                  embeddingVecSize: vec, combiner: "sum", sparseEmbeddingName: "emb", bottomName: "items"))
        for layer in [
            DenseLayer(.sequenceMask, bottomNames: ["length", "length"], topNames: ["mask"], maxSequenceLenFrom: slots,
                       maxSequenceLenTo: slots),
            DenseLayer(.innerProduct, bottomNames: ["emb"], topNames: ["q"], numOutput: vec),
            DenseLayer(.innerProduct, bottomNames: ["emb"], topNames: ["k"], numOutput: vec),
            DenseLayer(.innerProduct, bottomNames: ["emb"], topNames: ["v"], numOutput: vec),
            DenseLayer(.multiHeadAttention, bottomNames: ["q", "k", "v", "mask"], topNames: ["attention"], numAttentionHeads: 2),
            DenseLayer(.add, bottomNames: ["attention", "q"], topNames: ["residual"]),
            DenseLayer(.layerNorm, bottomNames: ["residual"], topNames: ["ln"]),
            DenseLayer(.gru, bottomNames: ["emb"], topNames: ["gru"], numOutput: 4, batchsize: batchSize, seqLength: slots,
                       vectorSize: vec),
            DenseLayer(.concat, bottomNames: ["ln", "gru"], topNames: ["joined"], axis: 2),
            DenseLayer(.reshape, bottomNames: ["joined"], topNames: ["flat"]),
            DenseLayer(.batchNorm, bottomNames: ["flat"], topNames: ["bn"], factor: 0.5),
            DenseLayer(.innerProduct, bottomNames: ["bn"], topNames: ["logit"], numOutput: 1),
            DenseLayer(.binaryCrossEntropyLoss, bottomNames: ["logit", "label"], topNames: ["loss"]),
        ] { model.add(layer) }
        try model.compile()
        let bn = try #require(model.graph?.layers.first { $0 is BatchNorm })
        var losses: [Float] = []
        for _ in 0..<30 {
            try model.train(batch: batch)
            losses.append(model.currentLoss)
        }
        #expect(losses.allSatisfy { $0.isFinite }, "losses \(losses)")
        #expect(losses.last! < 0.5 * losses.first!, "loss \(losses.first!) → \(losses.last!)")
        #expect(TS.floats(bn.nonTrainable[0].value).contains { $0 != 0 }, "running mean moved")
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
