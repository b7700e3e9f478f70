import CTRCore
import CTRCPU
@testable import CTRLayers
import Foundation
import Testing

// What the registry's conformance cases (ConformanceTests) do not cover: gradient accumulation,
// partial batches, folded and padded InnerProducts, views, dropout statistics, loss details,
// initializers (§1) and the builders' shape-rule messages.

// MARK: - fp64 references

private func d(_ values: [Float]) -> [Double] { values.map(Double.init) }

private func sigmoidRef(_ x: Double) -> Double { x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)) }

/// `Y = X·W + b` over `rows` rows.
private func innerProductRef(x: [Float], w: [Float], b: [Float], rows: Int, inF: Int, outF: Int) -> [Double] {
    var y = [Double](repeating: 0, count: rows * outF)
    for r in 0..<rows {
        for o in 0..<outF {
            var s = Double(b[o])
            for i in 0..<inF { s += Double(x[r * inF + i]) * Double(w[i * outF + o]) }
            y[r * outF + o] = s
        }
    }
    return y
}

/// Numerically stable BCE of one logit (§8.1).
private func bceRef(_ x: Double, _ y: Double) -> Double {
    x >= 0 ? x * (1 - y) + log1p(exp(-x)) : -x * y + log1p(exp(x))
}

// MARK: - Argument types

struct ReshapeCase: Sendable, CustomTestStringConvertible {
    let input: [Int]
    let leadingDim: Int
    let timeStep: Int
    let shape: [Int]
    let expected: [Int]
    var testDescription: String { "\(input) leading_dim \(leadingDim) time_step \(timeStep) shape \(shape) → \(expected)" }
}

struct PartialCase: Sendable, CustomTestStringConvertible {
    let name: String
    /// Per-sample shapes of the bottoms (unused where the test makes its own).
    let inputs: [[Int]]
    let config: DenseLayer
    var testDescription: String { name }
}

struct ShapeErrorCase: Sendable, CustomTestStringConvertible {
    let name: String
    let inputs: [[Int]]
    let config: DenseLayer
    /// Substrings the message must contain (besides the layer name).
    let mentions: [String]
    var testDescription: String { name }
}

// MARK: - Tests

@Suite struct LayerTests {
    let cpu = TS.cpu

    // MARK: InnerProduct

    /// A Concat folded into the InnerProduct, with inputs padded to a GEMM alignment of 8, must
    /// equal the plain layer on the materialized concatenation: forward, dX per part, dW, db, also
    /// on a partial batch.
    @Test(arguments: [5, 3])
    func innerProductOverPaddedParts(batch: Int) throws {
        let widths = [13, 6, 5], rows = 5, outputs = 20, total = widths.reduce(0, +)
        var parts: [Variable] = [], values: [[Float]] = []
        for (i, width) in widths.enumerated() {
            let (v, xs) = TS.randomVariable("x\(i)", [rows, width], seed: UInt64(40 + i))
            parts.append(v)
            values.append(xs)
        }
        let concatenated = (0..<rows).flatMap { r in values.indices.flatMap { i in values[i][r * widths[i]..<(r + 1) * widths[i]] } }
        let whole = Variable(name: "x", value: cpu.tensor(concatenated, [rows, total]), grad: cpu.makeTensor([rows, total], .float32))
        let initializer = WeightInitializer(seed: 7)
        let folded = InnerProduct(name: "fc", inputs: parts, outputs: outputs, weightInit: .xavierNorm, biasInit: .xavierUniform,
                                  initializer: initializer, backend: cpu, alignment: 8)
        let plain = InnerProduct(name: "fc", input: whole, outputs: outputs, weightInit: .xavierNorm, biasInit: .xavierUniform,
                                 initializer: initializer, backend: cpu)
        #expect(folded.parts.map(\.paddedWidth) == [16, 8, 8])
        #expect(folded.parameters[0].shape == [total, outputs])
        #expect(TS.floats(folded.parameters[0].value) == TS.floats(plain.parameters[0].value))
        let ctx = StepContext(batch: batch, training: true)
        folded.forward(ctx)
        plain.forward(ctx)
        let used = batch * outputs
        TS.expectClose(Array(TS.floats(folded.outputs[0].value).prefix(used)), d(Array(TS.floats(plain.outputs[0].value).prefix(used))),
                       "folded InnerProduct forward")
        let dy = TS.normals(rows * outputs, seed: 9)
        TS.backward(folded, ctx, outputGrads: [dy])
        TS.backward(plain, ctx, outputGrads: [dy])
        let dx = TS.floats(whole.grad)
        var start = 0
        for (i, width) in widths.enumerated() {
            let expected = (0..<batch).flatMap { r in dx[r * total + start..<r * total + start + width] }
            TS.expectClose(Array(TS.floats(parts[i].grad).prefix(batch * width)), d(expected), "folded InnerProduct dX of part \(i)")
            start += width
        }
        TS.expectClose(TS.floats(folded.parameters[0].grad), d(TS.floats(plain.parameters[0].grad)), "folded InnerProduct dW")
        TS.expectClose(TS.floats(folded.parameters[1].grad), d(TS.floats(plain.parameters[1].grad)), "folded InnerProduct db")
        // The padding rows of W stay zero, so they never leak into the output.
        #expect(TS.floats(folded.weightStorage).suffix(3 * outputs).allSatisfy { $0 == 0 })
    }

