import Foundation

/// A model definition in HugeCTR's graph JSON (spec §2): the `Data` entry (the `Input`), the
/// sparse embeddings and the dense layers, in the order `graph_to_json` writes them. It is what
/// `Model.graphToJSON` writes and `Model.constructFromJSON` reads; `LegacyConfig` adds the solver,
/// optimizer and reader of a legacy full configuration to it.
///
/// Reading checks every entry (its index and top name in each error) and that every bottom names
/// a tensor defined before it; keys SwiftCTR does not know become `warnings` (HugeCTR ignores them
/// silently). The `name` key of legacy files is known and ignored, as in HugeCTR.
///
/// ```swift
/// let graph = try GraphConfig(file: "wdl.json")
/// graph.warnings.forEach { print("warning:", $0) }
/// print(graph.hugeCTRJSON(modelOptimizer: CreateOptimizer()).serialized())
/// ```
public struct GraphConfig: Sendable, Equatable {
    public var modelName: String
    public var input: Input
    public var embeddings: [SparseEmbedding]
    public var layers: [DenseLayer]
    /// One line per key SwiftCTR does not know, naming the layer and the key, in file order.
    public var warnings: [String] = []

    public init(modelName: String = "", input: Input, embeddings: [SparseEmbedding], layers: [DenseLayer]) {
        self.modelName = modelName
        self.input = input
        self.embeddings = embeddings
        self.layers = layers
    }

    /// The JSON value `graph_to_json` writes: `{"layers": [Data, embeddings…, dense layers…], "model_name": …}`
    /// (`model_name` only when non-empty). `devices` is HugeCTR's G.
    public func hugeCTRJSON(modelOptimizer: OptimizerParams, devices: Int = 1) -> JSONValue {
        var entries: [JSONValue] = [.object(input.hugeCTRJSON())]
        entries += embeddings.map { .object($0.hugeCTRJSON(modelOptimizer: modelOptimizer, devices: devices)) }
        entries += layers.map { .object($0.hugeCTRJSON()) }
        var root: [String: JSONValue] = ["layers": .array(entries)]
        if !modelName.isEmpty { root["model_name"] = .string(modelName) }
        return .object(root)
    }

    /// Reads the graph JSON text in `file`.
    public init(file: String, modelOptimizer: OptimizerParams = OptimizerParams(), includeDenseNetwork: Bool = true) throws {
        try self.init(hugeCTRJSON: JSONValue(file: file), modelOptimizer: modelOptimizer,
                      includeDenseNetwork: includeDenseNetwork)
    }

    /// Reads a parsed graph (or legacy) JSON value. `modelOptimizer` sizes a legacy
    /// `max_vocabulary_size_per_gpu`; without `includeDenseNetwork` the dense entries are skipped
    /// (HugeCTR's fine-tuning path), unread.
    public init(hugeCTRJSON root: JSONValue, modelOptimizer: OptimizerParams = OptimizerParams(),
                includeDenseNetwork: Bool = true) throws {
        guard case .object(let members) = root else {
            throw SwiftCTRError(.config, "graph JSON: expected an object with a \"layers\" array at the top, found \(root.summary). Write {\"layers\": [...]}.")
        }
        let top = JSONEntryReader(members, path: "", where: "graph JSON")
        let name = try top.optional("model_name", "a string", \.stringValue) ?? ""
        for key in ["solver", "optimizer", "inference"] { top.use(key) }
        let entries = try top.required("layers", "an array of layer objects", { $0.arrayValue(\.objectValue) })
        guard !entries.isEmpty else {
            throw SwiftCTRError(.config, "graph JSON: key 'layers': expected the Data layer, the embeddings and the dense layers, found an empty array.")
        }
        var warnings = top.unknownKeys().map { "graph JSON: top-level key '\($0)' is not known to SwiftCTR and is ignored." }

        let data = JSONEntryReader(entries[0], path: "", where: "data layer 0")
        let input = try Input(hugeCTRJSON: data)
        warnings += Self.warnings(data.unknownKeys(), place: data.place)
        var names = TensorNames(input: input)
        var embeddings: [SparseEmbedding] = [], layers: [DenseLayer] = []
        var index = 1
        while index < entries.count, let type = entries[index]["type"]?.stringValue,
              SparseEmbedding.hugeCTRTypeNames.contains(type) {
            let reader = JSONEntryReader(entries[index], path: "", where: "embedding layer \(index) '\(Self.topName(entries[index]))' (\(type))")
            let embedding = try SparseEmbedding(hugeCTRJSON: reader, modelOptimizer: modelOptimizer)
            try names.addEmbedding(embedding, place: reader.place)
            embeddings.append(embedding)
            warnings += Self.warnings(reader.unknownKeys(), place: reader.place)
            index += 1
        }
        if includeDenseNetwork {
            for (i, entry) in entries.enumerated().dropFirst(index) {
                let place = "dense layer \(i) '\(Self.topName(entry))'"
                if let type = entry["type"]?.stringValue, SparseEmbedding.hugeCTRTypeNames.contains(type) {
                    throw SwiftCTRError(.config, "\(place): key 'type': \(type) is an embedding, but embeddings must come right after the Data layer, found one after dense layers. Move it up.")
                }
                let (layer, unknown) = try DenseLayer.decodeHugeCTRJSON(entry, index: i)
                try names.addLayer(layer, place: "\(place) (\(layer.layerType.rawValue))")
                layers.append(layer)
                warnings += Self.warnings(unknown, place: "\(place) (\(layer.layerType.rawValue))")
            }
        }
        self.init(modelName: name, input: input, embeddings: embeddings, layers: layers)
        self.warnings = warnings
    }

