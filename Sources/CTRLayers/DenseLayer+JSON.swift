import CTRCore

/// HugeCTR's graph-JSON entry of a dense layer (spec §2.4), both directions.
///
/// The writer produces what `Model.graph_to_json` writes, with repairs where HugeCTR's own files do
/// not read back: `PReLU_Dice` writes `alpha` (HugeCTR's reader wants `elu_alpha`; both are read
/// here), `MultiCross` writes `mc_param.projection_dim` when it is > 0 (HugeCTR reads it but does
/// not write it, losing DCN v2), Reshape's `shape` mode writes `shape` and Select writes `dim` and
/// `index` (HugeCTR writes neither).
///
/// ```swift
/// let fc = DenseLayer(.innerProduct, bottomNames: ["concat1"], topNames: ["fc1"], numOutput: 1024)
/// let entry = fc.hugeCTRJSON()  // ["type": "InnerProduct", "bottom": "concat1", "top": "fc1", "fc_param": [...]]
/// let back = try DenseLayer(hugeCTRJSON: entry, index: 3)
/// ```
extension DenseLayer {
    /// The layer's entry in HugeCTR's graph JSON.
    public func hugeCTRJSON() -> [String: JSONValue] {
        var entry: [String: JSONValue] = [
            "type": .string(layerType.rawValue),
            "bottom": Self.names(bottomNames), "top": Self.names(topNames),
        ]
        switch layerType {
        case .batchNorm:
            entry["bn_param"] = .object(initKeys(["factor": .float(factor), "eps": .float(eps)],
                                                 ("gamma_init", gammaInitType), ("beta_init", betaInitType)))
        case .layerNorm:
            entry["ln_param"] = .object(initKeys(["eps": .float(eps)], ("gamma_init", gammaInitType), ("beta_init", betaInitType)))
        case .dropout:
            entry["rate"] = .float(dropoutRate)
        case .elu:
            entry["elu_param"] = ["alpha": .float(eluAlpha)]
        case .sequenceMask:
            entry["max_sequence_len_from"] = .int(maxSequenceLenFrom)
            entry["max_sequence_len_to"] = .int(maxSequenceLenTo)
        case .multiHeadAttention:
            entry["num_attention_heads"] = .int(numAttentionHeads)
            entry["transpose_b"] = .bool(transposeB)
        case .innerProduct, .fusedInnerProduct:
            entry["fc_param"] = .object(fcKeys(["num_output": .int(numOutput)]))
            guard layerType == .fusedInnerProduct else { break }
            entry["position"] = .string(posType.rawValue)
            entry["activation"] = .string(actType.rawValue)
        case .mlp:
            var mlp: [String: JSONValue] = ["num_output": .int(numOutput), "num_outputs": .array(numOutputs.map { .int($0) })]
            if biases.isEmpty { mlp["use_bias"] = .bool(useBias) } else { mlp["biases"] = .array(biases.map { .bool($0) }) }
            if activations.isEmpty {
                mlp["activation"] = .string(actType.rawValue)
            } else {
                mlp["activations"] = .array(activations.map { .string($0.rawValue) })
            }
            entry["mlp_param"] = .object(fcKeys(mlp))
        case .multiCross:
            var mc: [String: JSONValue] = ["num_layers": .int(numLayers)]
            if projectionDim > 0 { mc["projection_dim"] = .int(projectionDim) }
            entry["mc_param"] = .object(fcKeys(mc))
        case .reshape:
            if selected {
                entry["selected"] = .array(selectedSlots.map { .int($0) })
            } else if !shape.isEmpty {
                entry["shape"] = .array(shape.map { .int($0) })
            } else {
                entry["leading_dim"] = .int(leadingDim)
                entry["time_step"] = .int(timeStep)
            }
        case .concat, .reduceSum, .reduceMean:
            entry["axis"] = .int(axis)
        case .slice:
            entry["ranges"] = .array(ranges.map { .array($0.map { .int($0) }) })
        case .weightMultiply:
            entry = initKeys(entry, ("weight_init", weightInitType))
            entry["weight_dims"] = .array(weightDims.map { .int($0) })
        case .fmOrder2:
            entry["out_dim"] = .int(outDim)
        case .gather:
            entry["indices"] = .array(indices.map { .int($0) })
        case .gru:
            entry["gru_param"] = .object(fcKeys(["num_output": .int(numOutput), "batchsize": .int(batchsize),
                                                 "SeqLength": .int(seqLength), "vector_size": .int(vectorSize)]))
        case .preluDice:
            entry["prelu_dice_param"] = ["alpha": .float(eluAlpha), "eps": .float(eps)]
        case .scale:
            entry["scale_param"] = ["axis": .int(axis), "factor": .float(factor)]
        case .softmax:
            entry["factor"] = .float(factor)
        case .multiCrossEntropyLoss, .binaryCrossEntropyLoss, .crossEntropyLoss:
            if layerType == .multiCrossEntropyLoss, !targetWeightVec.isEmpty {
                entry["target_weight"] = .array(targetWeightVec.map { .float($0) })
            }
            if useRegularizer {
                entry["regularizer"] = .string(regularizerType.rawValue)
                entry["lambda"] = .float(lambda)
            }
        case .select:
            entry["dim"] = .int(dim)
            entry["index"] = .array(index.map { .int($0) })
        case .add, .sub, .relu, .reluHalf, .sigmoid, .interaction, .elementwiseMultiply, .matrixMultiply,
             .fusedReshapeConcat, .fusedReshapeConcatGeneral, .cast:
            break
        }
        return entry
    }

