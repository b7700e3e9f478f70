import CTRCore

/// A hash-based sparse embedding on one worker: keys → rows of a `[capacity, vec]` table through a
/// `HashTable`, pooled per (sample, slot) into `[batch, slots, vec]`, with sparse optimizer updates
/// of the rows a batch touched (or of all rows for Global).
///
/// ```swift
/// let emb = HashEmbedding(name: "sparse_embedding1", vecSize: 16, slots: 26, combiner: .sum,
///                         capacity: 100_000, maxBatch: 4096, maxKeysPerSample: 26,
///                         optimizer: .adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-7, global: true, lazy: false),
///                         initialValues: .uniform(0.05), seed: 1, backend: backend)
/// let sparse = batch.sparse[0]   // a reader's `Batch` of up to 4096 samples, 26 slots
/// try emb.forward(keys: sparse.keys, offsets: sparse.rowOffsets, batch: batch.count, training: true)
/// // emb.output is [4096, 26, 16]; after filling emb.outputGrad:
/// emb.backward()
/// emb.update(lr: 0.001, scaler: 1)
/// ```
///
/// HugeCTR: the one-GPU part of `DistributedSlotSparseEmbeddingHash` and
/// `LocalizedSlotSparseEmbeddingHash` (which compute the same thing on one worker). Built with
/// `init(oneHot:…)` it is `LocalizedSlotSparseEmbeddingOneHot` instead: the keys index the rows
/// directly (`OneHotIndex`), and pooling, gradients and updates are the same.
public final class HashEmbedding {
    public let name: String
    public let vecSize: Int, slots: Int, capacity: Int, maxBatch: Int, maxKeys: Int
    public let combiner: Combiner
    public let optimizer: SparseOptimizer
    public let keyMap: KeyMap
    /// `[capacity, vec]` rows: handed out in first-sight order by a hash table, or the key's own row.
    public let values: Tensor
    /// `[maxBatch, slots, vec]` pooled output and its gradient.
    public let output: Tensor, outputGrad: Tensor
    let keys: Tensor, offsets: Tensor
    /// The row of each staged key, after `findRows`.
    package let rows: Tensor
    let uniqueRows: Tensor, uniqueGrads: Tensor, uniqueCount: Tensor, rowSlot: Tensor
    /// The optimizer's per-row states in HugeCTR's file order (`SparseOptimizer.stateCount`):
    /// `[capacity, vec]` fp32 each, except LazyGlobal Adam's third, the `[capacity]` int64 step of
    /// each row's last update (0: never).
    package let states: [Tensor]
    /// `[capacity]` int64: the slot of each row's key, when built with `recordsSlots` (a Localized
    /// embedding, whose model files hold each key's `slot_id`).
    package let keySlots: Tensor?
    var batch = 0, keyCount = 0
    /// Training lookups since the table's overflow flag was last read.
    var lookupsSinceCheck = 0
    /// How often a backend that counts on the device is asked whether the table overflowed.
    public static let overflowCheckInterval = 32
    /// Length of the identity prefix 0, 1, …, n the offsets tensor holds (one-hot batches reuse it).
    var offsetsAreIdentity = 0
    public private(set) var step = 0
    let backend: any Backend

    /// How rows start: `.uniform(a)` is U(−a, a) for every row; `.perSlot(sizes)` fills the block of
    /// slot s with U(±1/√size_s) (HugeCTR's Localized layout with `slot_size_array`).
    public enum InitialValues: Sendable {
        case uniform(Float)
        case perSlot([Int])
    }

    /// How keys become rows.
    public enum KeyMap: Sendable {
        /// A hash table hands out rows in first-sight order; training inserts, evaluation only looks up.
        case hash(HashTable)
        /// The key is its row, checked against its slot's range.
        case oneHot(OneHotIndex)

        /// The rows a Global update visits.
        var rows: any EmbeddingRows {
            switch self {
            case .hash(let table): table
            case .oneHot(let index): index
            }
        }
    }