    /// Backward assigns dX but accumulates dW and db (the conformance cases check the values).
    @Test func innerProductAccumulatesWeightGradients() throws {
        let (x, _) = TS.randomVariable("x", [4, 5], seed: 11)
        let layer = try TS.make(DenseLayer(.innerProduct, bottomNames: ["x"], topNames: ["fc"], numOutput: 3), [x])
        let ctx = StepContext(batch: 4, training: true)
        layer.forward(ctx)
        TS.backward(layer, ctx, outputGrads: [TS.normals(12, seed: 12)])
        let dx = TS.floats(x.grad), dw = TS.floats(layer.parameters[0].grad), db = TS.floats(layer.parameters[1].grad)
        layer.backward(ctx)
        #expect(TS.floats(x.grad) == dx, "dX is assigned")
        TS.expectClose(TS.floats(layer.parameters[0].grad), dw.map { 2 * Double($0) }, "dW accumulates")
        TS.expectClose(TS.floats(layer.parameters[1].grad), db.map { 2 * Double($0) }, "db accumulates")
    }

    @Test func innerProductPartialBatchLeavesLaterRowsUntouched() throws {
        let (x, xs) = TS.randomVariable("x", [6, 5], seed: 21)
        let layer = try TS.make(DenseLayer(.innerProduct, bottomNames: ["x"], topNames: ["fc"], numOutput: 3), [x])
        let w = TS.floats(layer.parameters[0].value), b = TS.floats(layer.parameters[1].value)
        cpu.fill(layer.outputs[0].value, 777)
        let ctx = StepContext(batch: 2, training: true)
        layer.forward(ctx)
        let y = TS.floats(layer.outputs[0].value)
        TS.expectClose(Array(y[0..<6]), innerProductRef(x: xs, w: w, b: b, rows: 2, inF: 5, outF: 3), "first rows")
        TS.expectAll(Array(y[6...]), equal: 777, "rows beyond the batch")

        let dy = TS.normals(18, seed: 22)
        TS.backward(layer, ctx, outputGrads: [dy])
        TS.expectAll(Array(TS.floats(x.grad)[10...]), equal: 1234.5, "dX rows beyond the batch")
        var dw = [Double](repeating: 0, count: 15)
        for r in 0..<2 { for i in 0..<5 { for o in 0..<3 { dw[i * 3 + o] += Double(xs[r * 5 + i]) * Double(dy[r * 3 + o]) } } }
        TS.expectClose(TS.floats(layer.parameters[0].grad), dw, "dW uses only the batch rows")
        TS.expectClose(TS.floats(layer.parameters[1].grad), (0..<3).map { Double(dy[$0]) + Double(dy[3 + $0]) },
                       "db uses only the batch rows")
    }

    // MARK: InnerProduct initializers (§1)

    private enum Expected {
        case zero, uniform(Double), normal(Double), truncatedNormal(Double)
    }

    /// §1 for InnerProduct with fan-in `i`, fan-out `o`. SwiftCTR's "truncated normal" really
    /// truncates at ±2 draws and rescales by 1/0.8796, so its std is σ itself (HugeCTR: σ/0.8796,
    /// untruncated); that deviation is deliberate (see its doc comment).
    private func expected(_ type: Initializer, bias: Bool, i: Double, o: Double) -> Expected {
        switch (type, bias) {
        case (.zero, _): .zero
        case (.uniform, false): .uniform(1 / (i + o))
        case (.uniform, true): .uniform(1 / o)
        case (.xavierUniform, false): .uniform((6 / (i + o)).squareRoot())
        case (.xavierUniform, true): .uniform((3 / max(1, o / 2)).squareRoot())
        case (.xavierNorm, true): .truncatedNormal((1 / max(1, o / 2)).squareRoot())
        case (.default, true): .normal((1 / o).squareRoot())
        case (.default, false), (.xavierNorm, false): .truncatedNormal((2 / (i + o)).squareRoot())
        }
    }

