import CTRCore
import CTRLayers
import Testing

// HugeCTR's graph-JSON entry of a dense layer (spec §2.4): writer → reader round trips for every
// registered type, the spellings HugeCTR's own files use, the defaults of optional keys, the
// errors, and the unknown keys a caller can warn about.

/// A layer of `type` with non-default values for every key §2.4 serializes for it (Reshape's
/// `shape` mode and Select's `dim`/`index`, which SwiftCTR adds, are in `reshapeModes`).
func jsonSampleLayer(_ type: LayerType) -> DenseLayer {
    let one = { (bottom: String) in DenseLayer(type, bottomNames: [bottom], topNames: ["out"]) }
    var layer = DenseLayer(type, bottomNames: ["a", "b"], topNames: ["out"])
    switch type {
    case .batchNorm:
        layer = one("in")
        (layer.factor, layer.eps, layer.gammaInitType, layer.betaInitType) = (0.9, 1e-3, .zero, .uniform)
    case .layerNorm:
        layer = one("in")
        (layer.eps, layer.gammaInitType, layer.betaInitType) = (1e-4, .xavierNorm, .zero)
    case .dropout: layer = one("in"); layer.dropoutRate = 0.3
    case .elu: layer = one("in"); layer.eluAlpha = 0.2
    case .sequenceMask: (layer.maxSequenceLenFrom, layer.maxSequenceLenTo) = (7, 9)
    case .multiHeadAttention: (layer.numAttentionHeads, layer.transposeB) = (4, true)
    case .innerProduct:
        layer = one("in")
        (layer.numOutput, layer.weightInitType, layer.biasInitType) = (64, .xavierUniform, .zero)
    case .fusedInnerProduct:
        layer = DenseLayer(type, bottomNames: ["in"], topNames: ["fc", "fc_mask", "fc_dRelu", "fc_db"])
        (layer.numOutput, layer.posType, layer.actType, layer.weightInitType) = (32, .head, .none, .uniform)
    case .mlp:
        layer = one("in")
        (layer.numOutput, layer.numOutputs, layer.activations, layer.biases) = (1, [256, 1], [.relu, .none], [true, false])
        (layer.weightInitType, layer.biasInitType) = (.xavierNorm, .uniform)
    case .multiCross:
        layer = one("in")
        (layer.numLayers, layer.projectionDim, layer.weightInitType, layer.biasInitType) = (3, 16, .uniform, .zero)
    case .reshape: layer = one("in"); (layer.leadingDim, layer.timeStep) = (416, 26)
    case .concat: layer.axis = 2
    case .slice:
        layer = DenseLayer(type, bottomNames: ["in"], topNames: ["s0", "s1"])
        layer.ranges = [[0, 10], [5, 20]]
    case .weightMultiply: layer = one("in"); (layer.weightDims, layer.weightInitType) = ([26, 16], .xavierNorm)
    case .fmOrder2: layer = one("in"); layer.outDim = 16
    case .reduceSum, .reduceMean: layer = one("in"); layer.axis = 2
    case .gather: layer = one("in"); layer.indices = [0, 3, 5]
    case .gru:
        layer = one("in")
        (layer.numOutput, layer.batchsize, layer.seqLength, layer.vectorSize) = (8, 16, 10, 4)
        (layer.weightInitType, layer.biasInitType) = (.xavierUniform, .xavierNorm)
    case .preluDice: (layer.eluAlpha, layer.eps) = (0.25, 1e-6)
    case .scale: layer = one("in"); (layer.axis, layer.factor) = (0, 3)
    case .softmax: layer = one("in"); layer.factor = 2
    case .multiCrossEntropyLoss:
        layer = DenseLayer(type, bottomNames: ["logits", "label"], topNames: ["loss"])
        (layer.targetWeightVec, layer.useRegularizer, layer.regularizerType, layer.lambda) = ([0.3, 0.7], true, .l2, 0.01)
    case .binaryCrossEntropyLoss, .crossEntropyLoss:
        layer = DenseLayer(type, bottomNames: ["logits", "label"], topNames: ["loss"])
        (layer.useRegularizer, layer.regularizerType, layer.lambda) = (true, .l2, 1e-3)
    case .relu, .reluHalf, .sigmoid, .cast, .select: layer = one("in")
    case .add, .sub, .interaction, .elementwiseMultiply, .matrixMultiply, .fusedReshapeConcat, .fusedReshapeConcatGeneral:
        break
    }
    return layer
}