    /// Reads HugeCTR's entry of the dense layer at `index` of the graph's `layers` array; unknown keys
    /// are ignored (HugeCTR does the same); `DenseLayer.decodeHugeCTRJSON` also returns them.
    public init(hugeCTRJSON entry: [String: JSONValue], index: Int) throws {
        self = try Self.decodeHugeCTRJSON(entry, index: index).layer
    }

    /// Reads HugeCTR's entry of a dense layer and lists the keys it did not use (dotted for nested
    /// ones: `fc_param.foo`), so that a caller can warn. Legacy files carry `name` and
    /// `max_feature_num_per_sample`, which HugeCTR ignores silently.
    ///
    /// ```swift
    /// let (layer, unknown) = try DenseLayer.decodeHugeCTRJSON(["type": "ReLU", "bottom": "fc1", "top": "relu1",
    ///                                                          "name": "relu1"], index: 4)
    /// // unknown == ["name"]
    /// ```
    public static func decodeHugeCTRJSON(_ entry: [String: JSONValue], index: Int) throws
        -> (layer: DenseLayer, unknownKeys: [String]) {
        let name = Self.layerName(entry)
        let top = JSONEntryReader(entry, path: "", where: "dense layer \(index) '\(name)'")
        let typeName = try top.required("type", "a layer type string", \.stringValue)
        guard let type = LayerType(hugeCTRName: typeName) else {
            let valid = (LayerType.allCases.map(\.rawValue) + LayerType.bookSpellings.keys).sorted()
            throw SwiftCTRError(.config, "\(top.place): key 'type': expected one of \(valid.joined(separator: ", ")), "
                                + "found \"\(typeName)\". Use one of these type strings.")
        }
        let reader = JSONEntryReader(entry, path: "", where: "dense layer \(index) '\(name)' (\(type.rawValue))")
        reader.use("type")
        var layer = DenseLayer(type, bottomNames: try reader.required("bottom", "a tensor name or an array of names", \.namesValue),
                               topNames: try reader.required("top", "a tensor name or an array of names", \.namesValue))
        try layer.readParameters(reader)
        return (layer, reader.unknownKeys())
    }

