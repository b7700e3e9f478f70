/// Sparse embeddings: hash tables (or one-hot indices) from keys to rows, pooling, per-row
/// gradients and sparse optimizer updates.
public protocol EmbeddingKernels: AnyObject, Sendable {
    /// Looks up (and in training inserts) `count` keys, writing each key's row (or -1 when absent
    /// and `insert` is false). Returns false when the backend already knows that inserting exceeded
    /// `table.capacity` (the CPU backend knows at once; a GPU backend reports it through
    /// `hashTableState`, and its lookup then gives -1 for keys that did not fit).
    func hashLookup(_ table: HashTable, keys: Tensor, count: Int, rows: Tensor, insert: Bool) -> Bool
    /// Keys in use and whether an insertion overflowed; also refreshes `table.size`. Waits for the
    /// device.
    func hashTableState(_ table: HashTable) -> (size: Int, overflowed: Bool)
    /// One-hot lookup of the keys of `segments` (sample, slot) segments given by CSR `offsets`: a
    /// key of segment g belongs to slot `g % index.slotSizes.count` and is its own row when it lies
    /// in `index.bounds[slot] ..< index.bounds[slot + 1]`; otherwise its row is -1 and the key and
    /// slot are recorded in `index.state` (if none is yet). Returns false when the backend already
    /// knows a key was out of range (the CPU backend knows at once; a GPU backend reports it
    /// through `index.state`). Cost: 16 bytes read and 8 written per key.
    func oneHotLookup(_ index: OneHotIndex, keys: Tensor, offsets: Tensor, segments: Int, rows: Tensor) -> Bool
    /// Pools rows into `out[r, :]` for `segments` (sample, slot) segments given by CSR `offsets`:
    /// sum, or mean when `mean` and a segment has more than one key. Rows of -1 add nothing.
    func embeddingPool(values: Tensor, rows: Tensor, offsets: Tensor, segments: Int, vec: Int,
                       mean: Bool, into out: Tensor)
    /// Sums the per-occurrence gradients of each distinct row of the `keyCount` keys: fills
    /// `uniqueRows[0..<u]`, `uniqueGrads[0..<u, :]`, `uniqueCount[0] = u` (int64), and sets
    /// `rowSlot[row] = j` for the row's index j in that list. `rowSlot` must be all -1 on entry;
    /// `clearRowSlots` restores it. `slots` is the segments per sample (segment g is slot g % slots
    /// of sample g / slots), so that a backend may visit one slot's segments together.
    func embeddingGradients(dout: Tensor, rows: Tensor, offsets: Tensor, segments: Int, slots: Int, keyCount: Int, vec: Int,
                            mean: Bool, uniqueRows: Tensor, uniqueGrads: Tensor, uniqueCount: Tensor, rowSlot: Tensor)
    /// `rowSlot[uniqueRows[j]] = -1` for j < `uniqueCount[0]` (at most `maxCount`).
    func clearRowSlots(_ rowSlot: Tensor, uniqueRows: Tensor, uniqueCount: Tensor, maxCount: Int)
    /// Sparse update of the `uniqueCount[0]` (≤ `maxCount`) rows in `uniqueRows` (Local), or of
    /// every row in use in `table` with untouched rows seeing a zero gradient (Global Adam,
    /// MomentumSGD and Nesterov, through `rowSlot`), or the catch-up LazyGlobal form using the
    /// per-row `lastStep`. See `SparseUpdate`.
    func sparseUpdate(_ update: SparseUpdate, values: Tensor, states: [Tensor], uniqueRows: Tensor,
                      uniqueGrads: Tensor, uniqueCount: Tensor, maxCount: Int, rowSlot: Tensor, table: any EmbeddingRows,
                      vec: Int)
    /// Notes the slot of every looked-up key: `keySlots[rows[j]] = g % slots` for each key j of
    /// segment g (rows of -1 skipped), so that a Localized embedding can save each key's
    /// `slot_id`. Cost: 16 bytes read and 8 written per key.
    func recordKeySlots(rows: Tensor, offsets: Tensor, segments: Int, slots: Int, into keySlots: Tensor)
    /// Whether `sparseUpdate` runs `SparseUpdate.ftrl` (false unless a backend says so; model
    /// building refuses an Ftrl embedding on a backend without it).
    var hasSparseFtrl: Bool { get }
}

extension EmbeddingKernels {
    public var hasSparseFtrl: Bool { false }
}

/// What a sparse optimizer step does, with its hyper-parameters already resolved for this step.
public enum SparseUpdate: Sendable {
    /// `w −= lr·g`.
    case sgd(lr: Float, gradScale: Float)
    /// Adam on touched rows only. states = [m, v].
    case adamLocal(lr: Float, beta1: Float, beta2: Float, epsilon: Float, step: Int, gradScale: Float)
    /// Adam on every used row; untouched rows take a zero gradient. states = [m, v].
    case adamGlobal(lr: Float, beta1: Float, beta2: Float, epsilon: Float, step: Int, gradScale: Float)
    /// Adam with the skipped zero-gradient steps applied at the next touch. states = [m, v, lastStep].
    case adamLazyGlobal(lr: Float, beta1: Float, beta2: Float, epsilon: Float, step: Int, gradScale: Float)
    /// AdaGrad on touched rows (HugeCTR's Global is the same): `a += g²; w −= lr·g/(ε + √a)`.
    /// states = [accum].
    case adaGrad(lr: Float, epsilon: Float, gradScale: Float)
    /// MomentumSGD on touched rows: `m = f·m − lr·g; w += m`. states = [momentum].
    case momentumLocal(lr: Float, factor: Float, gradScale: Float)
    /// MomentumSGD on every used row, untouched ones with g = 0 (`m = f·m; w += m`). states = [momentum].
    case momentumGlobal(lr: Float, factor: Float, gradScale: Float)
    /// Nesterov on touched rows: `m′ = μ·m − lr·g; w += −μ·m + (1+μ)·m′; m = m′`. states = [accum].
    case nesterovLocal(lr: Float, mu: Float, gradScale: Float)
    /// Nesterov on every used row in HugeCTR's two passes: `m = μ·m; w += μ·m`, then on touched rows
    /// `m −= lr·g; w −= (1+μ)·lr·g`. states = [accum].
    case nesterovGlobal(lr: Float, mu: Float, gradScale: Float)
    /// Ftrl on touched rows, element by element the dense formula (`e = FLT_EPSILON`):
    /// `n′ = n + g²; z += g + (√(n+e) − √(n′+e))·w/lr; w = |z| > λ1 ? (λ1·sign(z) − z)/(√(n′+e)/lr + λ2 + β/lr) : 0`;
    /// lr 0 changes nothing. states = [n, z]. HugeCTR's hash embeddings have no Ftrl (its
    /// embedding collection has); only backends whose `hasSparseFtrl` is true run it.
    case ftrl(lr: Float, beta: Float, lambda1: Float, lambda2: Float, gradScale: Float)
}
