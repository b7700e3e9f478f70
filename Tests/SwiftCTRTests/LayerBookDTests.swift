import CTRCore
import CTRCPU
@testable import CTRLayers
import Foundation
import SwiftCTR
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
        ShapeErrorCase(name: "MLP with 2 bottoms", inputs: [[4], [4]],
                       config: DenseLayer(.mlp, bottomNames: ["x0", "x1"], topNames: ["mlp_bad"], numOutputs: [3]),
                       mentions: ["MLP takes one bottom, found 2", "Interaction's gradient tensor"]),
        ShapeErrorCase(name: "MLP without num_outputs", inputs: [[4]],
                       config: DenseLayer(.mlp, bottomNames: ["x0"], topNames: ["mlp_bad"]),
                       mentions: ["num_outputs is empty"]),
        ShapeErrorCase(name: "MLP with a zero width", inputs: [[4]],
                       config: DenseLayer(.mlp, bottomNames: ["x0"], topNames: ["mlp_bad"], numOutputs: [8, 0, 1]),
                       mentions: ["num_outputs[1] must be ≥ 1, found 0", "[8, 0, 1]"]),
        ShapeErrorCase(name: "MLP activations of another length", inputs: [[4]],
                       config: DenseLayer(.mlp, bottomNames: ["x0"], topNames: ["mlp_bad"], numOutputs: [8, 1],
                                          activations: [.relu]),
                       mentions: ["activations has 1 entries for 2 layers"]),
        ShapeErrorCase(name: "MLP biases of another length", inputs: [[4]],
                       config: DenseLayer(.mlp, bottomNames: ["x0"], topNames: ["mlp_bad"], numOutputs: [8, 1],
                                          biases: [true, false, true]),
                       mentions: ["biases has 3 entries for 2 layers"]),
        ShapeErrorCase(name: "MLP on 3D", inputs: [[2, 4]],
                       config: DenseLayer(.mlp, bottomNames: ["x0"], topNames: ["mlp_bad"], numOutputs: [3]),
                       mentions: ["must be 2D", "found 3D"]),
        ShapeErrorCase(name: "FusedInnerProduct Body with 1 bottom", inputs: [[4]],
                       config: DenseLayer(.fusedInnerProduct, bottomNames: ["x0"], topNames: ["fc_bad", "m", "d", "b"],
                                          numOutput: 3, posType: .body),
                       mentions: ["pos_type Body takes 4 bottoms and 4 tops, found 1 and 4"]),
        ShapeErrorCase(name: "FusedInnerProduct Head with 1 top", inputs: [[4]],
                       config: DenseLayer(.fusedInnerProduct, bottomNames: ["x0"], topNames: ["fc_bad"], numOutput: 3,
                                          posType: .head),
                       mentions: ["pos_type Head takes 1 or 2 bottoms and 4 tops, found 1 and 1"]),
        ShapeErrorCase(name: "FusedInnerProduct Tail with 4 tops", inputs: [[4], [1], [1], [1]],
                       config: DenseLayer(.fusedInnerProduct, bottomNames: ["x0", "x1", "x2", "x3"],
                                          topNames: ["fc_bad", "m", "d", "b"], numOutput: 3, posType: .tail),
                       mentions: ["pos_type Tail takes 4 bottoms and 1 top, found 4 and 4"]),
        ShapeErrorCase(name: "FusedInnerProduct with 2 bottoms", inputs: [[4], [4]],
                       config: DenseLayer(.fusedInnerProduct, bottomNames: ["x0", "x1"], topNames: ["fc_bad"], numOutput: 3),
                       mentions: ["pos_type None takes 1 bottom and 1 top, found 2 and 1"]),
        ShapeErrorCase(name: "FusedInnerProduct on 3D", inputs: [[2, 4]],
                       config: DenseLayer(.fusedInnerProduct, bottomNames: ["x0"], topNames: ["fc_bad"], numOutput: 3),
                       mentions: ["must be 2D", "found 3D"]),
        ShapeErrorCase(name: "FusedInnerProduct num_output 0", inputs: [[4]],
                       config: DenseLayer(.fusedInnerProduct, bottomNames: ["x0"], topNames: ["fc_bad"], numOutput: 0,
                                          posType: .isolated),
                       mentions: ["num_output must be ≥ 1, found 0"]),
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

    /// Width 13 padded to 16 (a GEMM alignment of 8, forced on the CPU) must equal the unpadded
    /// layer: output, dX, and dU, dV, db accumulated over two backward passes, on a partial batch;
    /// the parameters keep HugeCTR's shapes and the padding of U and b stays zero.
    @Test(arguments: [1, 3])
    func multiCrossV2PaddedMatchesUnpadded(layers: Int) throws {
        let n = 13, k = 5, rows = 6, batch = 5
        let (xPadded, values) = TS.randomVariable("x", [rows, n], seed: 231)
        let xPlain = TS.variable("x", [rows, n], values)
        func make(_ x: Variable, _ alignment: Int?) -> MultiCrossV2 {
            MultiCrossV2(name: "cross", input: x, layers: layers, projectionDim: k, weightInit: .xavierNorm,
                         initializer: WeightInitializer(seed: 3), backend: cpu, alignment: alignment)
        }
        let padded = make(xPadded, 8), plain = make(xPlain, nil)
        #expect(padded.paddedWidth == 16 && plain.paddedWidth == n)
        #expect(padded.parameters.map(\.shape) == plain.parameters.map(\.shape))
        for (p, q) in zip(padded.parameters, plain.parameters) {
            let values = TS.normals(q.value.count, seed: 240, std: 0.3)
            TS.set(p.value, values)
            TS.set(q.value, values)
        }
        let ctx = StepContext(batch: batch, training: true), dy = TS.normals(rows * n, seed: 233)
        for layer in [padded, plain] {
            layer.forward(ctx)
            TS.backward(layer, ctx, outputGrads: [dy])
            layer.backward(ctx)
        }
        let used = batch * n
        TS.expectClose(TS.floats(padded.outputs[0].value, used), TS.floats(plain.outputs[0].value, used), rtol: 1e-5, atol: 1e-5,
                       "padded forward")
        TS.expectClose(TS.floats(xPadded.grad, used), TS.floats(xPlain.grad, used), rtol: 1e-5, atol: 1e-5, "padded dX")
        for (p, q) in zip(padded.parameters, plain.parameters) {
            TS.expectClose(TS.floats(p.grad), TS.floats(q.grad), rtol: 1e-5, atol: 1e-5, "padded d\(p.name)")
        }
        let storage = try #require(padded.padded)
        for l in 0..<layers {
            TS.expectAll(Array(TS.floats(storage.u).dropFirst((l * 16 + n) * k).prefix((16 - n) * k)), equal: 0, "U_\(l) padding")
            TS.expectAll(Array(TS.floats(storage.du).dropFirst((l * 16 + n) * k).prefix((16 - n) * k)), equal: 0, "dU_\(l) padding")
            TS.expectAll(Array(TS.floats(storage.dbias).dropFirst(l * 16 + n).prefix(16 - n)), equal: 0, "db_\(l) padding")
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

    // MARK: MLP (§6.3)

    /// The statistics of `values` match `distribution` (uniform: the limit is reached and not
    /// passed; normal: the standard deviation; truncated: also the ±2σ/0.8796 bound).
    private func expectDistribution(_ values: [Float], _ distribution: WeightInitializer.Distribution, _ what: String) {
        let maxAbs = values.reduce(0.0) { max($0, abs(Double($1))) }
        switch distribution {
        case .zero: TS.expectAll(values, equal: 0, what)
        case .uniform(let limit):
            let limit = Double(limit)
            #expect(maxAbs <= limit * (1 + 1e-6) && maxAbs >= 0.99 * limit, "\(what): max |w| \(maxAbs), limit \(limit)")
            #expect(abs(std(values) / (limit / 3.0.squareRoot()) - 1) < 0.08, "\(what): std \(std(values))")
        case .truncatedNormal(let sigma):
            #expect(abs(std(values) / Double(sigma) - 1) < 0.08, "\(what): std \(std(values)), expected \(sigma)")
            #expect(maxAbs <= 2 * Double(sigma) / 0.87962566103423978 * (1 + 1e-6), "\(what): max |w| \(maxAbs) not truncated")
        default: Issue.record("\(what): no check for \(distribution)")
        }
    }

    @Test(arguments: [Initializer.default, .uniform, .xavierUniform, .xavierNorm, .zero])
    func mlpInitializers(_ type: Initializer) throws {
        let fanIn = 400, widths = [1000, 600]
        let x = Variable(name: "x", shape: [2, fanIn], backend: cpu)
        let layer = try TS.make(DenseLayer(.mlp, bottomNames: ["x"], topNames: ["mlp"], weightInitType: type,
                                           biasInitType: type, numOutputs: widths), [x])
        for (i, (input, output)) in zip([fanIn] + widths, widths).enumerated() {
            let w = layer.parameters[2 * i], b = layer.parameters[2 * i + 1]
            let n = Float(input), m = Float(output)
            let (weight, bias): (WeightInitializer.Distribution, WeightInitializer.Distribution) = switch type {
            case .default, .uniform: (.uniform((1 / n).squareRoot()), .uniform((1 / n).squareRoot()))
            case .xavierUniform: (.uniform((6 / (n + m)).squareRoot()), .uniform((3 / m).squareRoot()))
            case .xavierNorm: (.truncatedNormal((2 / (n + m)).squareRoot()), .truncatedNormal((1 / m).squareRoot()))
            case .zero: (.zero, .zero)
            }
            // The same rule for every layer index (HugeCTR's Xavier form alternates with its parity).
            expectDistribution(TS.floats(w.value), weight, "\(type.rawValue) \(w.name)")
            expectDistribution(TS.floats(b.value), bias, "\(type.rawValue) \(b.name)")
        }
    }

    @Test func mlpParametersSkipMissingBiases() throws {
        let x = Variable(name: "x", shape: [2, 5], backend: cpu)
        let layer = try TS.make(DenseLayer(.mlp, bottomNames: ["x"], topNames: ["mlp"], numOutputs: [4, 3, 1],
                                           biases: [true, false, true]), [x])
        #expect(layer.parameters.map(\.name) == ["mlp.0.weight", "mlp.0.bias", "mlp.1.weight", "mlp.2.weight", "mlp.2.bias"])
        #expect(layer.parameters.map(\.shape) == [[5, 4], [1, 4], [4, 3], [3, 1], [1, 1]])
        #expect(layer.outputs.map(\.name) == ["mlp"] && layer.outputs[0].shape == [2, 1])
        let noBias = try TS.make(DenseLayer(.mlp, bottomNames: ["x"], topNames: ["mlp"], numOutputs: [4, 3], useBias: false), [x])
        #expect(noBias.parameters.map(\.name) == ["mlp.0.weight", "mlp.1.weight"])
    }

    /// The ReLU mask is `H > 0`: a pre-activation of exactly 0 passes no gradient (§6.3).
    @Test func mlpReLUAtZeroPassesNoGradient() throws {
        let x = TS.variable("x", [2, 3], [1, -2, 3, 0.5, 0.25, -1])
        let layer = try TS.make(DenseLayer(.mlp, bottomNames: ["x"], topNames: ["mlp"], weightInitType: .zero,
                                           biasInitType: .zero, numOutputs: [2]), [x])
        let ctx = StepContext(batch: 2, training: true)
        layer.forward(ctx)
        TS.expectAll(TS.floats(layer.outputs[0].value), equal: 0, "Z = 0 gives H = 0")
        TS.backward(layer, ctx, outputGrads: [[1, -2, 3, 4]])
        TS.expectAll(TS.floats(x.grad), equal: 0, "dX")
        for p in layer.parameters { TS.expectAll(TS.floats(p.grad), equal: 0, "d\(p.name)") }
    }

    /// dW and db accumulate across backward passes (HugeCTR assigns db); dX is assigned.
    @Test func mlpAccumulatesWeightAndBiasGradients() throws {
        let (x, _) = TS.randomVariable("x", [4, 5], seed: 311)
        let layer = try TS.make(DenseLayer(.mlp, bottomNames: ["x"], topNames: ["mlp"], numOutputs: [6, 2],
                                           activations: [.relu, .none]), [x])
        let ctx = StepContext(batch: 4, training: true)
        layer.forward(ctx)
        let dy = TS.normals(8, seed: 319)
        TS.backward(layer, ctx, outputGrads: [dy])
        let dx = TS.floats(x.grad), grads = layer.parameters.map { TS.floats($0.grad) }
        #expect(grads.allSatisfy { g in g.contains { $0 != 0 } }, "every parameter gets a gradient")
        cpu.upload(dy, to: layer.outputs[0].grad)
        layer.backward(ctx)
        #expect(TS.floats(x.grad) == dx, "dX is assigned")
        for (p, g) in zip(layer.parameters, grads) {
            TS.expectClose(TS.floats(p.grad), g.map { 2 * Double($0) }, "d\(p.name) accumulates")
        }
    }

    @Test func mlpPartialBatch() throws {
        try LayerTests().partialBatch(PartialCase(
            name: "MLP", inputs: [[6]],
            config: DenseLayer(.mlp, bottomNames: ["x0"], topNames: ["y"], numOutputs: [5, 3], activations: [.relu, .none])))
    }

    @Test func mlpAfterLeadingDimReshape() throws {
        try LayerTests().layerAfterLeadingDimReshape(PartialCase(
            name: "MLP", inputs: [], config: DenseLayer(.mlp, bottomNames: ["r"], topNames: ["y"], numOutputs: [3, 2])))
    }

    // MARK: FusedInnerProduct (§6.2)

    /// A Head → Body → Tail chain equals InnerProduct + ReLU layers with the same weights, forward
    /// and backward, and the wiring tops are zeros that pass no gradient.
    @Test func fusedInnerProductChainEqualsUnfusedLayers() throws {
        let (x, _) = TS.randomVariable("x", [5, 6], seed: 411)
        func fused(_ bottoms: [Variable], _ top: String, _ width: Int, _ position: FcPosition, _ act: Activation) throws -> any Layer {
            let tops = position == .tail ? [top] : [top, top + "_mask", top + "_dRelu", top + "_db"]
            return try TS.make(DenseLayer(.fusedInnerProduct, bottomNames: bottoms.map(\.name), topNames: tops, numOutput: width,
                                          posType: position, actType: act), bottoms)
        }
        let head = try fused([x], "fc1", 7, .head, .relu)
        #expect(head.outputs.map(\.name) == ["fc1", "fc1_mask", "fc1_dRelu", "fc1_db"])
        let body = try fused(head.outputs, "fc2", 4, .body, .relu)
        let tail = try fused(body.outputs, "fc3", 3, .tail, .none)
        let chain = [head, body, tail]

        // The same chain unfused, from a copy of x: InnerProduct (weights copied) and ReLU layers.
        let xPlain = TS.variable("x", [5, 6], TS.floats(x.value))
        var previous = xPlain, plain: [any Layer] = [], products: [any Layer] = []
        for (k, (layer, relu)) in zip(chain, [true, true, false]).enumerated() {
            let ip = try TS.make(DenseLayer(.innerProduct, bottomNames: [previous.name], topNames: ["ip\(k)"],
                                            numOutput: layer.outputs[0].shape.last), [previous])
            for (p, q) in zip(ip.parameters, layer.parameters) { cpu.upload(TS.floats(q.value), to: p.value) }
            plain.append(ip)
            products.append(ip)
            if relu { plain.append(try TS.make(DenseLayer(.relu, bottomNames: ["ip\(k)"], topNames: ["relu\(k)"]), ip.outputs)) }
            previous = plain.last!.outputs[0]
        }
        let ctx = StepContext(batch: 4, training: true)
        for layer in chain { layer.forward(ctx) }
        for layer in plain { layer.forward(ctx) }
        TS.expectClose(TS.floats(tail.outputs[0].value, 12), TS.floats(previous.value, 12), rtol: 1e-6, atol: 1e-6,
                       "chain output")
        for layer in [head, body] {
            for top in layer.outputs.dropFirst() { TS.expectAll(TS.floats(top.value), equal: 0, "wiring top \(top.name)") }
        }
        let dy = TS.normals(15, seed: 419)
        cpu.upload(dy, to: tail.outputs[0].grad)
        cpu.upload(dy, to: previous.grad)
        for layer in chain + plain { TS.zeroParameterGrads(layer); TS.poisonInputGrads(layer) }
        for layer in chain.reversed() { layer.backward(ctx) }
        for layer in plain.reversed() { layer.backward(ctx) }
        TS.expectClose(TS.floats(x.grad, 24), TS.floats(xPlain.grad, 24), rtol: 1e-5, atol: 1e-6, "dX")
        for (fusedLayer, ip) in zip(chain, products) {
            for (p, q) in zip(fusedLayer.parameters, ip.parameters) {
                TS.expectClose(TS.floats(p.grad), TS.floats(q.grad), rtol: 1e-5, atol: 1e-6, "d\(p.name)")
            }
        }
        for layer in [body, tail] {
            for input in layer.inputs.dropFirst() { TS.expectAll(TS.floats(input.grad), equal: 0, "gradient of \(input.name)") }
        }
    }

    @Test func fusedInnerProductDefaultsAndInitializers() throws {
        let config = DenseLayer(.fusedInnerProduct, bottomNames: ["x"], topNames: ["fc"], numOutput: 3)
        #expect(config.posType == .none && config.actType == .relu, "HugeCTR's defaults: FcPosition_t.Non, Activation_t.Relu")
        #expect(FcPosition(rawValue: "Isolated") == .isolated && Activation(rawValue: "None") == Activation.none)
        let x = Variable(name: "x", shape: [2, 5], backend: cpu)
        let fused = try TS.make(DenseLayer(.fusedInnerProduct, bottomNames: ["x"], topNames: ["fc"], numOutput: 3,
                                           weightInitType: .xavierUniform, biasInitType: .uniform), [x])
        let plain = try TS.make(DenseLayer(.innerProduct, bottomNames: ["x"], topNames: ["fc"], numOutput: 3,
                                           weightInitType: .xavierUniform, biasInitType: .uniform), [x])
        #expect(fused.parameters.map(\.name) == ["fc.weight", "fc.bias"])
        for (p, q) in zip(fused.parameters, plain.parameters) {
            #expect(TS.floats(p.value) == TS.floats(q.value), "\(p.name) starts as InnerProduct's")
        }
    }

    // MARK: in a model

    /// MultiCross v2, a FusedInnerProduct chain and an MLP in one model: it compiles, the summary
    /// lists them, and training learns the planted signal.
    @Test func modelWithTheNewLayersLearns() throws {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("swiftctr-layerbookd-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let config = SyntheticConfig(numTrain: 20_000, numEval: 5_000, slotSizes: [50, 40, 60, 45, 55, 30], denseDim: 13,
                                     seed: 7, trainFiles: 1, evalFiles: 1, i64Keys: false, check: .sum, interactionStd: 0.4,
                                     interactionPairs: 6, minExpectedCount: 20)
        let dataset = try SyntheticGenerator.generate(config, into: folder)
        var solver = Solver(seed: 11, maxEvalBatches: 5, batchsizeEval: 1_000, batchsize: 256)
        solver.lr = 0.003
        let reader = DataReaderParams(dataReaderType: .norm, source: [dataset.trainList], evalSource: dataset.evalList,
                                      checkType: .sum)
        let model = try Model(solver, reader, CreateOptimizer(optimizerType: .adam, beta1: 0.9, beta2: 0.999, epsilon: 1e-7))
        model.printsProgress = false
        let sparse = DataReaderSparseParam("data1", 1, true, 6)
        model.add(Input(labelDim: 1, labelName: "label", denseDim: 13, denseName: "dense", dataReaderSparseParamArray: [sparse]))
        model.add(SparseEmbedding(embeddingType: .distributedSlotSparseEmbeddingHash, workspaceSizePerGPUInMB: 1,
                                  embeddingVecSize: 8, combiner: "sum", sparseEmbeddingName: "emb", bottomName: "data1"))
        let wiring = ["_mask", "_dRelu", "_db"]
        for layer in [
            DenseLayer(.reshape, bottomNames: ["emb"], topNames: ["flat"], leadingDim: 48),
            DenseLayer(.concat, bottomNames: ["flat", "dense"], topNames: ["x0"]),
            DenseLayer(.multiCross, bottomNames: ["x0"], topNames: ["cross"], numLayers: 2, projectionDim: 8),
            DenseLayer(.fusedInnerProduct, bottomNames: ["x0"], topNames: ["fc1"] + wiring.map { "fc1" + $0 }, numOutput: 32,
                       posType: .head),
            DenseLayer(.fusedInnerProduct, bottomNames: ["fc1"] + wiring.map { "fc1" + $0 }, topNames: ["fc2"], numOutput: 16,
                       posType: .tail),
            DenseLayer(.concat, bottomNames: ["fc2", "cross"], topNames: ["both"]),
            DenseLayer(.mlp, bottomNames: ["both"], topNames: ["logit"], numOutputs: [16, 1], activations: [.relu, .none]),
            DenseLayer(.binaryCrossEntropyLoss, bottomNames: ["logit", "label"], topNames: ["loss"]),
        ] { model.add(layer) }
        try model.compile()
        let summary = model.summary()
        for line in ["cross", "fc1", "fc2", "logit"] {
            #expect(summary.split(separator: "\n").contains { $0.hasPrefix(line + " ") }, "summary lists \(line)")
        }
        #expect(summary.contains("FusedInnerProduct") && summary.contains("MLP"))
        let before = try model.evaluate()
        let records = try model.fit(maxIter: 300, display: 100, evalInterval: 300)
        let after = try #require(records.last { $0.evalAUC != nil }?.evalAUC)
        print("modelWithTheNewLayersLearns: AUC \(before.auc) → \(after), oracle \(dataset.oracleAUC)")
        #expect(after > before.auc + 0.15, "AUC should clearly improve over the untrained model")
        #expect(after > dataset.denseOnlyAUC + 0.05, "the model should use the sparse features")
        // Measured: about 0.51 → 0.83 against an oracle of about 0.84.
        #expect(after > dataset.oracleAUC - 0.05, "AUC \(after) should come within 0.05 of the oracle's \(dataset.oracleAUC)")
    }
}
