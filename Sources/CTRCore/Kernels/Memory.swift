/// Memory and the work queue: tensors, copies between host and backend, fills, synchronization,
/// error checks, repeated (graph-replayed) work and profiling marks.
public protocol MemoryKernels: AnyObject, Sendable {
    /// Human-readable device name, e.g. "CPU (2 threads, OpenBLAS)".
    var name: String { get }
    /// Whether kernels compute on 16-bit (bf16/fp16) tensors, so that a model may use mixed
    /// precision. A backend without it stores 16-bit tensors but computes in fp32 only.
    var supportsMixedPrecision: Bool { get }

    /// A zero-filled tensor in this backend's memory.
    func makeTensor(_ shape: Shape, _ dtype: DType) -> Tensor
    /// Copies `bytes` from host memory into `tensor` starting at element 0.
    func upload(_ bytes: UnsafeRawBufferPointer, to tensor: Tensor)
    /// Copies the first `bytes` bytes of `buffer` into `tensor`; a backend reads a buffer from its
    /// own `hostBufferPool` directly (keeping it alive until the copy ran), others as any bytes.
    func upload(_ buffer: HostBuffer, bytes: Int, to tensor: Tensor)
    /// Where readers should take batch buffers from so that uploads need no extra copy (a GPU
    /// backend's pinned memory); nil for plain memory.
    var hostBufferPool: (any HostBufferPool)? { get }
    /// Copies the first `bytes.count` bytes of `tensor` into host memory.
    func download(_ tensor: Tensor, into bytes: UnsafeMutableRawBufferPointer)
    func fill(_ tensor: Tensor, _ value: Float)
    func fill(_ tensor: Tensor, int64 value: Int64)
    /// `dst[i] = src[i]` for the first `src.count` elements.
    func copy(_ src: Tensor, to dst: Tensor)
    /// Copies a rows×width block from columns `srcStart…` of a rows×srcWidth matrix into columns
    /// `dstStart…` of a rows×dstWidth matrix, adding when `accumulate`. Either side may be 16-bit on
    /// a backend that supports mixed precision. Cost: 2·rows·width element moves.
    func copyColumns(_ src: Tensor, srcWidth: Int, srcStart: Int,
                     into dst: Tensor, dstWidth: Int, dstStart: Int,
                     rows: Int, width: Int, accumulate: Bool)
    /// `y[i] = x[i]` for `count` elements, read as `x.dtype` and written as `y.dtype` (each fp32,
    /// bf16 or fp16), rounded on the way to `precision` (to nearest, ties to even): with a 16-bit
    /// `precision` fp32 tensors end up holding values a 16-bit tensor holds exactly. The Cast layer.
    /// Cost: 4–8 bytes moved per element.
    func cast(_ x: Tensor, into y: Tensor, count: Int, precision: DType)
    /// Waits until every queued kernel finished.
    func synchronize()
    /// Throws the first error a kernel, copy or allocation hit since the last check (a GPU backend
    /// reports asynchronously; the CPU backend never fails here). The model checks after compile
    /// and after every step.
    func check() throws
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
}

extension MemoryKernels {
    public var supportsMixedPrecision: Bool { false }
    public var hostBufferPool: (any HostBufferPool)? { nil }

    public func upload(_ buffer: HostBuffer, bytes: Int, to tensor: Tensor) {
        upload(UnsafeRawBufferPointer(start: buffer.pointer, count: bytes), to: tensor)
    }

    public func upload<T>(_ values: HostArray<T>, to tensor: Tensor) {
        precondition(values.count <= tensor.count)
        upload(values.buffer, bytes: values.count * MemoryLayout<T>.stride, to: tensor)
    }
    public func check() throws {}
    public func repeated(owner: AnyObject, key: Int, _ body: () throws -> Void) rethrows { try body() }
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