private func decode(_ entry: [String: JSONValue], index: Int = 0) throws -> DenseLayer {
    try DenseLayer(hugeCTRJSON: entry, index: index)
}

/// The message of the `.config` error that decoding `entry` throws ("" when it does not throw).
private func errorMessage(_ entry: [String: JSONValue], index: Int = 5) -> String {
    do {
        _ = try decode(entry, index: index)
        return ""
    } catch let error as SwiftCTRError {
        #expect(error.kind == .config)
        return error.message
    } catch {
        return "\(error)"
    }
}

@Suite("HugeCTR JSON of dense layers")
struct DenseLayerJSONTests {
    @Test("every registered type round-trips writer → reader", arguments: LayerRegistry.available)
    func roundTrip(type: LayerType) throws {
        let layer = jsonSampleLayer(type)
        let entry = layer.hugeCTRJSON()
        #expect(entry["type"] == .string(type.rawValue))
        let (back, unknown) = try DenseLayer.decodeHugeCTRJSON(entry, index: 1)
        #expect(back == layer)
        #expect(unknown.isEmpty)
    }

    @Test("MLP without per-layer arrays writes use_bias and activation")
    func mlpScalars() throws {
        var mlp = DenseLayer(.mlp, bottomNames: ["in"], topNames: ["mlp"], numOutput: 1, numOutputs: [64, 1])
        (mlp.useBias, mlp.actType) = (false, .none)
        let entry = mlp.hugeCTRJSON()
        #expect(entry["mlp_param"] == ["num_output": 1, "num_outputs": [64, 1], "use_bias": false, "activation": "None"])
        #expect(try decode(entry) == mlp)
    }

    @Test("Reshape's selected and shape modes and Select's dim/index round-trip (HugeCTR writes neither shape nor dim/index)")
    func reshapeModes() throws {
        let selected = DenseLayer(.reshape, bottomNames: ["emb"], topNames: ["r"], selected: true, selectedSlots: [0, 3])
        #expect(selected.hugeCTRJSON()["selected"] == [0, 3])
        #expect(selected.hugeCTRJSON()["leading_dim"] == nil)
        #expect(try decode(selected.hugeCTRJSON()) == selected)

        let shaped = DenseLayer(.reshape, bottomNames: ["emb"], topNames: ["r"], shape: [-1, 26, 16])
        #expect(shaped.hugeCTRJSON() == ["type": "Reshape", "bottom": "emb", "top": "r", "shape": [-1, 26, 16]])
        #expect(try decode(shaped.hugeCTRJSON()) == shaped)
        let select = DenseLayer(.select, bottomNames: ["x"], topNames: ["y"], dim: 1, index: [0, 2])
        #expect(select.hugeCTRJSON() == ["type": "Select", "bottom": "x", "top": "y", "dim": 1, "index": [0, 2]])
        #expect(try decode(select.hugeCTRJSON()) == select)
        #expect(try decode(["type": "Select", "bottom": "x", "top": "y"]) == DenseLayer(.select, bottomNames: ["x"], topNames: ["y"]))
    }

    @Test("initializers are written only when not Default")
    func defaultInitializersOmitted() {
        let fc = DenseLayer(.innerProduct, bottomNames: ["in"], topNames: ["fc"], numOutput: 8)
        #expect(fc.hugeCTRJSON()["fc_param"] == ["num_output": 8])
        let bn = DenseLayer(.batchNorm, bottomNames: ["in"], topNames: ["bn"], betaInitType: .zero)
        #expect(bn.hugeCTRJSON()["bn_param"] == ["factor": .float(1), "eps": .float(1e-5), "beta_init": "Zero"])
        let wm = DenseLayer(.weightMultiply, bottomNames: ["in"], topNames: ["w"], weightDims: [2, 3])
        #expect(wm.hugeCTRJSON()["weight_init"] == nil)
    }