    private static func warnings(_ keys: [String], place: String) -> [String] {
        keys.filter { $0 != "name" }.map { "\(place): key '\($0)' is not known to SwiftCTR and is ignored." }
    }

    /// The entry's first top name, for messages ("?" when it has none).
    private static func topName(_ entry: [String: JSONValue]) -> String {
        entry["top"]?.namesValue?.first ?? "?"
    }
}

/// The tensors defined so far while a graph is read, to name an undefined bottom at its entry.
private struct TensorNames {
    let sparseInputs: Set<String>
    let labels: Set<String>
    var defined: [String]

    init(input: Input) {
        sparseInputs = Set(input.dataReaderSparseParamArray.map(\.topName))
        labels = Set(input.labelNames)
        defined = input.labelNames + [input.denseName]
    }

    mutating func addEmbedding(_ embedding: SparseEmbedding, place: String) throws {
        guard sparseInputs.contains(embedding.bottomName) else {
            throw SwiftCTRError(.config, "\(place): key 'bottom': expected one of the Data layer's sparse inputs \(sparseInputs.sorted()), found '\(embedding.bottomName)'. Name a sparse[i].top of the Data layer.")
        }
        try addTops([embedding.sparseEmbeddingName], place: place)
    }

    mutating func addLayer(_ layer: DenseLayer, place: String) throws {
        for bottom in layer.bottomNames where !defined.contains(bottom) {
            let why = sparseInputs.contains(bottom) ? "a sparse input, which only an embedding reads"
                : "not defined by the Data layer, an embedding or an earlier layer"
            throw SwiftCTRError(.config, "\(place): key 'bottom': expected tensors defined before this layer, found '\(bottom)', \(why). Defined so far: \(defined.joined(separator: ", ")). Fix the name, or move this layer after the one whose top is '\(bottom)'.")
        }
        try addTops(layer.topNames, place: place)
    }

    private mutating func addTops(_ tops: [String], place: String) throws {
        for top in tops where defined.contains(top) || sparseInputs.contains(top) || top.isEmpty {
            throw SwiftCTRError(.config, "\(place): key 'top': expected a new tensor name, found '\(top)', which \(top.isEmpty ? "is empty" : "is already defined"). Give every top a unique name.")
        }
        defined += tops
    }
}

extension JSONValue {
    /// The JSON text in `file`, parsed; a `.io` error when it cannot be read, a `.config` error
    /// naming the line and column when it is not JSON. Numbers written with a fraction or an
    /// exponent (`10.0`, `1e-05`) stay `.double`, so a float that HugeCTR wrote reads back as one.
    ///
    /// ```swift
    /// let root = try JSONValue(file: "dcn.json")
    /// ```
    public init(file: String) throws {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw SwiftCTRError(.io, "cannot read the JSON file '\(file)'; check the path and its permissions.")
        }
        do {
            self.init(foundation: try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]))
        } catch {
            throw SwiftCTRError(.config, "'\(file)' is not valid JSON: \(Self.syntaxProblem(error, in: data)). Fix the text there (e.g. check it with `python3 -m json.tool`).")
        }
    }

    /// The JSON text `text`, parsed as `init(file:)` parses a file.
    public init(text: String) throws {
        let data = Data(text.utf8)
        do {
            self.init(foundation: try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]))
        } catch {
            throw SwiftCTRError(.config, "the text is not valid JSON: \(Self.syntaxProblem(error, in: data)).")
        }
    }

    /// A value `JSONSerialization` returned.
    private init(foundation value: Any) {
        switch value {
        case let text as String: self = .string(text)
        case let number as NSNumber:
            switch String(cString: number.objCType) {
            case "c", "B": self = .bool(number.boolValue)
            // An NSDecimalNumber's doubleValue is not the nearest double (0.8999999761581421 → …424).
            case "d", "f": self = .double(number is NSDecimalNumber ? Double(number.stringValue) ?? number.doubleValue : number.doubleValue)
            default: self = .int(number.intValue)
            }
        case let items as [Any]: self = .array(items.map(JSONValue.init(foundation:)))
        case let members as [String: Any]: self = .object(members.mapValues(JSONValue.init(foundation:)))
        default: self = .null
        }
    }

    /// The parser's complaint about `data`, with the line and column it names
    /// ("Invalid value around character 15" → "… (line 2, column 7)").
    private static func syntaxProblem(_ error: any Error, in data: Data) -> String {
        guard var detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String else { return "\(error)" }
        if detail.hasSuffix(".") { detail.removeLast() }
        guard let range = detail.range(of: "character "),
              let offset = Int(detail[range.upperBound...].prefix { $0.isNumber }), offset <= data.count else { return detail }
        let before = data.prefix(offset)
        let line = before.filter { $0 == UInt8(ascii: "\n") }.count + 1
        let column = offset - (before.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0) + 1
        return "\(detail) (line \(line), column \(column))"
    }
}