    private func checkStatistics(_ values: [Float], _ expected: Expected, _ what: String) {
        let n = Double(values.count)
        let mean = values.reduce(0.0) { $0 + Double($1) } / n
        let std = (values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n).squareRoot()
        let maxAbs = values.reduce(0.0) { max($0, abs(Double($1))) }
        // Sample-std tolerance: 5% for the large weight, 10% for a 1024-element bias.
        let stdTolerance = values.count > 10_000 ? 0.05 : 0.10
        switch expected {
        case .zero:
            TS.expectAll(values, equal: 0, what)
        case .uniform(let limit):
            #expect(maxAbs <= limit * (1 + 1e-6), "\(what): max |w| \(maxAbs) exceeds the limit \(limit)")
            #expect(maxAbs >= 0.99 * limit, "\(what): max |w| \(maxAbs) is far below the limit \(limit)")
            #expect(abs(std / (limit / 3.0.squareRoot()) - 1) < stdTolerance, "\(what): std \(std), expected \(limit / 3.0.squareRoot())")
            #expect(abs(mean) < 5 * limit / 3.0.squareRoot() / n.squareRoot(), "\(what): mean \(mean)")
        case .normal(let sigma):
            #expect(abs(std / sigma - 1) < stdTolerance, "\(what): std \(std), expected \(sigma)")
            #expect(abs(mean) < 5 * sigma / n.squareRoot(), "\(what): mean \(mean)")
            #expect(maxAbs > 2.5 * sigma, "\(what): max |w| \(maxAbs) looks truncated (σ \(sigma))")
        case .truncatedNormal(let sigma):
            let bound = 2 * sigma / 0.87962566103423978
            #expect(abs(std / sigma - 1) < stdTolerance, "\(what): std \(std), expected \(sigma)")
            #expect(abs(mean) < 5 * sigma / n.squareRoot(), "\(what): mean \(mean)")
            #expect(maxAbs <= bound * (1 + 1e-6), "\(what): max |w| \(maxAbs) beyond the truncation \(bound)")
            if values.count > 10_000 {
                #expect(maxAbs >= 0.98 * bound, "\(what): max |w| \(maxAbs) far from the truncation \(bound)")
            }
        }
    }

    @Test(arguments: [Initializer.default, .uniform, .xavierUniform, .xavierNorm, .zero])
    func innerProductInitializer(_ type: Initializer) throws {
        let x = Variable(name: "x", shape: [1, 512], backend: cpu)
        let config = DenseLayer(.innerProduct, bottomNames: ["x"], topNames: ["fc"], numOutput: 1024,
                                weightInitType: type, biasInitType: type)
        let layer = try TS.make(config, [x], seed: 7)
        let w = TS.floats(layer.parameters[0].value), b = TS.floats(layer.parameters[1].value)
        checkStatistics(w, expected(type, bias: false, i: 512, o: 1024), "\(type) weight")
        checkStatistics(b, expected(type, bias: true, i: 512, o: 1024), "\(type) bias")

        let same = try TS.make(config, [x], seed: 7)
        #expect(TS.floats(same.parameters[0].value) == w, "same seed must give identical weights")
        #expect(TS.floats(same.parameters[1].value) == b, "same seed must give identical biases")
        if type != .zero {
            let other = try TS.make(config, [x], seed: 8)
            #expect(TS.floats(other.parameters[0].value) != w, "another seed must give other weights")
            #expect(TS.floats(other.parameters[1].value) != b, "another seed must give other biases")
            #expect(Array(w.prefix(1024)) != b, "weight and bias draw from separate streams")
        }
    }

    @Test func multiCrossInitializer() throws {
        let x = Variable(name: "x", shape: [1, 4096], backend: cpu)
        let layer = try TS.make(DenseLayer(.multiCross, bottomNames: ["x"], topNames: ["cross"], numLayers: 2), [x])
        for l in 0..<2 {
            checkStatistics(TS.floats(layer.parameters[2 * l].value), .normal((1 / 4096.0).squareRoot()), "cross w\(l)")
            TS.expectAll(TS.floats(layer.parameters[2 * l + 1].value), equal: 0, "cross b\(l)")
        }
        #expect(TS.floats(layer.parameters[0].value) != TS.floats(layer.parameters[2].value), "layers draw separately")
        let zero = try TS.make(DenseLayer(.multiCross, bottomNames: ["x"], topNames: ["cross"], weightInitType: .zero,
                                          numLayers: 1), [x])
        TS.expectAll(TS.floats(zero.parameters[0].value), equal: 0, "Zero weight init")
    }

    // MARK: ReLU and Sigmoid

    @Test func reluAtZeroPassesNoGradient() throws {
        let x = TS.variable("x", [1, 3], [0, -0.0, 1])
        let layer = try TS.make(DenseLayer(.relu, bottomNames: ["x"], topNames: ["r"]), [x])
        let ctx = StepContext(batch: 1, training: true)
        layer.forward(ctx)
        TS.backward(layer, ctx, outputGrads: [[5, 6, 7]])
        #expect(TS.floats(layer.outputs[0].value) == [0, 0, 1])
        #expect(TS.floats(x.grad) == [0, 0, 7], "dx = x > 0 ? dy : 0 (strict)")
    }

    /// Large |x| saturates without overflow: σ stays finite in [0, 1].
    @Test func sigmoidSaturates() throws {
        let xs: [Float] = [40, -40, 95, -95, 0.5, -0.5]
        let x = TS.variable("x", [1, 6], xs)
        let layer = try TS.make(DenseLayer(.sigmoid, bottomNames: ["x"], topNames: ["s"]), [x])
        layer.forward(StepContext(batch: 1, training: true))
        let y = TS.floats(layer.outputs[0].value)
        #expect(y.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 }, "σ must stay finite in [0, 1]")
        TS.expectClose(y, xs.map { sigmoidRef(Double($0)) }, rtol: 1e-5, atol: 1e-7, "Sigmoid forward")
    }

    // MARK: Dropout (§6.14)

    private func dropoutLayer(_ x: Variable, rate: Float, name: String = "drop") throws -> any Layer {
        try TS.make(DenseLayer(.dropout, bottomNames: ["x"], topNames: [name], dropoutRate: rate), [x])
    }

