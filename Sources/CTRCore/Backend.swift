#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The kernel contract. Layers, embeddings and optimizers are written once against it; each
/// backend (CPU, CUDA) implements every method. Tensors are row-major; counts are element counts.
/// A method may be as coarse as a whole layer step, so that a GPU backend can fuse.
public protocol Backend: AnyObject, Sendable {
    /// Human-readable device name, e.g. "CPU (2 threads, OpenBLAS)".
    var name: String { get }

    // MARK: memory

    /// A zero-filled tensor in this backend's memory.
    func makeTensor(_ shape: Shape, _ dtype: DType) -> Tensor
    /// Copies `bytes` from host memory into `tensor` starting at element 0.
    func upload(_ bytes: UnsafeRawBufferPointer, to tensor: Tensor)
    /// Copies the first `bytes.count` bytes of `tensor` into host memory.
    func download(_ tensor: Tensor, into bytes: UnsafeMutableRawBufferPointer)
    func fill(_ tensor: Tensor, _ value: Float)
    func fill(_ tensor: Tensor, int64 value: Int64)
    /// `dst[i] = src[i]` for the first `src.count` elements.
    func copy(_ src: Tensor, to dst: Tensor)
    /// Waits until every queued kernel finished.
    func synchronize()
    /// Throws the first error a kernel, copy or allocation hit since the last check (a GPU backend
    /// reports asynchronously; the CPU backend never fails here). The model checks after compile
    /// and after every step.
    func check() throws
    /// GEMM operand rows whose width is a multiple of this run at full speed; layers pad to it.
    var gemmAlignment: Int { get }
    /// Runs `body`, work that queues the same operations on the same tensors every time `owner`
    /// runs it with the same `key` (scalars such as seeds and learning rates aside). A GPU backend
    /// runs the first call normally, captures the second as a graph and replays it from then on,
    /// so the host only collects the new scalars. `body` must therefore only queue work: it may not
    /// read device memory back or branch on it. Other backends just run `body`.
    func repeated(owner: AnyObject, key: Int, _ body: () throws -> Void) rethrows
    /// Drops what `repeated` kept for `owner` (call before its tensors are freed).
    func discardRepeated(owner: AnyObject)
    /// Notes the point the queued work has reached, for profiling; `markedSpans()` turns the marks
    /// into seconds between each mark and the next (a GPU backend records events and does not wait).
    func mark(_ label: String)
    /// Waits for the queued work, then returns and forgets the spans between successive marks.
    func markedSpans() -> [(label: String, seconds: Double)]

    // MARK: dense math

