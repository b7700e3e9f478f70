import CTRLayers
import Foundation
import SwiftCTR
import Testing

/// Walks the seed's layer book (`../shared/seed/hugectr_layer_book.md`, "Dense Layers Usage" to
/// the end): every layer type its examples name must be built by `LayerRegistry`, every parameter a
/// layer's section lists must be a `DenseLayer` keyword with the book's default and read by one of
/// the section's layer types.
@Suite("Layer book")
struct LayerBookTests {
    /// One `###` or `####` section of the book's dense-layer part.
    struct Section {
        var title: String
        var layerTypes: [String] = []
        /// Parameter name → the default the book states (nil where it gives none).
        var parameters: [(name: String, bookDefault: String?)] = []
    }

    /// Book types not built yet; each must really be missing from the registry, so the list can only
    /// shrink.
    static let pending: Set<LayerType> = []

    /// Keywords a section lists that its layer accepts but does not read, as HugeCTR: MultiCross's
    /// biases start at zero whatever `bias_init_type` says.
    static let acceptedUnread: Set<String> = ["MultiCross Layer: bias_init_type"]

    /// Keywords not read yet (the regularizers); like `pending`, each must really be unread.
    static let pendingReads: Set<String> = []

    static func book() throws -> String {
        let url = ReadmeExampleTests.root.deletingLastPathComponent().appendingPathComponent("shared/seed/hugectr_layer_book.md")
        return try String(contentsOf: url, encoding: .utf8)
    }

    /// The dense-layer sections of `markdown` with the `Layer_t` names of their examples and their
    /// `* \`name\`: …` parameter bullets.
    static func sections(_ markdown: String) -> [Section] {
        guard let start = markdown.range(of: "## Dense Layers Usage") else { return [] }
        var sections: [Section] = []
        for line in markdown[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("### ") || line.hasPrefix("#### ") {
                sections.append(Section(title: line.drop { $0 == "#" || $0 == " " }.description))
                continue
            }
            guard !sections.isEmpty else { continue }
            if let range = line.range(of: #"Layer_t\.[A-Za-z_0-9]+"#, options: .regularExpression) {
                let name = String(line[range].dropFirst("Layer_t.".count))
                if !sections[sections.count - 1].layerTypes.contains(name) { sections[sections.count - 1].layerTypes.append(name) }
            }
            if line.hasPrefix("* `"), let close = line.dropFirst(3).firstIndex(of: "`") {
                let name = line[line.index(line.startIndex, offsetBy: 3) ..< close].trimmingCharacters(in: .whitespaces)
                var bookDefault: String?
                if let marker = line.range(of: "The default value is ") {
                    bookDefault = String(line[marker.upperBound...]).trimmingCharacters(in: .whitespaces)
                    if bookDefault?.hasSuffix(".") == true { bookDefault?.removeLast() }
                }
                sections[sections.count - 1].parameters.append((name, bookDefault))
            }
        }
        return sections
    }

    /// `DenseLayer`'s keywords in HugeCTR's spelling with their defaults, from its Codable form.
    static func denseLayerDefaults() throws -> [String: JSONValue] {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let data = try encoder.encode(DenseLayer(.relu, bottomNames: ["x"], topNames: ["y"]))
        return try JSONDecoder().decode([String: JSONValue].self, from: data)
    }

    /// The book's spelling of a keyword as `DenseLayer`'s snake-case key (`SeqLength` → `seq_length`).
    static func key(_ bookName: String) -> String {
        var key = ""
        for (i, c) in bookName.enumerated() {
            if c.isUppercase && i > 0 && !key.hasSuffix("_") { key += "_" }
            key += c.lowercased()
        }
        return key
    }

    /// Whether `value` (from the Codable form) is the book's `text` default.
    static func matches(_ value: JSONValue, _ text: String) -> Bool {
        let text = text.replacingOccurrences(of: "`", with: "")
        switch value {
        case .bool(let flag): return text == (flag ? "True" : "False")
        case .int(let number): return Double(text) == Double(number)
        case .double(let number): return Double(text).map { abs(number - $0) <= 1e-6 * max(1, abs($0)) } ?? false
        case .array(let list): return list.isEmpty && text == "[]"
        case .string(let string): return text.hasSuffix("." + string) || text == string
        case .null, .object: return false
        }
    }

    @Test func theBookIsReadWhole() throws {
        let sections = Self.sections(try Self.book())
        // Every `Layer_t` of the book appears in a section, and the sections found carry parameters.
        #expect(sections.count >= 30)
        #expect(Set(sections.flatMap(\.layerTypes)).count >= 30)
        #expect(sections.flatMap(\.parameters).filter { $0.bookDefault != nil }.count >= 20)
    }