    @Test(arguments: [Float(0.25), 0.5, 0.75, 0.99])
    func dropoutStatistics(rate: Float) throws {
        let rows = 1000, cols = 100, n = rows * cols
        let xs = TS.uniforms(n, seed: 51, 0.5, 1.5)
        let x = TS.variable("x", [rows, cols], xs)
        let layer = try dropoutLayer(x, rate: rate)
        let ctx = StepContext(batch: rows, training: true, iteration: 3, seed: 17)
        layer.forward(ctx)
        let y = TS.floats(layer.outputs[0].value)
        let zeros = y.filter { $0 == 0 }.count
        #expect(abs(Double(zeros) / Double(n) - Double(rate)) <= 0.02, "rate \(rate): zero fraction \(Double(zeros) / Double(n))")
        let keep = 1 / (1 - Double(rate))
        var wrongKept = 0
        for i in 0..<n where y[i] != 0 && abs(Double(y[i]) - Double(xs[i]) * keep) > 1e-5 * abs(Double(xs[i]) * keep) {
            wrongKept += 1
        }
        #expect(wrongKept == 0, "kept elements must equal x/(1−rate)")

        let dy = TS.normals(n, seed: 52)
        TS.backward(layer, ctx, outputGrads: [dy])
        let dx = TS.floats(x.grad)
        var wrongGrad = 0
        for i in 0..<n {
            let expected = y[i] == 0 ? 0 : Double(dy[i]) * keep
            if abs(Double(dx[i]) - expected) > 1e-5 * (abs(expected) + 1e-3) { wrongGrad += 1 }
        }
        #expect(wrongGrad == 0, "backward must use the forward mask: dx = dy·m/(1−rate)")
    }

    @Test func dropoutMaskDependsOnSeedAndIteration() throws {
        let n = 4096
        let x = TS.variable("x", [64, 64], TS.uniforms(n, seed: 53, 0.5, 1.5))
        let layer = try dropoutLayer(x, rate: 0.5)
        func mask(_ ctx: StepContext) -> [Bool] {
            layer.forward(ctx)
            return TS.floats(layer.outputs[0].value).map { $0 == 0 }
        }
        let base = mask(StepContext(batch: 64, training: true, iteration: 5, seed: 3))
        #expect(mask(StepContext(batch: 64, training: true, iteration: 5, seed: 3)) == base, "same seed and iteration")
        let nextIteration = mask(StepContext(batch: 64, training: true, iteration: 6, seed: 3))
        let otherSeed = mask(StepContext(batch: 64, training: true, iteration: 5, seed: 4))
        #expect(zip(base, nextIteration).filter { $0 != $1 }.count > n / 4, "another iteration draws another mask")
        #expect(zip(base, otherSeed).filter { $0 != $1 }.count > n / 4, "another seed draws another mask")
        let twin = try dropoutLayer(x, rate: 0.5, name: "drop2")
        twin.forward(StepContext(batch: 64, training: true, iteration: 5, seed: 3))
        let twinMask = TS.floats(twin.outputs[0].value).map { $0 == 0 }
        #expect(zip(base, twinMask).filter { $0 != $1 }.count > n / 4, "two dropout layers draw independent masks")
    }

    @Test func dropoutEvaluationAndRateZeroAreIdentity() throws {
        let xs = TS.normals(60, seed: 54)
        let x = TS.variable("x", [6, 10], xs)
        let layer = try dropoutLayer(x, rate: 0.4)
        cpu.fill(layer.outputs[0].value, 777)
        layer.forward(StepContext(batch: 6, training: false, iteration: 1, seed: 1))
        #expect(TS.floats(layer.outputs[0].value) == xs, "evaluation: y = x")

        let off = try dropoutLayer(x, rate: 0)
        let ctx = StepContext(batch: 6, training: true, iteration: 1, seed: 1)
        off.forward(ctx)
        #expect(TS.floats(off.outputs[0].value) == xs, "rate 0: y = x in training")
        let dy = TS.normals(60, seed: 55)
        TS.backward(off, ctx, outputGrads: [dy])
        #expect(TS.floats(x.grad) == dy, "rate 0: dx = dy")
    }

    // MARK: Reshape (§6.11)

