/// HugeCTR's graph-JSON entry of a sparse embedding (spec §2.3), both directions.
///
/// The writer always writes the optimizer block (the model's when the embedding has none, as
/// `graph_to_json` does), so the entry reads back with an explicit optimizer that equals it.
/// `max_vocabulary_size_global` is written and ignored on reading; a legacy
/// `max_vocabulary_size_per_gpu` without a workspace is turned into the workspace that holds it.
///
/// ```swift
/// let entry = embedding.hugeCTRJSON(modelOptimizer: CreateOptimizer(), devices: 1)
/// // ["type": "DistributedSlotSparseEmbeddingHash", "bottom": "data1", "top": "sparse_embedding1",
/// //  "sparse_embedding_hparam": [...], "optimizer": [...]]
/// ```
extension SparseEmbedding {
    /// The entry `graph_to_json` writes; `devices` is HugeCTR's G (`max_vocabulary_size_global = per GPU × G`).
    public func hugeCTRJSON(modelOptimizer: OptimizerParams, devices: Int = 1) -> [String: JSONValue] {
        let optimizer = self.optimizer ?? modelOptimizer
        let perGPU = workspaceSizePerGPUInMB * (1 << 20) / ((1 + optimizer.stateCopies) * 4 * max(embeddingVecSize, 1))
        var hparam: [String: JSONValue] = [
            "workspace_size_per_gpu_in_mb": .int(workspaceSizePerGPUInMB), "max_vocabulary_size_global": .int(perGPU * devices),
            "embedding_vec_size": .int(embeddingVecSize), "combiner": .string(combiner),
        ]
        if !slotSizeArray.isEmpty { hparam["slot_size_array"] = .array(slotSizeArray.map { .int($0) }) }
        return ["type": .string(embeddingType.rawValue), "bottom": .string(bottomName), "top": .string(sparseEmbeddingName),
                "sparse_embedding_hparam": .object(hparam), "optimizer": .object(optimizer.hugeCTRJSON())]
    }

    /// The type strings `construct_from_json` takes as embeddings (HybridSparseEmbedding included,
    /// so that it gets its own error).
    static let hugeCTRTypeNames: Set<String> = [
        EmbeddingType.distributedSlotSparseEmbeddingHash.rawValue, EmbeddingType.localizedSlotSparseEmbeddingHash.rawValue,
        EmbeddingType.localizedSlotSparseEmbeddingOneHot.rawValue, "HybridSparseEmbedding",
    ]

    /// Reads the entry at `index` of `layers`. `modelOptimizer` sizes a legacy
    /// `max_vocabulary_size_per_gpu` when the entry has no optimizer block.
    package init(hugeCTRJSON reader: JSONEntryReader, modelOptimizer: OptimizerParams) throws {
        let typeName = try reader.required("type", "an embedding type string", \.stringValue)
        guard let type = EmbeddingType(rawValue: typeName) else {
            throw SwiftCTRError(.config, "\(reader.place): key 'type': \(typeName) is not available in this version; expected DistributedSlotSparseEmbeddingHash, LocalizedSlotSparseEmbeddingHash or LocalizedSlotSparseEmbeddingOneHot. Use one of them.")
        }
        let oneName = { (names: [String]) in names.count == 1 ? names[0] : nil }
        let bottom = try reader.required("bottom", "the name of a sparse input", { $0.namesValue.flatMap(oneName) })
        let top = try reader.required("top", "a tensor name", { $0.namesValue.flatMap(oneName) })
        let optimizer = try reader.optionalObject("optimizer").map { try OptimizerParams.decodeHugeCTRJSON($0, legacy: false).params }
        let hparam = try reader.object("sparse_embedding_hparam")
        let vecSize = try hparam.required("embedding_vec_size", "an integer", \.intValue)
        let combiner = try hparam.required("combiner", "\"sum\" or \"mean\" (legacy files: 0 or 1)", { value -> String? in
            if let name = value.stringValue, ["sum", "mean"].contains(name) { return name }
            return value.intValue.flatMap { [0: "sum", 1: "mean"][$0] }
        })
        var workspace = try hparam.optional("workspace_size_per_gpu_in_mb", "an integer", \.intValue)
        _ = try hparam.optional("max_vocabulary_size_global", "an integer", \.intValue)
        let slotSizes = try hparam.optional("slot_size_array", "an array of integers", { $0.arrayValue(\.intValue) }) ?? []
        if let rows = try hparam.optional("max_vocabulary_size_per_gpu", "an integer", \.intValue), workspace == nil {
            let bytesPerRow = (1 + (optimizer ?? modelOptimizer).stateCopies) * 4 * max(vecSize, 1)
            workspace = (rows * bytesPerRow + (1 << 20) - 1) >> 20
        }
        guard workspace != nil || !slotSizes.isEmpty else {
            throw SwiftCTRError(.config, "\(reader.place): key 'sparse_embedding_hparam.workspace_size_per_gpu_in_mb' is required when there is no slot_size_array: expected an integer, found nothing. Add \"workspace_size_per_gpu_in_mb\" (or \"slot_size_array\") to 'sparse_embedding_hparam'.")
        }
        self.init(embeddingType: type, workspaceSizePerGPUInMB: workspace ?? 0, embeddingVecSize: vecSize, combiner: combiner,
                  sparseEmbeddingName: top, bottomName: bottom, slotSizeArray: slotSizes, optimizer: optimizer)
    }
}