    @Test func everyLayerTypeOfTheBookIsBuilt() throws {
        for name in Set(Self.sections(try Self.book()).flatMap(\.layerTypes)).sorted() {
            let type = try #require(LayerType(hugeCTRName: name), "the book's Layer_t.\(name) has no LayerType")
            let registered = LayerRegistry.type(of: type) != nil
            if Self.pending.contains(type) {
                #expect(!registered, "\(name) is registered now: remove it from LayerBookTests.pending")
            } else {
                #expect(registered, "the book's Layer_t.\(name) is not in LayerRegistry.types")
            }
        }
    }

    @Test func everyParameterExistsWithTheBooksDefault() throws {
        let defaults = try Self.denseLayerDefaults()
        for section in Self.sections(try Self.book()) where !section.layerTypes.isEmpty {
            let types = section.layerTypes.compactMap(LayerType.init(hugeCTRName:))
            let read = Set(types.compactMap(LayerRegistry.type(of:)).flatMap { $0.parameterNames })
            for (name, bookDefault) in section.parameters {
                let key = Self.key(name)
                let value = try #require(defaults[key], "\(section.title): the book's parameter '\(name)' is no DenseLayer keyword")
                if let bookDefault {
                    #expect(Self.matches(value, bookDefault),
                            "\(section.title): '\(name)' defaults to \(value) in DenseLayer, the book says \(bookDefault)")
                }
                let entry = "\(section.title): \(name)", reads = read.contains(key) || read.contains(name)
                if Self.pendingReads.contains(entry) {
                    #expect(!reads, "\(entry) is read now: remove it from LayerBookTests.pendingReads")
                } else if types.allSatisfy({ !Self.pending.contains($0) }), !Self.acceptedUnread.contains(entry) {
                    #expect(reads, "\(section.title): no layer of \(section.layerTypes) reads '\(name)' (parameterNames)")
                }
            }
        }
    }

    /// The parameter names of the bullets between `from` and `to`.
    static func bullets(_ markdown: String, from: String, to: String) -> [String] {
        guard let start = markdown.range(of: from), let end = markdown.range(of: to, range: start.upperBound ..< markdown.endIndex)
        else { return [] }
        return markdown[start.upperBound ..< end.lowerBound].split(separator: "\n").compactMap { line in
            guard line.hasPrefix("* `"), let close = line.dropFirst(3).firstIndex(of: "`") else { return nil }
            return String(line[line.index(line.startIndex, offsetBy: 3) ..< close])
        }
    }

    @Test func inputAndSparseEmbeddingTakeEveryKeywordOfTheBook() throws {
        let book = try Self.book()
        func squashed(_ name: String) -> String { name.lowercased().filter { $0 != "_" } }
        let sparse = DataReaderSparseParam("data1", 1, true, 26)
        let input = Input(labelDim: 1, labelName: "label", denseDim: 13, denseName: "dense", dataReaderSparseParamArray: [sparse])
        let embedding = SparseEmbedding(embeddingType: .localizedSlotSparseEmbeddingOneHot, embeddingVecSize: 16, combiner: "sum",
                                        sparseEmbeddingName: "e", bottomName: "data1", slotSizeArray: [3])
        for (value, from, to) in [(input as Any, "## Input Layer", "## Sparse Embedding"),
                                  (embedding, "## Sparse Embedding", "## Embedding Types Detail")] {
            let names = Self.bullets(book, from: from, to: to)
            let properties = Set(Mirror(reflecting: value).children.compactMap(\.label).map(squashed))
            #expect(names.count >= 5, "\(from): too few keywords found")
            for name in names {
                // A multi-label Input keeps the lists (`label_dims`, `label_names`) the single keywords fill.
                #expect(properties.contains(squashed(name)) || properties.contains(squashed(name) + "s"),
                        "\(from): the book's '\(name)' is no property of \(type(of: value))")
            }
        }
        #expect(input.labelDim == 1 && input.labelNames == ["label"] && input.denseDim == 13)
        #expect(embedding.slotSizeArray == [3] && embedding.workspaceSizePerGPUInMB == 0 && embedding.optimizer == nil)
    }

    @Test func bookSpellingsBecomeKeys() {
        #expect(Self.key("SeqLength") == "seq_length")
        #expect(Self.key("elu_alpha") == "elu_alpha")
        #expect(Self.matches(.float(1e-5), "1e-5"))
        #expect(!Self.matches(.double(0.5), "1"))
        #expect(Self.matches(.int(1), "1.") && !Self.matches(.int(0), "1"))
        #expect(Self.matches(.string("Default"), "`hugectr.Initializer_t.Default`"))
        #expect(!Self.matches(.string("Uniform"), "`hugectr.Initializer_t.Default`"))
        #expect(Self.matches(.bool(false), "False"))
        #expect(!Self.matches(.int(0), "False"))
    }
}