    @Test("PReLU_Dice writes alpha and reads alpha or HugeCTR's elu_alpha")
    func preluSpellings() throws {
        let layer = DenseLayer(.preluDice, bottomNames: ["in"], topNames: ["p"], eps: 1e-6, eluAlpha: 0.25)
        #expect(layer.hugeCTRJSON()["prelu_dice_param"] == ["alpha": .float(0.25), "eps": .float(1e-6)])
        for key in ["alpha", "elu_alpha"] {
            let entry: [String: JSONValue] = ["type": "PReLU_Dice", "bottom": "in", "top": "p",
                                              "prelu_dice_param": [key: 0.25, "eps": 1e-6]]
            #expect(try decode(entry) == layer)
        }
    }

    @Test("the layer book's MatrixMutiply spelling decodes to MatrixMultiply")
    func matrixMutiply() throws {
        let layer = try decode(["type": "MatrixMutiply", "bottom": ["a", "b"], "top": "ab"])
        #expect(layer == DenseLayer(.matrixMultiply, bottomNames: ["a", "b"], topNames: ["ab"]))
        #expect(layer.hugeCTRJSON()["type"] == "MatrixMultiply")
    }

    @Test("bottom and top are a string for one name and an array otherwise; the reader takes both")
    func namesStringOrArray() throws {
        let relu = DenseLayer(.relu, bottomNames: ["fc1"], topNames: ["relu1"])
        #expect(relu.hugeCTRJSON()["bottom"] == "fc1")
        #expect(relu.hugeCTRJSON()["top"] == "relu1")
        #expect(try decode(["type": "ReLU", "bottom": ["fc1"], "top": ["relu1"]]) == relu)
        let add = DenseLayer(.add, bottomNames: ["x", "y"], topNames: ["sum"])
        #expect(add.hugeCTRJSON()["bottom"] == ["x", "y"])
        #expect(try decode(["type": "Add", "bottom": ["x", "y"], "top": "sum"]) == add)
    }

    @Test("unknown keys are returned, nested ones dotted")
    func unknownKeys() throws {
        let entry: [String: JSONValue] = ["type": "InnerProduct", "bottom": "in", "top": "fc1", "name": "fc1",
                                          "max_feature_num_per_sample": 30, "fc_param": ["num_output": 4, "foo": 1]]
        let (layer, unknown) = try DenseLayer.decodeHugeCTRJSON(entry, index: 2)
        #expect(layer.numOutput == 4)
        #expect(unknown == ["fc_param.foo", "max_feature_num_per_sample", "name"])
    }

    @Test("a missing required key names the layer, the key, what was expected and what was found")
    func missingKey() {
        let message = errorMessage(["type": "InnerProduct", "bottom": "in", "top": "fc1", "fc_param": ["weight_init": "Zero"]])
        for part in ["dense layer 5 'fc1' (InnerProduct)", "'fc_param.num_output' is required", "expected an integer",
                     "found nothing", "Add \"num_output\" to 'fc_param'"] {
            #expect(message.contains(part), "\(part) not in: \(message)")
        }
        let noParam = errorMessage(["type": "BatchNorm", "bottom": "in", "top": "bn1"])
        #expect(noParam.contains("'bn_param' is required: expected an object, found nothing"), "\(noParam)")
        let noTop = errorMessage(["type": "ReLU", "bottom": "in"], index: 7)
        #expect(noTop.contains("dense layer 7 '?'") && noTop.contains("'top' is required"), "\(noTop)")
        let reduce = errorMessage(["type": "ReduceMean", "bottom": "in", "top": "m"])
        #expect(reduce.contains("'axis' is required: expected an integer"), "\(reduce)")
        let mlp = errorMessage(["type": "MLP", "bottom": "in", "top": "m", "mlp_param": ["num_outputs": [4]]])
        #expect(mlp.contains("'mlp_param.num_output' is required"), "\(mlp)")
    }