    /// Reads the per-type keys of §2.4 into `self` (defaults stay where a key is optional and absent).
    private mutating func readParameters(_ reader: JSONEntryReader) throws {
        switch layerType {
        case .batchNorm:
            let bn = try reader.object("bn_param")
            factor = try bn.required("factor", "a number", \.floatValue)
            eps = try bn.required("eps", "a number", \.floatValue)
            try readNormInits(bn)
        case .layerNorm:
            let ln = try reader.object("ln_param")
            eps = try ln.required("eps", "a number", \.floatValue)
            try readNormInits(ln)
        case .dropout:
            dropoutRate = try reader.optional("rate", "a number", \.floatValue) ?? dropoutRate
        case .elu:
            eluAlpha = try reader.object("elu_param").required("alpha", "a number", \.floatValue)
        case .sequenceMask:
            maxSequenceLenFrom = try reader.required("max_sequence_len_from", "an integer", \.intValue)
            maxSequenceLenTo = try reader.required("max_sequence_len_to", "an integer", \.intValue)
        case .multiHeadAttention:
            numAttentionHeads = try reader.optional("num_attention_heads", "an integer", \.intValue) ?? numAttentionHeads
            transposeB = try reader.optional("transpose_b", "true or false", \.boolValue) ?? transposeB
        case .innerProduct, .fusedInnerProduct:
            let fc = try reader.object("fc_param")
            numOutput = try fc.required("num_output", "an integer", \.intValue)
            try readFCInits(fc)
            guard layerType == .fusedInnerProduct else { break }
            posType = try reader.optional("position", "one of \"Head\", \"Body\", \"Tail\", \"Isolated\", \"None\"",
                                          { $0.stringValue.flatMap(FcPosition.init(rawValue:)) }) ?? posType
            actType = try reader.optional("activation", Self.activationNames, \.activationValue) ?? actType
        case .mlp:
            let mlp = try reader.object("mlp_param")
            numOutput = try mlp.required("num_output", "an integer", \.intValue)
            numOutputs = try mlp.required("num_outputs", "an array of integers", { $0.arrayValue(\.intValue) })
            useBias = try mlp.optional("use_bias", "true or false", \.boolValue) ?? useBias
            biases = try mlp.optional("biases", "an array of booleans", { $0.arrayValue(\.boolValue) }) ?? biases
            actType = try mlp.optional("activation", Self.activationNames, \.activationValue) ?? actType
            activations = try mlp.optional("activations", "an array of \(Self.activationNames)",
                                           { $0.arrayValue(\.activationValue) }) ?? activations
            try readFCInits(mlp)
        case .multiCross:
            let mc = try reader.object("mc_param")
            numLayers = try mc.required("num_layers", "an integer", \.intValue)
            projectionDim = try mc.optional("projection_dim", "an integer", \.intValue) ?? projectionDim
            try readFCInits(mc)
        case .reshape:
            if let slots = try reader.optional("selected", "an array of slot ids", { $0.arrayValue(\.intValue) }) {
                selected = true
                selectedSlots = slots
            } else if let dims = try reader.optional("shape", "an array of integers such as [-1, 26, 16]", { $0.arrayValue(\.intValue) }) {
                shape = dims
            } else {
                leadingDim = try reader.required("leading_dim", "an integer (or a \"selected\" array of slot ids)", \.intValue)
                timeStep = try reader.optional("time_step", "an integer", \.intValue) ?? timeStep
            }
        case .concat:
            axis = try reader.optional("axis", "an integer", \.intValue) ?? axis
        case .reduceSum, .reduceMean:
            axis = try reader.required("axis", "an integer", \.intValue)
        case .slice:
            ranges = try reader.required("ranges", "an array of [start, end] pairs",
                                         { $0.arrayValue { $0.arrayValue(\.intValue).flatMap { $0.count == 2 ? $0 : nil } } })
        case .weightMultiply:
            weightDims = try reader.required("weight_dims", "an array of integers", { $0.arrayValue(\.intValue) })
            weightInitType = try reader.optional("weight_init", Self.initializerNames, \.initializerValue) ?? weightInitType
        case .fmOrder2:
            outDim = try reader.required("out_dim", "an integer", \.intValue)
        case .gather:
            indices = try reader.required("indices", "an array of integers", { $0.arrayValue(\.intValue) })
        case .gru:
            let gru = try reader.object("gru_param")
            numOutput = try gru.required("num_output", "an integer", \.intValue)
            batchsize = try gru.required("batchsize", "an integer", \.intValue)
            seqLength = try gru.required("SeqLength", "an integer", \.intValue)
            vectorSize = try gru.required("vector_size", "an integer", \.intValue)
            try readFCInits(gru)
        case .preluDice:
            let prelu = try reader.object("prelu_dice_param")
            if let alpha = try prelu.optional("alpha", "a number", \.floatValue) {
                eluAlpha = alpha
            } else {
                eluAlpha = try prelu.required("elu_alpha", "a number (or \"alpha\")", \.floatValue)
            }
            eps = try prelu.required("eps", "a number", \.floatValue)
        case .scale:
            let scale = try reader.object("scale_param")
            axis = try scale.required("axis", "an integer", \.intValue)
            factor = try scale.required("factor", "a number", \.floatValue)
        case .softmax:
            factor = try reader.optional("factor", "a number", \.floatValue) ?? factor
        case .multiCrossEntropyLoss, .binaryCrossEntropyLoss, .crossEntropyLoss:
            if layerType == .multiCrossEntropyLoss {
                targetWeightVec = try reader.optional("target_weight", "an array of numbers",
                                                      { $0.arrayValue(\.floatValue) }) ?? targetWeightVec
            }
            if let type = try reader.optional("regularizer", "\"L1\" or \"L2\"", { $0.stringValue.flatMap(Regularizer.init(rawValue:)) }) {
                useRegularizer = true
                regularizerType = type
                lambda = try reader.optional("lambda", "a number", \.floatValue) ?? lambda
            }
        case .select:
            dim = try reader.optional("dim", "an integer", \.intValue) ?? dim
            index = try reader.optional("index", "an array of integers", { $0.arrayValue(\.intValue) }) ?? index
        case .add, .sub, .relu, .reluHalf, .sigmoid, .interaction, .elementwiseMultiply, .matrixMultiply,
             .fusedReshapeConcat, .fusedReshapeConcatGeneral, .cast:
            break
        }
    }