    /// A hash embedding of `capacity` rows.
    public convenience init(name: String, vecSize: Int, slots: Int, combiner: Combiner, capacity: Int, maxBatch: Int,
                            maxKeysPerSample: Int, optimizer: SparseOptimizer, initialValues: InitialValues,
                            seed: UInt64, backend: any Backend, recordsSlots: Bool = false) {
        self.init(name: name, vecSize: vecSize, slots: slots, combiner: combiner,
                  keyMap: .hash(HashTable(capacity: capacity, backend: backend)), maxBatch: maxBatch,
                  maxKeysPerSample: maxKeysPerSample, optimizer: optimizer, initialValues: initialValues, seed: seed,
                  backend: backend, recordsSlots: recordsSlots)
    }

    init(name: String, vecSize: Int, slots: Int, combiner: Combiner, keyMap: KeyMap, maxBatch: Int,
         maxKeysPerSample: Int, optimizer: SparseOptimizer, initialValues: InitialValues, seed: UInt64,
         backend: any Backend, recordsSlots: Bool = false) {
        self.name = name
        self.vecSize = vecSize
        self.slots = slots
        self.combiner = combiner
        self.keyMap = keyMap
        let capacity = keyMap.rows.capacity
        self.capacity = capacity
        self.maxBatch = maxBatch
        self.optimizer = optimizer
        self.backend = backend
        maxKeys = maxBatch * maxKeysPerSample
        values = backend.makeTensor([capacity, vecSize], .float32)
        output = backend.makeTensor([maxBatch, slots, vecSize], .float32)
        outputGrad = backend.makeTensor([maxBatch, slots, vecSize], .float32)
        keys = backend.makeTensor([max(maxKeys, 1)], .int64)
        offsets = backend.makeTensor([maxBatch * slots + 1], .int64)
        rows = backend.makeTensor([max(maxKeys, 1)], .int64)
        uniqueRows = backend.makeTensor([max(maxKeys, 1)], .int64)
        uniqueGrads = backend.makeTensor([max(maxKeys, 1), vecSize], .float32)
        uniqueCount = backend.makeTensor([1], .int64)
        rowSlot = backend.makeTensor([capacity], .int64)
        backend.fill(rowSlot, int64: -1)
        keySlots = recordsSlots ? backend.makeTensor([capacity], .int64) : nil
        states = (0..<optimizer.stateCount).map { i in
            i == 2 ? backend.makeTensor([capacity], .int64) : backend.makeTensor([capacity, vecSize], .float32)
        }
        if optimizer.initialState != 0 {
            for state in states { backend.fill(state, optimizer.initialState) }
        }
        initialize(initialValues, seed: seed)
    }

    private func initialize(_ initial: InitialValues, seed: UInt64) {
        backend.upload(Self.initialRows(initial, rows: 0..<capacity, vecSize: vecSize, name: name, seed: seed), to: values)
    }

    /// The starting values of `rows` of the table of embedding `name`: element k of row r is draw
    /// `r·vecSize + k` of the embedding's stream, so any rows can be drawn alone (a sharded
    /// embedding gives each new key the row it would have had on one worker). `.perSlot` rows
    /// past the slots' total stay 0.
    package static func initialRows(_ initial: InitialValues, rows: Range<Int>, vecSize: Int, name: String,
                                    seed: UInt64) -> [Float] {
        let stream = CounterRNG.stream(named: "embedding/" + name)
        var rng = CounterRNG(seed: seed, stream: stream, counter: UInt64(rows.lowerBound * vecSize))
        var host = [Float](repeating: 0, count: rows.count * vecSize)
        switch initial {
        case .uniform(let a):
            for i in host.indices { host[i] = Float(rng.nextUniform(-Double(a), Double(a))) }
        case .perSlot(let sizes):
            var end = 0, slot = -1
            for row in rows {
                while row >= end && slot + 1 < sizes.count {
                    slot += 1
                    end += sizes[slot]
                }
                guard row < end else { break }
                let a = (1 / Double(sizes[slot])).squareRoot()
                for k in 0..<vecSize { host[(row - rows.lowerBound) * vecSize + k] = Float(rng.nextUniform(-a, a)) }
            }
        }
        return host
    }

    /// Keys in use (asks the backend, which may wait for the device); every row for a one-hot map.
    public var size: Int {
        switch keyMap {
        case .hash(let table): backend.hashTableState(table).size
        case .oneHot(let index): index.size
        }
    }