    @Test("a mistyped value names the key, what was expected and what was found")
    func mistypedValue() {
        let string = errorMessage(["type": "InnerProduct", "bottom": "in", "top": "fc1", "fc_param": ["num_output": "64"]])
        for part in ["dense layer 5 'fc1' (InnerProduct)", "key 'fc_param.num_output'", "expected an integer",
                     "found the string \"64\""] {
            #expect(string.contains(part), "\(part) not in: \(string)")
        }
        let fraction = errorMessage(["type": "FmOrder2", "bottom": "in", "top": "fm", "out_dim": 2.5])
        #expect(fraction.contains("key 'out_dim': expected an integer, found the number 2.5"), "\(fraction)")
        let rate = errorMessage(["type": "Dropout", "bottom": "in", "top": "d", "rate": true])
        #expect(rate.contains("key 'rate': expected a number, found the boolean true"), "\(rate)")
        let initializer = errorMessage(["type": "InnerProduct", "bottom": "in", "top": "fc1",
                                        "fc_param": ["num_output": 4, "weight_init": "Gaussian"]])
        #expect(initializer.contains("key 'fc_param.weight_init': expected one of \"Default\", \"Uniform\""), "\(initializer)")
        #expect(initializer.contains("found the string \"Gaussian\""), "\(initializer)")
        let ranges = errorMessage(["type": "Slice", "bottom": "in", "top": ["a", "b"], "ranges": [[0, 1, 2]]])
        #expect(ranges.contains("key 'ranges': expected an array of [start, end] pairs, found an array of 1 element"), "\(ranges)")
        let bottom = errorMessage(["type": "ReLU", "bottom": 3, "top": "r"])
        #expect(bottom.contains("key 'bottom': expected a tensor name or an array of names, found the integer 3"), "\(bottom)")
    }

    @Test("an unknown type lists the valid type strings")
    func unknownType() {
        let message = errorMessage(["type": "Dense", "bottom": "in", "top": "fc1"])
        for part in ["dense layer 5 'fc1'", "key 'type'", "expected one of", "InnerProduct", "MatrixMutiply", "SequenceMask",
                     "found \"Dense\""] {
            #expect(message.contains(part), "\(part) not in: \(message)")
        }
        let notString = errorMessage(["type": 1, "bottom": "in", "top": "fc1"])
        #expect(notString.contains("key 'type': expected a layer type string, found the integer 1"), "\(notString)")
    }