    private mutating func readFCInits(_ object: JSONEntryReader) throws {
        weightInitType = try object.optional("weight_init", Self.initializerNames, \.initializerValue) ?? weightInitType
        biasInitType = try object.optional("bias_init", Self.initializerNames, \.initializerValue) ?? biasInitType
    }

    private mutating func readNormInits(_ object: JSONEntryReader) throws {
        gammaInitType = try object.optional("gamma_init", Self.initializerNames, \.initializerValue) ?? gammaInitType
        betaInitType = try object.optional("beta_init", Self.initializerNames, \.initializerValue) ?? betaInitType
    }

    /// `members` plus each initializer key whose value is not `Default` (HugeCTR omits those).
    private func initKeys(_ members: [String: JSONValue], _ inits: (String, Initializer)...) -> [String: JSONValue] {
        var out = members
        for (key, value) in inits where value != .default { out[key] = .string(value.rawValue) }
        return out
    }

    private func fcKeys(_ members: [String: JSONValue]) -> [String: JSONValue] {
        initKeys(members, ("weight_init", weightInitType), ("bias_init", biasInitType))
    }

    private static func names(_ list: [String]) -> JSONValue {
        list.count == 1 ? .string(list[0]) : .array(list.map { .string($0) })
    }

    private static func layerName(_ entry: [String: JSONValue]) -> String {
        switch entry["top"] {
        case .string(let name)?: return name
        case .array(let items)?: if case .string(let name)? = items.first { return name }
        default: break
        }
        return "?"
    }

    static let initializerNames = "one of \"Default\", \"Uniform\", \"XavierNorm\", \"XavierUniform\", \"Zero\""
    static let activationNames = "\"Relu\" or \"None\""
}

