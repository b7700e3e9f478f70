import Foundation

/// HugeCTR's `graph_to_json` and `construct_from_json` (spec §2.1, §2.5).
///
/// ```swift
/// try model.compile()
/// try model.graphToJSON(graphConfigFile: "dcn.json")
/// let fresh = try Model(solver, reader, optimizer)
/// let warnings = try fresh.constructFromJSON(graphConfigFile: "dcn.json", includeDenseNetwork: true)
/// try fresh.compile()
/// ```
extension Model {
    /// The JSON value `graph_to_json` writes: the Data entry, the embeddings in add order, then the
    /// dense layers after graph analysis, with the Slice inserted for each tensor read by several
    /// layers (its ranges need the tensor's width, so a model with such a tensor must be compiled).
    public func graphJSON() throws -> JSONValue {
        guard let input else {
            throw SwiftCTRError(.config, "graphToJSON: the model has no Input; add the Input, embeddings and layers first.")
        }
        let plan = try FanOutSlices.apply(layerSpecs, labelNames: Set(input.labelNames))
        let layers = try plan.map { planned -> DenseLayer in
            guard planned.isFanOutSlice else { return planned.spec }
            var slice = planned.spec
            slice.ranges = Array(repeating: [0, try fanOutWidth(slice)], count: slice.topNames.count)
            return slice
        }
        let devices = solver.vvgpu.reduce(0) { $0 + $1.count }
        return GraphConfig(modelName: solver.modelName, input: input, embeddings: embeddingSpecs, layers: layers)
            .hugeCTRJSON(modelOptimizer: optimizerParams, devices: devices)
    }

    /// Writes `graphJSON()` to `graphConfigFile` as HugeCTR prints it (2-space indentation, keys sorted).
    public func graphToJSON(graphConfigFile: String) throws {
        let text = try graphJSON().serialized() + "\n"
        do {
            try text.write(toFile: graphConfigFile, atomically: true, encoding: .utf8)
        } catch {
            throw SwiftCTRError(.io, "graphToJSON: cannot write '\(graphConfigFile)': \(error.localizedDescription). Check that its folder exists and is writable.")
        }
    }

    /// Adds the Input, the embeddings and (with `includeDenseNetwork`) the dense layers of the
    /// graph JSON in `graphConfigFile`; returns the warnings about keys SwiftCTR does not know.
    /// Embeddings without an optimizer block use the model's optimizer. Weights are not loaded.
    @discardableResult
    public func constructFromJSON(graphConfigFile: String, includeDenseNetwork: Bool) throws -> [String] {
        let graph = try GraphConfig(file: graphConfigFile, modelOptimizer: optimizerParams,
                                    includeDenseNetwork: includeDenseNetwork)
        construct(graph)
        return graph.warnings
    }

    /// Adds `graph`'s Input, embeddings and dense layers, in that order.
    public func construct(_ graph: GraphConfig) {
        add(graph.input)
        graph.embeddings.forEach(add)
        graph.layers.forEach(add)
    }

    /// The width of the tensor a fan-out Slice copies, from the compiled graph: the built Slice's
    /// input, or the tensor itself where no Slice was built (a `SharedOperandConcat`'s readers).
    private func fanOutWidth(_ slice: DenseLayer) throws -> Int {
        let built = graph?.layers.first { $0.outputs.first?.name == slice.topNames[0] }?.inputs.first
            ?? graph?.layers.lazy.flatMap(\.outputs).first { $0.name == slice.bottomNames[0] }
        guard let width = built?.shape.last else {
            throw SwiftCTRError(.config, "graphToJSON: tensor '\(slice.bottomNames[0])' is read by \(slice.topNames.count) layers, so the file gets the Slice HugeCTR inserts (tops \(slice.topNames.joined(separator: ", "))), whose ranges need the tensor's width. Call compile() before graphToJSON.")
        }
        return width
    }
}
