/// `Embedding_t`: how a sparse embedding places its table. On one worker the two hash types
/// compute the same thing; they differ in sizing and initialization (and, on several workers, in
/// placement: key mod N for Distributed, slot mod N for Localized). OneHot has no hash table: its
/// keys, already offset per slot by `slot_size_array`, are the rows.
///
/// ```swift
/// let type = EmbeddingType(rawValue: "DistributedSlotSparseEmbeddingHash")   // as in a HugeCTR config
/// ```
public enum EmbeddingType: String, Sendable, Codable {
    case distributedSlotSparseEmbeddingHash = "DistributedSlotSparseEmbeddingHash"
    case localizedSlotSparseEmbeddingHash = "LocalizedSlotSparseEmbeddingHash"
    case localizedSlotSparseEmbeddingOneHot = "LocalizedSlotSparseEmbeddingOneHot"
}