    @Test(arguments: [
        ReshapeCase(input: [3, 3, 4], leadingDim: 6, timeStep: 0, shape: [], expected: [6, 6]),
        ReshapeCase(input: [2, 3, 4], leadingDim: 12, timeStep: 0, shape: [], expected: [2, 12]),
        ReshapeCase(input: [1, 12], leadingDim: 4, timeStep: 0, shape: [], expected: [3, 4]),
        ReshapeCase(input: [2, 12], leadingDim: 4, timeStep: 3, shape: [], expected: [2, 3, 4]),
        ReshapeCase(input: [2, 24], leadingDim: 4, timeStep: 3, shape: [], expected: [4, 3, 4]),
        ReshapeCase(input: [3, 3, 4], leadingDim: 0, timeStep: 0, shape: [-1, 12], expected: [3, 12]),
        ReshapeCase(input: [2, 12], leadingDim: 0, timeStep: 0, shape: [-1, 2, 6], expected: [2, 2, 6]),
        ReshapeCase(input: [1, 2, 6], leadingDim: 0, timeStep: 0, shape: [-1, 4, 3], expected: [1, 4, 3]),
    ])
    func reshape(_ c: ReshapeCase) throws {
        let (x, xs) = TS.randomVariable("x", Shape(c.input), seed: 71)
        let layer = try TS.make(DenseLayer(.reshape, bottomNames: ["x"], topNames: ["flat"], leadingDim: c.leadingDim,
                                           timeStep: c.timeStep, shape: c.shape), [x])
        let out = layer.outputs[0]
        #expect(out.shape == Shape(c.expected))
        #expect(out.maxBatch == c.input[0], "the reshaped variable still holds \(c.input[0]) samples")
        let ctx = StepContext(batch: c.input[0], training: true)
        layer.forward(ctx)
        #expect(TS.floats(out.value) == xs, "flat order is unchanged")
        // A view: the same storage, so later writes to the input show through without a forward.
        #expect(out.value.storage === x.value.storage && out.value.byteOffset == x.value.byteOffset)
        #expect(out.grad.storage === x.grad.storage && out.grad.byteOffset == x.grad.byteOffset)
        TS.setElement(x.value, 0, 42)
        #expect(TS.element(out.value, 0) == 42)
        TS.setElement(x.value, 0, xs[0])
        let dy = TS.normals(xs.count, seed: 72)
        cpu.upload(dy, to: out.grad)
        layer.backward(ctx)
        #expect(TS.floats(x.grad) == dy, "backward: dX is dY in flat order")
    }

    // MARK: MultiCross v1 (§6.4)

    /// §9.1: backward accumulates dw, assigns db and dX (the conformance cases check the values).
    @Test func multiCrossAccumulatesWeightGradientsOnly() throws {
        let (x, _) = TS.randomVariable("x", [4, 5], seed: 111)
        let layer = try TS.make(DenseLayer(.multiCross, bottomNames: ["x"], topNames: ["cross"], numLayers: 2), [x])
        let ctx = StepContext(batch: 4, training: true)
        layer.forward(ctx)
        TS.backward(layer, ctx, outputGrads: [TS.normals(20, seed: 119)])
        let dx = TS.floats(x.grad), grads = layer.parameters.map { TS.floats($0.grad) }
        layer.backward(ctx)
        #expect(TS.floats(x.grad) == dx, "dX is assigned")
        for l in 0..<2 {
            TS.expectClose(TS.floats(layer.parameters[2 * l].grad), grads[2 * l].map { 2 * Double($0) }, "dw\(l) accumulates")
            #expect(TS.floats(layer.parameters[2 * l + 1].grad) == grads[2 * l + 1], "db\(l) is assigned")
        }
    }

    // MARK: BinaryCrossEntropyLoss (§8.1)

    private func bceInputs(batch: Int, seed: UInt64) -> (logits: [Float], labels: [Float]) {
        var logits = TS.normals(batch, seed: seed, std: 3)
        if batch >= 4 { logits[0] = 40; logits[1] = -40; logits[2] = 0; logits[3] = -90 }
        let labels = (0..<batch).map { i -> Float in [1, 0, 0.3, 1][i % 4] }
        return (logits, labels)
    }

    @Test(arguments: [1, 7, 64])
    func binaryCrossEntropy(batch: Int) throws {
        let (xs, ys) = bceInputs(batch: batch, seed: 131)
        let logits = TS.variable("fc", [batch, 1], xs), label = TS.variable("label", [batch, 1], ys)
        let layer = try TS.make(DenseLayer(.binaryCrossEntropyLoss, bottomNames: ["fc", "label"], topNames: ["loss"]),
                                [logits, label])
        let bce = try #require(layer as? BinaryCrossEntropyLoss)
        let ctx = StepContext(batch: batch, training: true)
        layer.forward(ctx)
        let expectedLoss = zip(xs, ys).reduce(0.0) { $0 + bceRef(Double($1.0), Double($1.1)) } / Double(batch)
        #expect(bce.loss.isFinite)
        #expect(abs(Double(bce.loss) - expectedLoss) <= 1e-5 * max(1, expectedLoss), "loss \(bce.loss) vs \(expectedLoss)")
        let grad = TS.floats(logits.grad)
        let expectedGrad = zip(xs, ys).map { (sigmoidRef(Double($0)) - Double($1)) / Double(batch) }
        TS.expectClose(grad, expectedGrad, rtol: 1e-5, atol: 1e-7, "BCE gradient (σ(x) − y)/B")

        // Loss scaler multiplies the gradient only.
        bce.scaler = 2
        layer.forward(ctx)
        TS.expectClose(TS.floats(logits.grad), expectedGrad.map { 2 * $0 }, rtol: 1e-5, atol: 1e-7, "BCE gradient × scaler")
        #expect(abs(Double(bce.loss) - expectedLoss) <= 1e-5 * max(1, expectedLoss))
        bce.scaler = 1

        // Evaluation writes σ(x) into predictions.
        cpu.fill(bce.predictions, 777)
        layer.forward(StepContext(batch: batch, training: false))
        TS.expectClose(TS.floats(bce.predictions), xs.map { sigmoidRef(Double($0)) }, rtol: 1e-5, atol: 1e-7, "BCE predictions")
        #expect(abs(Double(bce.loss) - expectedLoss) <= 1e-5 * max(1, expectedLoss), "evaluation loss")
    }

