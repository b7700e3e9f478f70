import CTRLayers
import Foundation
import Testing

/// `docs/layers.md` is generated from `LayerRegistry`: for each registered type its Swift spelling,
/// HugeCTR name, the keywords it reads with their defaults, the doc comment of its class (math,
/// shape rule, example) and the rows of `docs/compatibility.md` that name it. This test fails when
/// the page is stale; `SWIFTCTR_WRITE_DOCS=1 swift test --filter LayerDocsTests` rewrites it.
@Suite("Layer reference page")
struct LayerDocsTests {
    static let root = ReadmeExampleTests.root
    static let page = root.appendingPathComponent("docs/layers.md")

    /// The `///` comment right above `final class <name>` in the layer sources, without the slashes.
    static func docComment(of name: String, sources: [String]) -> String? {
        for source in sources {
            let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
            guard let at = lines.firstIndex(where: { $0.hasPrefix("public final class \(name):") || $0.hasPrefix("public class \(name):") })
            else { continue }
            var start = at
            while start > 0, lines[start - 1].hasPrefix("///") { start -= 1 }
            return lines[start ..< at].map { line in
                line == "///" ? "" : String(line.dropFirst(line.hasPrefix("/// ") ? 4 : 3))
            }.joined(separator: "\n")
        }
        return nil
    }

    /// Every Swift file under `Sources/CTRLayers`.
    static func layerSources() throws -> [String] {
        let folder = root.appendingPathComponent("Sources/CTRLayers")
        let files = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)?
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }.sorted { $0.path < $1.path } ?? []
        return try files.map { try String(contentsOf: $0, encoding: .utf8) }
    }

    /// A default as the page shows it: `1`, `1e-05`, `` `Default` ``, `[]`.
    static func show(_ value: JSONValue) -> String {
        switch value {
        case .bool(let flag): "\(flag)"
        case .int(let number): "\(number)"
        case .double(let number): "\(Float(number))"
        case .string(let string): "`\(string)`"
        case .array(let list): "[" + list.map(show).joined(separator: ", ") + "]"
        case .null, .object: "?"
        }
    }

    /// `elu_alpha` → `eluAlpha`.
    static func swiftName(_ key: String) -> String {
        let parts = key.split(separator: "_")
        return parts.enumerated().map { $0 == 0 ? String($1) : $1.prefix(1).uppercased() + $1.dropFirst() }.joined()
    }

    /// The first cells of the compatibility table rows that mention `hugeCTRName` as a word.
    static func deviations(of hugeCTRName: String, in compatibility: String) -> [String] {
        compatibility.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("| "), !line.hasPrefix("|---") else { return nil }
            let first = line.dropFirst(2).prefix { $0 != "|" }.trimmingCharacters(in: .whitespaces)
            let words = first.split { !$0.isLetter && !$0.isNumber && $0 != "_" }.map(String.init)
            return words.contains(hugeCTRName) ? first : nil
        }
    }

    static func generate() throws -> String {
        let sources = try layerSources()
        let defaults = try LayerBookTests.denseLayerDefaults()
        let compatibility = try String(contentsOf: root.appendingPathComponent("docs/compatibility.md"), encoding: .utf8)
        var text = """
            # Layer reference

            Generated from `LayerRegistry` by `Tests/SwiftCTRTests/LayerDocsTests.swift`
            (`SWIFTCTR_WRITE_DOCS=1 swift test --filter LayerDocsTests` rewrites it; the test fails when
            it is stale). Each layer: its Swift spelling, HugeCTR name, the `DenseLayer` keywords it reads
            with their defaults, the doc comment of its class (math, shapes, example), and the rows of
            [compatibility.md](compatibility.md) that name it. \(LayerRegistry.types.count) layer types.

            | HugeCTR | Swift | class |
            |---|---|---|

            """
        for type in LayerRegistry.types {
            text += "| [\(type.layerType.rawValue)](#\(type.layerType.rawValue.lowercased())) | `.\(type.layerType)` | `\(type)` |\n"
        }
        for type in LayerRegistry.types {
            let name = type.layerType.rawValue
            text += "\n## \(name)\n\n"
            text += "`DenseLayer(.\(type.layerType), bottomNames: […], topNames: […]\(type.parameterNames.isEmpty ? "" : ", …"))`, class `\(type)`.\n\n"
            if type.parameterNames.isEmpty {
                text += "Keywords: none besides `bottom_names` and `top_names`.\n\n"
            } else {
                text += "| keyword | Swift | default |\n|---|---|---|\n"
                for key in type.parameterNames {
                    let snake = LayerBookTests.key(key)
                    text += "| `\(key)` | `\(swiftName(snake))` | \(defaults[snake].map(show) ?? "(required)") |\n"
                }
                text += "\n"
            }
            text += (docComment(of: "\(type)", sources: sources) ?? "(no doc comment)") + "\n"
            let rows = deviations(of: name, in: compatibility)
            if !rows.isEmpty {
                text += "\nDeliberate differences from HugeCTR ([compatibility.md](compatibility.md)): "
                text += rows.map { $0.replacingOccurrences(of: "\n", with: " ") }.joined(separator: "; ") + ".\n"
            }
        }
        return text
    }

    @Test func thePageIsCurrent() throws {
        let generated = try Self.generate()
        if ProcessInfo.processInfo.environment["SWIFTCTR_WRITE_DOCS"] == "1" {
            try generated.write(to: Self.page, atomically: true, encoding: .utf8)
        }
        let onDisk = try? String(contentsOf: Self.page, encoding: .utf8)
        #expect(onDisk == generated, "docs/layers.md is stale: run SWIFTCTR_WRITE_DOCS=1 swift test --filter LayerDocsTests")
    }

    @Test func everyRegisteredLayerHasADocCommentAndItsKeywordsExist() throws {
        let sources = try Self.layerSources(), defaults = try LayerBookTests.denseLayerDefaults()
        for type in LayerRegistry.types {
            let comment = Self.docComment(of: "\(type)", sources: sources)
            #expect(comment?.contains("HugeCTR") == true, "\(type) needs a doc comment naming its HugeCTR layer")
            for key in type.parameterNames {
                #expect(defaults[LayerBookTests.key(key)] != nil, "\(type).parameterNames has '\(key)', which is no DenseLayer keyword")
            }
        }
    }

    @Test func helpersFindCommentsAndRows() {
        let source = "import X\n\n/// `A`: y = x.\n///\n/// HugeCTR: `A`.\npublic final class A: RegisteredLayer {\n}\n"
        #expect(Self.docComment(of: "A", sources: ["", source]) == "`A`: y = x.\n\nHugeCTR: `A`.")
        #expect(Self.docComment(of: "B", sources: [source]) == nil)
        #expect(Self.swiftName("max_sequence_len_from") == "maxSequenceLenFrom")
        let table = "| Layer | H |\n|---|---|\n| Softmax (masked) | x |\n| ReLU+Dropout fusion | y |\n| SoftmaxX | z |\n"
        #expect(Self.deviations(of: "Softmax", in: table) == ["Softmax (masked)"])
        #expect(Self.deviations(of: "Dropout", in: table) == ["ReLU+Dropout fusion"])
    }
}
