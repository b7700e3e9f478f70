import CTRCore

/// The rows of one embedding as HugeCTR's sparse model folder holds them (API spec §4.5): `keys`
/// (the `key` file, int64), `vectors` (`emb_vector`, `keys.count × vec` fp32, row i the vector of
/// `keys[i]`) and, for Localized and OneHot embeddings, `slotIDs` (`slot_id`, the 0-based slot of
/// each key).
///
/// ```swift
/// let model = embedding.sparseModel()     // keys in row order
/// try fresh.load(model, source: "dcn0_sparse_1000.model")
/// ```
public struct SparseModel: Sendable, Equatable {
    public var keys: [Int64]
    public var vectors: [Float]
    public var slotIDs: [UInt64]?

    public init(keys: [Int64], vectors: [Float], slotIDs: [UInt64]? = nil) {
        self.keys = keys
        self.vectors = vectors
        self.slotIDs = slotIDs
    }
}

extension HashEmbedding {
    /// Whether the model folder holds `slot_id`: a Localized hash embedding (built with
    /// `recordsSlots`) or a one-hot one.
    public var savesSlotIDs: Bool {
        if case .oneHot = keyMap { return true }
        return keySlots != nil
    }

    /// The keys in use in row order (a one-hot map: every row, whose key is the row), their vectors
    /// and, when `savesSlotIDs`, their slots. Waits for the device.
    public func sparseModel() -> SparseModel {
        switch keyMap {
        case .hash(let table):
            let keys = table.keysByRow(backend)
            let slots = keySlots.map { backend.int64s($0, count: keys.count).map { UInt64(max($0, 0)) } }
            return SparseModel(keys: keys, vectors: backend.floats(values, count: keys.count * vecSize), slotIDs: slots)
        case .oneHot(let index):
            var slots: [UInt64] = []
            slots.reserveCapacity(capacity)
            for s in index.slotSizes.indices {
                slots += repeatElement(UInt64(s), count: index.slotSizes[s])
            }
            return SparseModel(keys: (0..<Int64(capacity)).map { $0 }, vectors: backend.floats(values), slotIDs: slots)
        }
    }

    /// Replaces the rows by `model`'s (HugeCTR's `load_sparse_weights`): a hash table takes key i
    /// at row i, so rows restart at 0 and the next new key gets row `keys.count`; a one-hot map sets
    /// the row of each key and keeps the others. Throws, changing nothing, when the counts disagree,
    /// the keys exceed the capacity, a key repeats, or a key lies outside its slot. `source` names
    /// the folder in the messages.
    public func load(_ model: SparseModel, source: String) throws {
        func fail(_ kind: SwiftCTRError.Kind, _ message: String) -> SwiftCTRError {
            SwiftCTRError(kind, "sparse model '\(source)' for embedding '\(name)': " + message)
        }
        let n = model.keys.count
        guard model.vectors.count == n * vecSize else {
            throw fail(.data, "\(n) keys need \(n) × \(vecSize) = \(n * vecSize) values in emb_vector, found \(model.vectors.count). The folder belongs to an embedding of another embedding_vec_size, or a file is truncated.")
        }
        if let slots = model.slotIDs {
            guard slots.count == n else {
                throw fail(.data, "\(n) keys need \(n) slot_id entries, found \(slots.count). A file is truncated.")
            }
            if let bad = slots.firstIndex(where: { $0 >= UInt64(self.slots) }) {
                throw fail(.data, "slot_id[\(bad)] = \(slots[bad]) for key \(model.keys[bad]), but the embedding has \(self.slots) slots (0..<\(self.slots)). The folder belongs to another model.")
            }
        }
        guard n <= capacity else {
            throw fail(.capacity, "\(n) keys do not fit the table's \(capacity) rows. Raise workspace_size_per_gpu_in_mb (or slot_size_array) so that at least \(n) rows fit.")
        }
        switch keyMap {
        case .hash(let table):
            if let repeated = table.replaceContents(with: model.keys, backend) {
                let first = model.keys.firstIndex(of: model.keys[repeated])!
                throw fail(.data, "key \(model.keys[repeated]) appears twice in the key file (positions \(first) and \(repeated)); each key must have one row.")
            }
            backend.upload(model.vectors, to: values)
            if let keySlots, let slots = model.slotIDs {
                backend.upload(slots.map { Int64($0) }, to: keySlots)
            }
        case .oneHot(let index):
            var host = backend.floats(values)
            for (i, key) in model.keys.enumerated() {
                guard key >= 0 && key < Int64(capacity) else {
                    throw fail(.data, "key \(key) (position \(i)) is no row of the one-hot table (0..<\(capacity) from slot_size_array \(index.slotSizes)).")
                }
                if let slot = model.slotIDs?[i], !(index.bounds[Int(slot)]..<index.bounds[Int(slot) + 1]).contains(key) {
                    throw fail(.data, "key \(key) (position \(i)) has slot_id \(slot), whose keys are \(index.bounds[Int(slot)])..<\(index.bounds[Int(slot) + 1]).")
                }
                host.replaceSubrange(Int(key) * vecSize..<(Int(key) + 1) * vecSize,
                                     with: model.vectors[i * vecSize..<(i + 1) * vecSize])
            }
            backend.upload(host, to: values)
        }
    }
}