    @Test func binaryCrossEntropyPartialBatchDividesByCurrentBatch() throws {
        let (xs, ys) = bceInputs(batch: 8, seed: 132)
        let logits = TS.variable("fc", [8, 1], xs), label = TS.variable("label", [8, 1], ys)
        let layer = try TS.make(DenseLayer(.binaryCrossEntropyLoss, bottomNames: ["fc", "label"], topNames: ["loss"]),
                                [logits, label])
        let bce = try #require(layer as? BinaryCrossEntropyLoss)
        layer.forward(StepContext(batch: 3, training: true))
        let expectedLoss = (0..<3).reduce(0.0) { $0 + bceRef(Double(xs[$1]), Double(ys[$1])) } / 3
        #expect(abs(Double(bce.loss) - expectedLoss) <= 1e-5 * max(1, expectedLoss))
        TS.expectClose(Array(TS.floats(logits.grad).prefix(3)),
                       (0..<3).map { (sigmoidRef(Double(xs[$0])) - Double(ys[$0])) / 3 }, rtol: 1e-5, atol: 1e-7,
                       "partial-batch gradient")
    }

    // MARK: Partial batches for every layer

    @Test(arguments: [
        PartialCase(name: "InnerProduct 2D", inputs: [[6]],
                    config: DenseLayer(.innerProduct, bottomNames: ["x0"], topNames: ["y"], numOutput: 3)),
        PartialCase(name: "InnerProduct 3D", inputs: [[2, 6]],
                    config: DenseLayer(.innerProduct, bottomNames: ["x0"], topNames: ["y"], numOutput: 3)),
        PartialCase(name: "ReLU", inputs: [[7]], config: DenseLayer(.relu, bottomNames: ["x0"], topNames: ["y"])),
        PartialCase(name: "Sigmoid", inputs: [[3, 4]], config: DenseLayer(.sigmoid, bottomNames: ["x0"], topNames: ["y"])),
        PartialCase(name: "Dropout", inputs: [[9]],
                    config: DenseLayer(.dropout, bottomNames: ["x0"], topNames: ["y"], dropoutRate: 0.3)),
        PartialCase(name: "Concat 2D", inputs: [[3], [4]],
                    config: DenseLayer(.concat, bottomNames: ["x0", "x1"], topNames: ["y"])),
        PartialCase(name: "Concat 3D axis 1", inputs: [[2, 3], [1, 3]],
                    config: DenseLayer(.concat, bottomNames: ["x0", "x1"], topNames: ["y"], axis: 1)),
        PartialCase(name: "Concat 3D axis 2", inputs: [[2, 3], [2, 1]],
                    config: DenseLayer(.concat, bottomNames: ["x0", "x1"], topNames: ["y"], axis: 2)),
        PartialCase(name: "Slice", inputs: [[8]],
                    config: DenseLayer(.slice, bottomNames: ["x0"], topNames: ["a", "b"], ranges: [[0, 5], [3, 8]])),
        PartialCase(name: "Slice full width", inputs: [[4]],
                    config: DenseLayer(.slice, bottomNames: ["x0"], topNames: ["a", "b"], ranges: [[0, 4], [0, 4]])),
        PartialCase(name: "Add", inputs: [[4], [4], [4]],
                    config: DenseLayer(.add, bottomNames: ["x0", "x1", "x2"], topNames: ["y"])),
        PartialCase(name: "ReduceSum axis 1", inputs: [[3, 4]],
                    config: DenseLayer(.reduceSum, bottomNames: ["x0"], topNames: ["y"], axis: 1)),
        PartialCase(name: "ReduceSum axis 2", inputs: [[3, 4]],
                    config: DenseLayer(.reduceSum, bottomNames: ["x0"], topNames: ["y"], axis: 2)),
        PartialCase(name: "MultiCross", inputs: [[5]],
                    config: DenseLayer(.multiCross, bottomNames: ["x0"], topNames: ["y"], numLayers: 2)),
        PartialCase(name: "Interaction", inputs: [[4], [3, 4]],
                    config: DenseLayer(.interaction, bottomNames: ["x0", "x1"], topNames: ["y"])),
    ])
    func partialBatch(_ c: PartialCase) throws {
        let maxBatch = 5, batch = 2
        func build(_ samples: Int) throws -> any Layer {
            let inputs = c.inputs.enumerated().map { k, perSample in
                let n = perSample.reduce(1, *)
                let values = TS.normals(maxBatch * n, seed: 140 + UInt64(k))
                return TS.variable("x\(k)", Shape([samples] + perSample), Array(values.prefix(samples * n)))
            }
            return try TS.make(c.config, inputs)
        }
        let big = try build(maxBatch), small = try build(batch)
        let ctx = StepContext(batch: batch, training: true, iteration: 1, seed: 5)
        // A full-width Slice output is a view of its input: it has no rows of its own to check.
        func isView(_ output: Variable) -> Bool { big.inputs.contains { $0.value === output.value } }
        for output in big.outputs where !isView(output) { cpu.fill(output.value, 777) }
        big.forward(ctx)
        small.forward(ctx)
        for (k, (b, s)) in zip(big.outputs, small.outputs).enumerated() {
            let n = s.value.count, values = TS.floats(b.value)
            #expect(b.count(batch) == n, "output \(k) count for \(batch) samples")
            TS.expectClose(Array(values.prefix(n)), TS.floats(s.value), rtol: 1e-6, atol: 1e-6, "output \(k) equals a batch-\(batch) run")
            if !isView(b) { TS.expectAll(Array(values.dropFirst(n)), equal: 777, "output \(k) beyond the batch") }
        }
        let grads = big.outputs.enumerated().map { TS.normals($1.value.count, seed: 150 + UInt64($0)) }
        TS.backward(big, ctx, outputGrads: grads)
        TS.backward(small, ctx, outputGrads: zip(grads, small.outputs).map { Array($0.prefix($1.value.count)) })
        for (k, (b, s)) in zip(big.inputs, small.inputs).enumerated() {
            let n = s.grad.count, values = TS.floats(b.grad)
            TS.expectClose(Array(values.prefix(n)), TS.floats(s.grad), rtol: 1e-6, atol: 1e-6, "dX\(k) equals a batch-\(batch) run")
            TS.expectAll(Array(values.dropFirst(n)), equal: 1234.5, "dX\(k) beyond the batch")
        }
        for (b, s) in zip(big.parameters, small.parameters) {
            TS.expectClose(TS.floats(b.grad), TS.floats(s.grad), rtol: 1e-5, atol: 1e-6, "d\(b.name) equals a batch-\(batch) run")
        }
    }