    /// `C = alpha·op(A)·op(B) + beta·C` with `op(A)` m×k and `op(B)` k×n, all row-major.
    /// Cost: 2·m·n·k FLOPs.
    func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
              alpha: Float, a: Tensor, b: Tensor, beta: Float, c: Tensor)
    /// `y[r, c] += bias[c]` over a rows×cols matrix.
    func addBias(_ y: Tensor, bias: Tensor, rows: Int, cols: Int)
    /// `out[c] (+)= Σ_r x[r, c]`.
    func sumRows(_ x: Tensor, rows: Int, cols: Int, into out: Tensor, accumulate: Bool)
    /// `y += alpha·x` over `count` elements.
    func axpy(_ alpha: Float, _ x: Tensor, _ y: Tensor, count: Int)
    /// `out = Σ inputs` element-wise over `count` elements.
    func sum(_ inputs: [Tensor], into out: Tensor, count: Int)
    /// Copies a rows×width block from columns `srcStart…` of a rows×srcWidth matrix into columns
    /// `dstStart…` of a rows×dstWidth matrix, adding when `accumulate`.
    func copyColumns(_ src: Tensor, srcWidth: Int, srcStart: Int,
                     into dst: Tensor, dstWidth: Int, dstStart: Int,
                     rows: Int, width: Int, accumulate: Bool)
    /// `y[o, 0, i] = Σ_a x[o, a, i]` for an outer×axis×inner tensor.
    func reduceSum(_ x: Tensor, outer: Int, axis: Int, inner: Int, into y: Tensor)
    /// `dx[o, a, i] = dy[o, 0, i]`.
    func reduceSumBackward(_ dy: Tensor, outer: Int, axis: Int, inner: Int, into dx: Tensor)

    // MARK: metrics

    /// Adds `count` predictions in [0, 1] to an AUC histogram (`AUCHistogram.count` float64
    /// values, zero to start): each prediction lands in the bin of its top float bits with weight
    /// `label` on the positive side and `1 − label` on the negative side (labels `labelStride` apart).
    func aucAccumulate(predictions: Tensor, labels: Tensor, labelStride: Int, count: Int, histogram: Tensor)
    /// The AUC of everything accumulated (NaN without positives or negatives, or after a NaN
    /// prediction); zeroes the histogram.
    func aucFromHistogram(_ histogram: Tensor) -> Double

    // MARK: activations

    func relu(_ x: Tensor, into y: Tensor, count: Int)
    /// `dx = x > 0 ? dy : 0`.
    func reluBackward(_ x: Tensor, _ dy: Tensor, into dx: Tensor, count: Int)
    func sigmoid(_ x: Tensor, into y: Tensor, count: Int)
    /// `dx = dy·y·(1−y)` from the forward output `y`.
    func sigmoidBackward(_ y: Tensor, _ dy: Tensor, into dx: Tensor, count: Int)
    /// Training dropout: `mask[i] ∈ {0, 1/(1−rate)}` drawn from `(seed, stream)`; `y = x·mask`.
    func dropout(_ x: Tensor, into y: Tensor, mask: Tensor, count: Int, rate: Float, seed: UInt64, stream: UInt64)
    /// Bias, ReLU and training dropout in one pass over rows of `width`:
    /// `y = max(x + bias, 0)·m` (no bias when nil) with the mask `m` that `dropout` draws for the
    /// same `(seed, stream)`; no mask is stored. Rate 0 keeps every element.
    func reluDropout(_ x: Tensor, bias: Tensor?, width: Int, into y: Tensor, count: Int, rate: Float, seed: UInt64,
                     stream: UInt64)
    /// Its backward: `dx = x + bias > 0 ? dy·m : 0`, the mask drawn again.
    func reluDropoutBackward(_ x: Tensor, bias: Tensor?, width: Int, _ dy: Tensor, into dx: Tensor, count: Int, rate: Float,
                             seed: UInt64, stream: UInt64)
    /// `out = a ⊙ b`.
    func multiply(_ a: Tensor, _ b: Tensor, into out: Tensor, count: Int)

    // MARK: fused layers

    /// `out[r] = ⟨a[r, :], b[r, :]⟩` for each of `rows` rows of width `width`. Cost: 2·rows·width FLOPs.
    func rowDot(_ a: Tensor, _ b: Tensor, rows: Int, width: Int, into out: Tensor)
    /// `out[r, :] = x[r, :]·scales[r·stride + offset] + bias` (no bias when nil).
    func scaleRows(_ x: Tensor, scales: Tensor, stride: Int, offset: Int, bias: Tensor?, rows: Int, width: Int,
                   into out: Tensor)
    /// `dst[r, :] += scales[r]·src[r, :]`.
    func addScaledRows(_ src: Tensor, scales: Tensor, rows: Int, width: Int, into dst: Tensor)
    /// `out[0, :] = 0; out[l+1, :] = out[l, :] + x[l, :]` over `rows` rows.
    func prefixSumRows(_ x: Tensor, rows: Int, width: Int, into out: Tensor)
    /// The scalar recursion of a DCN-v1 cross network per row (see `MultiCross`):
    /// `H[r, 0] = 1; H[r, l+1] = H[r, l]·(1 + d[r, l]) + c[l]` for l < layers; H is rows×(layers+1).
    func crossScalars(d: Tensor, c: Tensor, rows: Int, layers: Int, into h: Tensor)
    /// Its backward from `s[r] = dL/dH[r, layers]`: for l = layers−1 … 0, with `a = dL/dH[r, l+1]`:
    /// `e[r, l] = a·H[r, l]` (dL/dd), `upstream[r, l] = a` (dL/dc), then `a ← a·(1 + d[r, l])`.
    func crossScalarsBackward(d: Tensor, h: Tensor, s: Tensor, rows: Int, layers: Int, e: Tensor, upstream: Tensor)
    /// `db[j, k] = g[k] + Σ_{l>j} c[l]·w[l, k]` for j < layers (the cross biases' gradients).
    func crossBiasGradients(g: Tensor, c: Tensor, weights: Tensor, layers: Int, width: Int, into db: Tensor)
    /// MultiCross's input gradient: `dx[r, :] = g[r, :]·h[r·(layers+1) + layers] + Σ_l e[r, l]·w[l, :]`
    /// (`scaleRows` and a GEMM, in one pass on a GPU).
    func crossInputGradient(g: Tensor, h: Tensor, e: Tensor, weights: Tensor, rows: Int, layers: Int, width: Int,
                            into dx: Tensor)
    /// DLRM dot interaction: `x0` batch×w, `emb` batch×F×w, `y` batch×(w + n(n−1)/2 + 1), n = F+1.
    func interaction(x0: Tensor, emb: Tensor, into y: Tensor, batch: Int, features: Int, width: Int)
    func interactionBackward(x0: Tensor, emb: Tensor, dy: Tensor, dx0: Tensor, demb: Tensor,
                             batch: Int, features: Int, width: Int)
    /// Mean sigmoid cross-entropy over the first `count` rows into `loss[0]`; writes
    /// `grad[i] = (σ(x_i) − y_i)·gradScale` (0 for rows ≥ count up to `rows`). Nothing waits for
    /// the device: read `loss` when the value is needed.
    func binaryCrossEntropy(logits: Tensor, labels: Tensor, grad: Tensor, count: Int, rows: Int, gradScale: Float, loss: Tensor)

    // MARK: dense optimizers

    /// Adam on `count` elements with `g = grad·gradScale`; `step` is t ≥ 1.
    func adam(weight: Tensor, grad: Tensor, m: Tensor, v: Tensor, count: Int, lr: Float,
              beta1: Float, beta2: Float, epsilon: Float, step: Int, gradScale: Float)
    /// `w −= lr·grad·gradScale`.
    func sgd(weight: Tensor, grad: Tensor, count: Int, lr: Float, gradScale: Float)

    // MARK: embeddings

    /// Looks up (and in training inserts) `count` keys, writing each key's row (or -1 when absent
    /// and `insert` is false). Returns false when the backend already knows that inserting exceeded
    /// `table.capacity` (the CPU backend knows at once; a GPU backend reports it through
    /// `hashTableState`, and its lookup then gives -1 for keys that did not fit).
    func hashLookup(_ table: HashTable, keys: Tensor, count: Int, rows: Tensor, insert: Bool) -> Bool
    /// Keys in use and whether an insertion overflowed; also refreshes `table.size`. Waits for the
    /// device.
    func hashTableState(_ table: HashTable) -> (size: Int, overflowed: Bool)
    /// Pools rows into `out[r, :]` for `segments` (sample, slot) segments given by CSR `offsets`:
    /// sum, or mean when `mean` and a segment has more than one key. Rows of -1 add nothing.
    func embeddingPool(values: Tensor, rows: Tensor, offsets: Tensor, segments: Int, vec: Int,
                       mean: Bool, into out: Tensor)
    /// Sums the per-occurrence gradients of each distinct row of the `keyCount` keys: fills
    /// `uniqueRows[0..<u]`, `uniqueGrads[0..<u, :]`, `uniqueCount[0] = u` (int64), and sets
    /// `rowSlot[row] = j` for the row's index j in that list. `rowSlot` must be all -1 on entry;
    /// `clearRowSlots` restores it.
    func embeddingGradients(dout: Tensor, rows: Tensor, offsets: Tensor, segments: Int, keyCount: Int, vec: Int,
                            mean: Bool, uniqueRows: Tensor, uniqueGrads: Tensor, uniqueCount: Tensor, rowSlot: Tensor)
    /// `rowSlot[uniqueRows[j]] = -1` for j < `uniqueCount[0]` (at most `maxCount`).
    func clearRowSlots(_ rowSlot: Tensor, uniqueRows: Tensor, uniqueCount: Tensor, maxCount: Int)
    /// Sparse update of the `uniqueCount[0]` (≤ `maxCount`) rows in `uniqueRows` (Local), or of
    /// every row in use in `table` with untouched rows seeing a zero gradient (Global, through
    /// `rowSlot`), or the catch-up LazyGlobal form using the per-row `lastStep`. See `SparseUpdate`.
    func sparseUpdate(_ update: SparseUpdate, values: Tensor, states: [Tensor], uniqueRows: Tensor,
                      uniqueGrads: Tensor, uniqueCount: Tensor, maxCount: Int, rowSlot: Tensor, table: HashTable,
                      vec: Int)
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
}

