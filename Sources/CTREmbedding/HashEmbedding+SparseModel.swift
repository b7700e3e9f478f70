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

extension SparseModel {
    /// The error of a model file `source` for embedding `embedding`.
    package func failure(embedding: String, source: String) -> (SwiftCTRError.Kind, String) -> SwiftCTRError {
        { kind, message in SwiftCTRError(kind, "sparse model '\(source)' for embedding '\(embedding)': " + message) }
    }

    /// Throws (with `fail`) unless there is one vector of `vecSize` per key and, when given, one
    /// slot below `slots` per key.
    package func check(vecSize: Int, slots: Int, fail: (SwiftCTRError.Kind, String) -> SwiftCTRError) throws {
        let n = keys.count
        guard vectors.count == n * vecSize else {
            throw fail(.data, "\(n) keys need \(n) × \(vecSize) = \(n * vecSize) values in emb_vector, found \(vectors.count). The folder belongs to an embedding of another embedding_vec_size, or a file is truncated.")
        }
        if let slotIDs {
            guard slotIDs.count == n else {
                throw fail(.data, "\(n) keys need \(n) slot_id entries, found \(slotIDs.count). A file is truncated.")
            }
            if let bad = slotIDs.firstIndex(where: { $0 >= UInt64(slots) }) {
                throw fail(.data, "slot_id[\(bad)] = \(slotIDs[bad]) for key \(keys[bad]), but the embedding has \(slots) slots (0..<\(slots)). The folder belongs to another model.")
            }
        }
    }
}

/// An embedding as the model files see it: one worker's `HashEmbedding`, or a `ShardedEmbedding`
/// whose files are those the same table on one worker would have.
///
/// ```swift
/// let store: any EmbeddingStore = embedding
/// let model = store.sparseModel()          // the key, emb_vector and slot_id files
/// let states = store.floatStates()         // the optimizer-states file, state by state
/// ```
package protocol EmbeddingStore: AnyObject {
    var name: String { get }
    var vecSize: Int { get }
    var optimizer: SparseOptimizer { get }
    /// Whether the sparse model folder holds `slot_id` (Localized and OneHot).
    var savesSlotIDs: Bool { get }
    /// Sparse optimizer updates so far (Adam's t).
    var step: Int { get }
    func restore(step: Int)
    /// The keys with their vectors (and slots) in the table's row order.
    func sparseModel() -> SparseModel
    /// Replaces the table's rows by `model`'s; `source` names the folder in errors.
    func load(_ model: SparseModel, source: String) throws
    /// Rows of each optimizer state in the states file.
    var stateRows: Int { get }
    /// The float optimizer states in file order, each `stateRows × vecSize`, row r that of table row r.
    func floatStates() -> [[Float]]
    /// LazyGlobal Adam's step of each row's last update (`stateRows`), nil for other optimizers.
    func lastSteps() -> [Int64]?
    /// Sets the states `floatStates` and `lastSteps` return (each of their sizes).
    func loadStates(_ floats: [[Float]], lastSteps: [Int64]?)
}

extension HashEmbedding: EmbeddingStore {
    package var stateRows: Int { capacity }

    package func floatStates() -> [[Float]] {
        states.filter { $0.dtype == .float32 }.map { backend.floats($0) }
    }

    package func lastSteps() -> [Int64]? {
        states.first { $0.dtype == .int64 }.map { backend.int64s($0) }
    }

    package func loadStates(_ floats: [[Float]], lastSteps: [Int64]?) {
        for (state, values) in zip(states.filter { $0.dtype == .float32 }, floats) { backend.upload(values, to: state) }
        if let lastSteps, let steps = states.first(where: { $0.dtype == .int64 }) { backend.upload(lastSteps, to: steps) }
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
        let fail = model.failure(embedding: name, source: source)
        try model.check(vecSize: vecSize, slots: slots, fail: fail)
        let n = model.keys.count
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
