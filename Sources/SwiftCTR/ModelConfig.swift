/// A model given as a HugeCTR JSON file: graph JSON (`graph_to_json`'s form, which needs a
/// solver, optimizer and data from elsewhere) or a legacy full configuration (which carries them).
///
/// ```swift
/// switch try ModelConfig(file: "model.json") {
/// case .graph(let graph): model.construct(graph)
/// case .legacy(let config): model = try config.makeModel()
/// }
/// ```
public enum ModelConfig: Sendable {
    case graph(GraphConfig)
    case legacy(LegacyConfig)

    /// Reads `file`: a legacy configuration when it has a `solver` block, graph JSON otherwise.
    public init(file: String) throws {
        let root = try JSONValue(file: file)
        self = LegacyConfig.isLegacy(root)
            ? .legacy(try LegacyConfig(file: file, root: root))
            : .graph(try GraphConfig(hugeCTRJSON: root))
    }

    public var graph: GraphConfig {
        switch self {
        case .graph(let graph): graph
        case .legacy(let config): config.graph
        }
    }

    /// The keys SwiftCTR does not know, one line each.
    public var warnings: [String] {
        switch self {
        case .graph(let graph): graph.warnings
        case .legacy(let config): config.warnings
        }
    }
}