extension Backend {
    public func check() throws {}
    public var gemmAlignment: Int { 1 }
    public func repeated(owner: AnyObject, key: Int, _ body: () throws -> Void) rethrows { try body() }

    public func crossInputGradient(g: Tensor, h: Tensor, e: Tensor, weights: Tensor, rows: Int, layers: Int, width: Int,
                                   into dx: Tensor) {
        scaleRows(g, scales: h, stride: layers + 1, offset: layers, bias: nil, rows: rows, width: width, into: dx)
        gemm(transA: false, transB: false, m: rows, n: width, k: layers, alpha: 1, a: e, b: weights, beta: 1, c: dx)
    }
    public func discardRepeated(owner: AnyObject) {}

    public func upload(_ values: [Float], to tensor: Tensor) {
        precondition(values.count <= tensor.count)
        values.withUnsafeBytes { upload($0, to: tensor) }
    }

    public func upload(_ values: [Int64], to tensor: Tensor) {
        precondition(values.count <= tensor.count)
        values.withUnsafeBytes { upload($0, to: tensor) }
    }

    /// The tensor (or its first `count` elements) as host floats.
    public func floats(_ tensor: Tensor, count: Int? = nil) -> [Float] {
        let n = count ?? tensor.count
        return [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
            download(tensor, into: UnsafeMutableRawBufferPointer(buffer))
            initialized = n
        }
    }

    public func int64s(_ tensor: Tensor, count: Int? = nil) -> [Int64] {
        let n = count ?? tensor.count
        return [Int64](unsafeUninitializedCapacity: n) { buffer, initialized in
            download(tensor, into: UnsafeMutableRawBufferPointer(buffer))
            initialized = n
        }
    }

    /// A tensor holding `values`.
    public func tensor(_ values: [Float], _ shape: Shape) -> Tensor {
        let t = makeTensor(shape, .float32)
        upload(values, to: t)
        return t
    }
}

/// Adam's bias-corrected step size `lr·√(1−β2^t)/(1−β1^t)` for step `t ≥ 1`, shared by every
/// backend so that they agree to the last bit.
public func adamAlpha(lr: Float, beta1: Float, beta2: Float, step: Int) -> Float {
    let t = Double(step)
    return Float(Double(lr) * (1 - pow(Double(beta2), t)).squareRoot() / (1 - pow(Double(beta1), t)))
}

/// Dropout compares a 16-bit random draw with this: the element is dropped when draw < threshold.
public func dropoutThreshold(_ rate: Float) -> UInt64 {
    UInt64((Double(rate) * 65_536).rounded())
}

extension Duration {
    /// The duration in seconds, as a Double.
    public var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
