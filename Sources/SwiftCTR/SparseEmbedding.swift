/// A sparse embedding over one sparse input, as HugeCTR's `SparseEmbedding`: a hash table, or
/// for `.localizedSlotSparseEmbeddingOneHot` (which needs `slotSizeArray`) keys that are rows.
///
/// ```swift
/// model.add(SparseEmbedding(embeddingType: .distributedSlotSparseEmbeddingHash, workspaceSizePerGPUInMB: 69,
///                           embeddingVecSize: 16, combiner: "sum", sparseEmbeddingName: "sparse_embedding1",
///                           bottomName: "data1", optimizer: optimizer))
/// ```
public struct SparseEmbedding: Sendable, Equatable {
    public var embeddingType: EmbeddingType
    public var workspaceSizePerGPUInMB: Int
    public var embeddingVecSize: Int
    /// "sum" or "mean".
    public var combiner: String
    public var sparseEmbeddingName: String
    public var bottomName: String
    public var slotSizeArray: [Int]
    /// nil: the model's optimizer.
    public var optimizer: OptimizerParams?

    public init(embeddingType: EmbeddingType, workspaceSizePerGPUInMB: Int = 0, embeddingVecSize: Int, combiner: String,
                sparseEmbeddingName: String, bottomName: String, slotSizeArray: [Int] = [],
                optimizer: OptimizerParams? = nil) {
        self.embeddingType = embeddingType
        self.workspaceSizePerGPUInMB = workspaceSizePerGPUInMB
        self.embeddingVecSize = embeddingVecSize
        self.combiner = combiner
        self.sparseEmbeddingName = sparseEmbeddingName
        self.bottomName = bottomName
        self.slotSizeArray = slotSizeArray
        self.optimizer = optimizer
    }
}