    /// One hand-written entry per §2.4 row, optional keys left out where the row allows, with the
    /// layer it must decode to.
    static let handWritten: [(entry: [String: JSONValue], layer: DenseLayer)] = [
        (["type": "BatchNorm", "bottom": "i", "top": "o", "bn_param": ["factor": 1, "eps": 1e-5]],
         DenseLayer(.batchNorm, bottomNames: ["i"], topNames: ["o"])),
        (["type": "BatchNorm", "bottom": "i", "top": "o", "bn_param": ["factor": 0.9, "eps": 1e-3, "gamma_init": "Zero"]],
         DenseLayer(.batchNorm, bottomNames: ["i"], topNames: ["o"], factor: 0.9, eps: 1e-3, gammaInitType: .zero)),
        (["type": "LayerNorm", "bottom": "i", "top": "o", "ln_param": ["eps": 1e-3]],
         DenseLayer(.layerNorm, bottomNames: ["i"], topNames: ["o"], eps: 1e-3)),
        (["type": "Dropout", "bottom": "i", "top": "o"], DenseLayer(.dropout, bottomNames: ["i"], topNames: ["o"], dropoutRate: 0.5)),
        (["type": "ELU", "bottom": "i", "top": "o", "elu_param": ["alpha": 0.5]],
         DenseLayer(.elu, bottomNames: ["i"], topNames: ["o"], eluAlpha: 0.5)),
        (["type": "SequenceMask", "bottom": ["f", "t"], "top": "m", "max_sequence_len_from": 3, "max_sequence_len_to": 4],
         DenseLayer(.sequenceMask, bottomNames: ["f", "t"], topNames: ["m"], maxSequenceLenFrom: 3, maxSequenceLenTo: 4)),
        (["type": "MultiHeadAttention", "bottom": ["q", "k"], "top": "a"],
         DenseLayer(.multiHeadAttention, bottomNames: ["q", "k"], topNames: ["a"], numAttentionHeads: 1, transposeB: false)),
        (["type": "InnerProduct", "bottom": "i", "top": "o", "fc_param": ["num_output": 1024, "bias_init": "Uniform"]],
         DenseLayer(.innerProduct, bottomNames: ["i"], topNames: ["o"], numOutput: 1024, biasInitType: .uniform)),
        (["type": "FusedInnerProduct", "bottom": "i", "top": "o", "fc_param": ["num_output": 8]],
         DenseLayer(.fusedInnerProduct, bottomNames: ["i"], topNames: ["o"], numOutput: 8, posType: .none, actType: .relu)),
        (["type": "FusedInnerProduct", "bottom": "i", "top": "o", "fc_param": ["num_output": 8], "position": "Isolated",
          "activation": "None"],
         DenseLayer(.fusedInnerProduct, bottomNames: ["i"], topNames: ["o"], numOutput: 8, posType: .isolated, actType: .none)),
        (["type": "MLP", "bottom": "i", "top": "o", "mlp_param": ["num_output": 1, "num_outputs": [16, 1]]],
         DenseLayer(.mlp, bottomNames: ["i"], topNames: ["o"], numOutput: 1, actType: .relu, numOutputs: [16, 1], useBias: true)),
        (["type": "MultiCross", "bottom": "i", "top": "o", "mc_param": ["num_layers": 6]],
         DenseLayer(.multiCross, bottomNames: ["i"], topNames: ["o"], numLayers: 6, projectionDim: 0)),
        (["type": "MultiCross", "bottom": "i", "top": "o", "mc_param": ["num_layers": 2, "projection_dim": 8]],
         DenseLayer(.multiCross, bottomNames: ["i"], topNames: ["o"], numLayers: 2, projectionDim: 8)),
        (["type": "Reshape", "bottom": "i", "top": "o", "leading_dim": 416],
         DenseLayer(.reshape, bottomNames: ["i"], topNames: ["o"], leadingDim: 416, timeStep: 0)),
        (["type": "Reshape", "bottom": "i", "top": "o", "selected": [1, 2]],
         DenseLayer(.reshape, bottomNames: ["i"], topNames: ["o"], selected: true, selectedSlots: [1, 2])),
        (["type": "Concat", "bottom": ["a", "b"], "top": "o"], DenseLayer(.concat, bottomNames: ["a", "b"], topNames: ["o"], axis: 1)),
        (["type": "Slice", "bottom": "i", "top": ["a", "b"], "ranges": [[0, 4], [4, 8]]],
         DenseLayer(.slice, bottomNames: ["i"], topNames: ["a", "b"], ranges: [[0, 4], [4, 8]])),
        (["type": "WeightMultiply", "bottom": "i", "top": "o", "weight_dims": [26, 16]],
         DenseLayer(.weightMultiply, bottomNames: ["i"], topNames: ["o"], weightInitType: .default, weightDims: [26, 16])),
        (["type": "FmOrder2", "bottom": "i", "top": "o", "out_dim": 16],
         DenseLayer(.fmOrder2, bottomNames: ["i"], topNames: ["o"], outDim: 16)),
        (["type": "ReduceSum", "bottom": "i", "top": "o", "axis": 1], DenseLayer(.reduceSum, bottomNames: ["i"], topNames: ["o"], axis: 1)),
        (["type": "ReduceMean", "bottom": "i", "top": "o", "axis": 2], DenseLayer(.reduceMean, bottomNames: ["i"], topNames: ["o"], axis: 2)),
        (["type": "Gather", "bottom": "i", "top": "o", "indices": [2, 0]],
         DenseLayer(.gather, bottomNames: ["i"], topNames: ["o"], indices: [2, 0])),
        (["type": "GRU", "bottom": "i", "top": "o",
          "gru_param": ["num_output": 4, "batchsize": 8, "SeqLength": 5, "vector_size": 3, "weight_init": "XavierUniform"]],
         DenseLayer(.gru, bottomNames: ["i"], topNames: ["o"], numOutput: 4, weightInitType: .xavierUniform,
                    batchsize: 8, seqLength: 5, vectorSize: 3)),
        (["type": "PReLU_Dice", "bottom": "i", "top": "o", "prelu_dice_param": ["alpha": 0.2, "eps": 1e-8]],
         DenseLayer(.preluDice, bottomNames: ["i"], topNames: ["o"], eps: 1e-8, eluAlpha: 0.2)),
        (["type": "Scale", "bottom": "i", "top": "o", "scale_param": ["axis": 0, "factor": 4]],
         DenseLayer(.scale, bottomNames: ["i"], topNames: ["o"], factor: 4, axis: 0)),
        // HugeCTR's reader sets axis = 1.0 when factor is missing; the factor's default is meant.
        (["type": "Softmax", "bottom": "i", "top": "o"], DenseLayer(.softmax, bottomNames: ["i"], topNames: ["o"], factor: 1, axis: 1)),
        (["type": "MultiCrossEntropyLoss", "bottom": ["l", "y"], "top": "loss", "target_weight": [0.5, 0.5]],
         DenseLayer(.multiCrossEntropyLoss, bottomNames: ["l", "y"], topNames: ["loss"], targetWeightVec: [0.5, 0.5])),
        (["type": "MultiCrossEntropyLoss", "bottom": ["l", "y"], "top": "loss"],
         DenseLayer(.multiCrossEntropyLoss, bottomNames: ["l", "y"], topNames: ["loss"])),
        (["type": "BinaryCrossEntropyLoss", "bottom": ["l", "y"], "top": "loss"],
         DenseLayer(.binaryCrossEntropyLoss, bottomNames: ["l", "y"], topNames: ["loss"], useRegularizer: false)),
        (["type": "CrossEntropyLoss", "bottom": ["l", "y"], "top": "loss", "regularizer": "L2", "lambda": 0.001],
         DenseLayer(.crossEntropyLoss, bottomNames: ["l", "y"], topNames: ["loss"], useRegularizer: true, regularizerType: .l2,
                    lambda: 0.001)),
    ] + ["Add", "Sub", "ReLU", "Sigmoid", "Interaction", "ElementwiseMultiply", "MatrixMultiply", "FusedReshapeConcat",
         "FusedReshapeConcatGeneral", "Cast"].map { name in
        (["type": .string(name), "bottom": ["a", "b"], "top": "o"],
         DenseLayer(LayerType(rawValue: name)!, bottomNames: ["a", "b"], topNames: ["o"]))
    }

    @Test("hand-written entries decode to the right fields, with HugeCTR's defaults for optional keys",
          arguments: 0 ..< handWritten.count)
    func handWrittenEntry(row: Int) throws {
        let (entry, layer) = Self.handWritten[row]
        #expect(try decode(entry) == layer)
    }

    @Test("serialized text: sorted keys, 2-space indentation, floats widened as HugeCTR prints them")
    func serializedText() {
        let bn = DenseLayer(.batchNorm, bottomNames: ["in"], topNames: ["bn"], factor: 0.9)
        let expected = """
            {
              "bn_param": {
                "eps": 9.999999747378752e-06,
                "factor": 0.8999999761581421
              },
              "bottom": "in",
              "top": "bn",
              "type": "BatchNorm"
            }
            """
        #expect(JSONValue.object(bn.hugeCTRJSON()).serialized() == expected)
        let slice = DenseLayer(.slice, bottomNames: ["i"], topNames: ["a"], ranges: [[0, 2]])
        #expect(JSONValue.object(slice.hugeCTRJSON()).serialized().contains("\"ranges\": [\n    [\n      0,\n      2\n    ]\n  ]"))
    }
}