    /// A Reshape with leading_dim gives each sample several rows (`rowsPerSample`); the next layer
    /// must process all rows of the batch, exactly like the same layer on the flat (rows, lead)
    /// matrix.
    @Test(arguments: [
        PartialCase(name: "InnerProduct", inputs: [], config: DenseLayer(.innerProduct, bottomNames: ["r"], topNames: ["y"], numOutput: 3)),
        PartialCase(name: "ReLU", inputs: [], config: DenseLayer(.relu, bottomNames: ["r"], topNames: ["y"])),
        PartialCase(name: "Slice", inputs: [], config: DenseLayer(.slice, bottomNames: ["r"], topNames: ["y"], ranges: [[1, 3]])),
        PartialCase(name: "ReduceSum", inputs: [], config: DenseLayer(.reduceSum, bottomNames: ["r"], topNames: ["y"], axis: 1)),
        PartialCase(name: "MultiCross", inputs: [], config: DenseLayer(.multiCross, bottomNames: ["r"], topNames: ["y"], numLayers: 1)),
    ])
    func layerAfterLeadingDimReshape(_ c: PartialCase) throws {
        let config = c.config
        let samples = 3, rowsPerSample = 3, lead = 4
        let xs = TS.normals(samples * rowsPerSample * lead, seed: 160)
        let x = TS.variable("x", [samples, rowsPerSample * lead], xs)
        let reshape = try TS.make(DenseLayer(.reshape, bottomNames: ["x"], topNames: ["r"], leadingDim: lead), [x])
        #expect(reshape.outputs[0].rowsPerSample == rowsPerSample)
        let layer = try TS.make(config, reshape.outputs)
        let flat = TS.variable("r", [samples * rowsPerSample, lead], xs)
        let reference = try TS.make(config, [flat])
        for batch in [samples, 2] {
            let rows = batch * rowsPerSample
            reshape.forward(StepContext(batch: batch, training: true))
            layer.forward(StepContext(batch: batch, training: true))
            reference.forward(StepContext(batch: rows, training: true))
            let n = reference.outputs[0].count(rows)
            TS.expectClose(TS.floats(layer.outputs[0].value, n), TS.floats(reference.outputs[0].value, n),
                           rtol: 1e-6, atol: 1e-6, "\(config.layerType.rawValue) after Reshape, batch \(batch)")
        }
    }

    // MARK: Shape rules (the registered builders)