    /// Looks up (training: inserts) the batch's keys and pools them into `output`.
    /// `offsets` has `batch·slots + 1` entries, sample-major.
    public func forward(keys hostKeys: [Int64], offsets hostOffsets: [Int64], batch: Int, training: Bool,
                        oneHot: Bool = false) throws {
        try stage(keys: hostKeys, offsets: hostOffsets, batch: batch, oneHot: oneHot)
        try lookup(training: training)
    }

    /// The first half of `forward`: checks the batch's keys and offsets and uploads them.
    /// `offsetsChecked` (offsets a reader built from counts it checked) skips the scan of the
    /// offsets, which would otherwise cost the host a pass over them each step.
    public func stage(keys hostKeys: [Int64], offsets hostOffsets: [Int64], batch: Int, oneHot: Bool = false,
                      offsetsChecked: Bool = false) throws {
        try stage(keys: HostArray(hostKeys), offsets: HostArray(hostOffsets), batch: batch, oneHot: oneHot,
                  offsetsChecked: offsetsChecked)
    }

    /// `stage` of a batch's own arrays: a reader filled them from the backend's `hostBufferPool`,
    /// so a GPU uploads them without another copy.
    public func stage(keys hostKeys: HostArray<Int64>, offsets hostOffsets: HostArray<Int64>, batch: Int, oneHot: Bool = false,
                      offsetsChecked: Bool = false) throws {
        try Self.checkBatch(name: name, slots: slots, maxBatch: maxBatch, maxKeys: maxKeys, keyCount: hostKeys.count,
                            offsets: hostOffsets, batch: batch, oneHot: oneHot || offsetsChecked)
        self.batch = batch
        keyCount = hostKeys.count
        backend.upload(hostKeys, to: keys)
        if oneHot {
            if offsetsAreIdentity < hostOffsets.count {
                backend.upload(hostOffsets, to: offsets)
                offsetsAreIdentity = hostOffsets.count
            }
        } else {
            backend.upload(hostOffsets, to: offsets)
            offsetsAreIdentity = 0
        }
    }

    /// Throws unless `offsets` is CSR over `batch × slots` segments (`batch ≤ maxBatch`) of
    /// `keyCount ≤ maxKeys` keys: starting at 0, never decreasing (with `oneHot`, for the identity
    /// and for offsets a reader checked, not scanned), ending at `keyCount`. The messages name embedding `name`.
    package static func checkBatch<Offsets: RandomAccessCollection<Int64>>(
        name: String, slots: Int, maxBatch: Int, maxKeys: Int, keyCount: Int, offsets hostOffsets: Offsets, batch: Int, oneHot: Bool
    ) throws where Offsets.Index == Int {
        guard hostOffsets.count == batch * slots + 1, batch <= maxBatch else {
            throw SwiftCTRError(.data, "embedding '\(name)': expected \(batch * slots + 1) row offsets for \(batch) samples × \(slots) slots (batch ≤ \(maxBatch)), found \(hostOffsets.count). The data's slot count must match the Input's slot_num.")
        }
        guard keyCount <= maxKeys else {
            throw SwiftCTRError(.data, "embedding '\(name)': a batch of \(batch) samples has \(keyCount) keys but nnz_per_slot allows at most \(maxKeys). Raise nnz_per_slot in DataReaderSparseParam.")
        }
        var previous: Int64 = oneHot ? hostOffsets[hostOffsets.count - 1] : 0
        if !oneHot {
            for (i, offset) in hostOffsets.enumerated() {
                guard offset >= previous, i > 0 || offset == 0 else {
                    throw SwiftCTRError(.data, "embedding '\(name)': row offsets must start at 0 and never decrease, found \(offset) at position \(i) after \(previous).")
                }
                previous = offset
            }
        }
        guard previous == Int64(keyCount) else {
            throw SwiftCTRError(.data, "embedding '\(name)': the last row offset must equal the \(keyCount) keys of the batch, found \(previous).")
        }
    }

    /// The second half of `forward`: the keys' rows (hash lookup, in training with insertion; or the
    /// one-hot range check) and pooling of the staged keys.
    public func lookup(training: Bool) throws {
        try findRows(training: training)
        pool()
    }