/// One JSON object of a layer entry being read: typed look-ups that throw `.config` errors naming
/// the layer, the key, what was expected and what was found, and a record of the keys used.
package final class JSONEntryReader {
    package let members: [String: JSONValue]
    package let path: String
    package let place: String
    private var used: Set<String> = []
    private var children: [JSONEntryReader] = []

    package init(_ members: [String: JSONValue], path: String, where place: String) {
        self.members = members
        self.path = path
        self.place = place
    }

    package func use(_ key: String) { used.insert(key) }

    /// The value at `key` converted by `convert`; nil when absent; a `.config` error when mistyped.
    package func optional<T>(_ key: String, _ expected: String, _ convert: (JSONValue) -> T?) throws -> T? {
        guard let value = members[key] else { return nil }
        used.insert(key)
        guard let converted = convert(value) else {
            throw SwiftCTRError(.config, "\(place): key '\(path)\(key)': expected \(expected), found \(value.summary). "
                                + "Write \(expected) there.")
        }
        return converted
    }

    package func required<T>(_ key: String, _ expected: String, _ convert: (JSONValue) -> T?) throws -> T {
        guard let value = try optional(key, expected, convert) else {
            throw SwiftCTRError(.config, "\(place): key '\(path)\(key)' is required: expected \(expected), "
                                + "found nothing (the key is missing). Add \"\(key)\" to \(path.isEmpty ? "the entry" : "'\(path.dropLast())'").")
        }
        return value
    }

    /// The nested object at `key` (required).
    package func object(_ key: String) throws -> JSONEntryReader {
        child(try required(key, "an object", \.objectValue), path: path + key + ".")
    }

    /// The nested object at `key`; nil when absent.
    package func optionalObject(_ key: String) throws -> JSONEntryReader? {
        guard let nested = try optional(key, "an object", \.objectValue) else { return nil }
        return child(nested, path: path + key + ".")
    }

    /// The objects of the array at `key` (required), each read with its index in the path: `sparse[1].top`.
    package func objects(_ key: String, _ expected: String) throws -> [JSONEntryReader] {
        try required(key, expected, { $0.arrayValue(\.objectValue) }).enumerated().map { i, nested in
            child(nested, path: path + key + "[\(i)].")
        }
    }

    private func child(_ members: [String: JSONValue], path: String) -> JSONEntryReader {
        let child = JSONEntryReader(members, path: path, where: place)
        children.append(child)
        return child
    }

    /// The keys of this object and of its nested objects that no look-up used, sorted.
    package func unknownKeys() -> [String] {
        (members.keys.filter { !used.contains($0) }.map { path + $0 } + children.flatMap { $0.unknownKeys() }).sorted()
    }
}

extension JSONValue {
    package var stringValue: String? { if case .string(let value) = self { value } else { nil } }
    package var boolValue: Bool? { if case .bool(let value) = self { value } else { nil } }
    package var objectValue: [String: JSONValue]? { if case .object(let value) = self { value } else { nil } }

    /// An integer, or a float with an integral value (`2.0`).
    package var intValue: Int? {
        switch self {
        case .int(let value): return value
        case .double(let value) where value.rounded() == value && abs(value) < 9.0e15: return Int(value)
        default: return nil
        }
    }

    package var floatValue: Float? {
        switch self {
        case .int(let value): return Float(value)
        case .double(let value): return Float(value)
        default: return nil
        }
    }

    package var initializerValue: Initializer? { stringValue.flatMap(Initializer.init(rawValue:)) }
    package var activationValue: Activation? { stringValue.flatMap(Activation.init(rawValue:)) }

    /// A tensor name or an array of names (`bottom`, `top`).
    package var namesValue: [String]? {
        if let name = stringValue { return [name] }
        return arrayValue(\.stringValue)
    }

    /// Every element converted, or nil when this is not an array or one element does not convert.
    package func arrayValue<T>(_ convert: (JSONValue) -> T?) -> [T]? {
        guard case .array(let items) = self else { return nil }
        var out: [T] = []
        for item in items {
            guard let converted = convert(item) else { return nil }
            out.append(converted)
        }
        return out
    }
}