    @Test(arguments: [
        ShapeErrorCase(name: "InnerProduct on 4D", inputs: [[2, 3, 4]],
                       config: DenseLayer(.innerProduct, bottomNames: ["x0"], topNames: ["fc_bad"], numOutput: 4),
                       mentions: ["4D"]),
        ShapeErrorCase(name: "InnerProduct num_output 0", inputs: [[3]],
                       config: DenseLayer(.innerProduct, bottomNames: ["x0"], topNames: ["fc_bad"], numOutput: 0),
                       mentions: ["num_output must be ≥ 1, found 0"]),
        ShapeErrorCase(name: "BCE with (B, 2) logits", inputs: [[2], [2]],
                       config: DenseLayer(.binaryCrossEntropyLoss, bottomNames: ["x0", "x1"], topNames: ["loss_bad"]),
                       mentions: ["(2)"]),
        ShapeErrorCase(name: "Concat 2D with 3D", inputs: [[3], [2, 3]],
                       config: DenseLayer(.concat, bottomNames: ["x0", "x1"], topNames: ["cat_bad"]),
                       mentions: ["(3)", "(2, 3)"]),
        ShapeErrorCase(name: "Concat 3D axis 1 with unequal vectors", inputs: [[2, 3], [2, 4]],
                       config: DenseLayer(.concat, bottomNames: ["x0", "x1"], topNames: ["cat_bad"], axis: 1),
                       mentions: ["(2, 4)"]),
        ShapeErrorCase(name: "Concat 3D axis 0", inputs: [[2, 3], [2, 3]],
                       config: DenseLayer(.concat, bottomNames: ["x0", "x1"], topNames: ["cat_bad"], axis: 0),
                       mentions: ["3D Concat takes axis 1 or 2, found 0"]),
        ShapeErrorCase(name: "Slice beyond the width", inputs: [[10]],
                       config: DenseLayer(.slice, bottomNames: ["x0"], topNames: ["slice_bad", "s2"], ranges: [[0, 4], [8, 12]]),
                       mentions: ["[8, 12]", "10"]),
        ShapeErrorCase(name: "Slice out of order", inputs: [[10]],
                       config: DenseLayer(.slice, bottomNames: ["x0"], topNames: ["slice_bad", "s2"], ranges: [[4, 8], [0, 3]]),
                       mentions: ["[0, 3]"]),
        ShapeErrorCase(name: "Slice inside an earlier range", inputs: [[10]],
                       config: DenseLayer(.slice, bottomNames: ["x0"], topNames: ["slice_bad", "s2"], ranges: [[0, 10], [2, 5]]),
                       mentions: ["[2, 5]"]),
        ShapeErrorCase(name: "Slice empty range", inputs: [[10]],
                       config: DenseLayer(.slice, bottomNames: ["x0"], topNames: ["slice_bad"], ranges: [[3, 3]]),
                       mentions: ["[3, 3]"]),
        ShapeErrorCase(name: "Reshape leading_dim not dividing", inputs: [[12]],
                       config: DenseLayer(.reshape, bottomNames: ["x0"], topNames: ["reshape_bad"], leadingDim: 7),
                       mentions: ["leading_dim = 7 must divide the 12 elements"]),
        ShapeErrorCase(name: "Reshape shape without -1", inputs: [[12]],
                       config: DenseLayer(.reshape, bottomNames: ["x0"], topNames: ["reshape_bad"], shape: [3, 4]),
                       mentions: ["[3, 4]"]),
        ShapeErrorCase(name: "Interaction with mismatched widths", inputs: [[4], [3, 5]],
                       config: DenseLayer(.interaction, bottomNames: ["x0", "x1"], topNames: ["inter_bad"]),
                       mentions: ["(4) must equal the embedding vector size", "(5)"]),
        ShapeErrorCase(name: "MultiCross num_layers 0", inputs: [[5]],
                       config: DenseLayer(.multiCross, bottomNames: ["x0"], topNames: ["cross_bad"], numLayers: 0),
                       mentions: ["num_layers must be ≥ 1, found 0"]),
        ShapeErrorCase(name: "MultiCross on 3D", inputs: [[2, 5]],
                       config: DenseLayer(.multiCross, bottomNames: ["x0"], topNames: ["cross_bad"], numLayers: 1),
                       mentions: ["3D"]),
        ShapeErrorCase(name: "Add with mismatched shapes", inputs: [[4], [5]],
                       config: DenseLayer(.add, bottomNames: ["x0", "x1"], topNames: ["add_bad"]),
                       mentions: ["(4)", "(5)"]),
        ShapeErrorCase(name: "Dropout rate 1.0", inputs: [[4]],
                       config: DenseLayer(.dropout, bottomNames: ["x0"], topNames: ["drop_bad"], dropoutRate: 1.0),
                       mentions: ["dropout_rate must be in [0, 1), found 1.0"]),
        ShapeErrorCase(name: "ReduceSum axis 3 of a 3D input", inputs: [[2, 3]],
                       config: DenseLayer(.reduceSum, bottomNames: ["x0"], topNames: ["rs_bad"], axis: 3),
                       mentions: ["axis must be a per-sample axis in 1..<3", "found 3"]),
    ])
    func shapeRuleErrors(_ c: ShapeErrorCase) throws {
        let inputs = c.inputs.enumerated().map { k, perSample in
            Variable(name: "x\(k)", shape: Shape([4] + perSample), backend: cpu)
        }
        let error = #expect(throws: SwiftCTRError.self, "\(c.name) must be rejected") {
            _ = try TS.make(c.config, inputs)
        }
        guard let error else { return }
        #expect(error.kind == .shape)
        for text in [c.config.name] + c.mentions {
            #expect(error.description.contains(text), "\(c.name): message should mention '\(text)': \(error.description)")
        }
    }

    /// §6.18: Interaction checks that both bottoms hold the same number of samples.
    @Test func interactionRejectsMismatchedBatch() {
        let dense = Variable(name: "dense", shape: [4, 3], backend: cpu)
        let emb = Variable(name: "emb", shape: [2, 5, 3], backend: cpu)
        #expect(throws: SwiftCTRError.self, "dense (4, 3) with embeddings (2, 5, 3) must be rejected") {
            _ = try TS.make(DenseLayer(.interaction, bottomNames: ["dense", "emb"], topNames: ["inter_bad"]), [dense, emb])
        }
    }
}