    /// The staged keys' rows: a hash lookup (in training with insertion, each Localized key's
    /// slot noted) or the one-hot range check.
    package func findRows(training: Bool) throws {
        var failed: Bool
        switch keyMap {
        case .hash(let table):
            failed = !backend.hashLookup(table, keys: keys, count: keyCount, rows: rows, insert: training)
        case .oneHot(let index):
            failed = !backend.oneHotLookup(index, keys: keys, offsets: offsets, segments: batch * slots, rows: rows)
        }
        lookupsSinceCheck += training ? 1 : Self.overflowCheckInterval
        if !failed && lookupsSinceCheck >= Self.overflowCheckInterval {
            lookupsSinceCheck = 0
            switch keyMap {
            case .hash(let table): failed = backend.hashTableState(table).overflowed
            case .oneHot(let index): failed = index.failure(backend) != nil
            }
        }
        if failed { throw lookupError() }
        if training, let keySlots {
            backend.recordKeySlots(rows: rows, offsets: offsets, segments: batch * slots, slots: slots, into: keySlots)
        }
    }

    /// Pools the rows `findRows` found into `output`.
    package func pool() {
        backend.embeddingPool(values: values, rows: rows, offsets: offsets, segments: batch * slots, vec: vecSize,
                              mean: combiner == .mean, into: output)
    }

    /// Why the keys found no rows: the hash table is full, or (one-hot) a key lies outside its
    /// slot's range, which is then forgotten so that later batches can run.
    private func lookupError() -> SwiftCTRError {
        switch keyMap {
        case .hash:
            return SwiftCTRError(.capacity, "embedding '\(name)': more than \(capacity) distinct keys were seen, the table's capacity. Raise workspace_size_per_gpu_in_mb (each MB holds \(rowsPerMB) rows of vector size \(vecSize) with this optimizer) or give slot_size_array with the true cardinalities.")
        case .oneHot(let index):
            let (key, slot) = index.failure(backend) ?? (0, 0)
            index.clearFailure(backend)
            return SwiftCTRError(.data, "embedding '\(name)' (LocalizedSlotSparseEmbeddingOneHot): key \(key) of slot \(slot) is outside the slot's range \(index.bounds[slot])..<\(index.bounds[slot + 1]) (slot_size_array[\(slot)] = \(index.slotSizes[slot]), offset by the sizes of the slots before it). Give keys already offset per slot, as HugeCTR's Raw and Criteo data hold them, or correct slot_size_array.")
        }
    }

    /// Rows one MB of workspace holds: value plus optimizer states, fp32.
    public var rowsPerMB: Int { (1 << 20) / ((1 + optimizer.stateCount) * 4 * vecSize) }

    /// Sums `outputGrad` into one gradient per touched row.
    public func backward() {
        backend.embeddingGradients(dout: outputGrad, rows: rows, offsets: offsets, segments: batch * slots,
                                   slots: slots, keyCount: keyCount, vec: vecSize, mean: combiner == .mean, uniqueRows: uniqueRows,
                                   uniqueGrads: uniqueGrads, uniqueCount: uniqueCount, rowSlot: rowSlot)
    }

    /// Applies the sparse optimizer with learning rate `lr` (gradients divided by `scaler`).
    public func update(lr: Float, scaler: Float) {
        step += 1
        backend.sparseUpdate(optimizer.update(lr: lr, step: step, gradScale: 1 / scaler), values: values, states: states,
                             uniqueRows: uniqueRows, uniqueGrads: uniqueGrads, uniqueCount: uniqueCount,
                             maxCount: keyCount, rowSlot: rowSlot, table: keyMap.rows, vec: vecSize)
        backend.clearRowSlots(rowSlot, uniqueRows: uniqueRows, uniqueCount: uniqueCount, maxCount: keyCount)
    }

    /// Sets the update counter (Adam's t after the last update), e.g. when resuming a snapshot.
    package func restore(step: Int) {
        self.step = step
    }

    /// The vector of `key`, or nil when the key was never inserted (one-hot: is no row).
    public func vector(for key: Int64) -> [Float]? {
        let row: Int64
        switch keyMap {
        case .hash(let table):
            let k = backend.makeTensor([1], .int64), r = backend.makeTensor([1], .int64)
            backend.upload([key], to: k)
            _ = backend.hashLookup(table, keys: k, count: 1, rows: r, insert: false)
            row = backend.int64s(r)[0]
        case .oneHot:
            row = key < Int64(capacity) ? key : -1
        }
        guard row >= 0 else { return nil }
        return Array(backend.floats(values, count: (Int(row) + 1) * vecSize)[(Int(row) * vecSize)...])
    }
}
