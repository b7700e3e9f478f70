import CTRCore
import Dispatch

/// Device memory of the CUDA backend; returned to the backend's pool when its last tensor goes.
final class DeviceBuffer: DeviceStorage, @unchecked Sendable {
    let address: CUdeviceptr
    let byteCount: Int
    let pool: DevicePool

    init(address: CUdeviceptr, byteCount: Int, pool: DevicePool) {
        self.address = address
        self.byteCount = byteCount
        self.pool = pool
    }

    deinit { pool.release(address, bytes: byteCount) }
}

/// A caching allocator: freed blocks are kept per rounded size and handed out again, so a warm
/// training step never calls `cuMemAlloc`.
final class DevicePool: @unchecked Sendable {
    let device: CUDADevice
    private var free: [Int: [CUdeviceptr]] = [:]
    private(set) var reservedBytes = 0
    /// `cuMemAlloc` calls so far (a warm training step makes none).
    private(set) var driverAllocations = 0

    init(device: CUDADevice) { self.device = device }

    static func rounded(_ bytes: Int) -> Int { max(512, (bytes + 511) & ~511) }

    func acquire(_ bytes: Int) throws(CUDAError) -> CUdeviceptr {
        let size = Self.rounded(bytes)
        if let address = free[size]?.popLast() { return address }
        do {
            let address = try device.allocate(bytes: size)
            reservedBytes += size
            driverAllocations += 1
            return address
        } catch {
            // Give cached blocks back to the driver once, then retry.
            releaseCached()
            let address = try device.allocate(bytes: size)
            reservedBytes += size
            driverAllocations += 1
            return address
        }
    }

    func release(_ address: CUdeviceptr, bytes: Int) {
        guard address != 0 else { return }
        free[Self.rounded(bytes), default: []].append(address)
    }

    func releaseCached() {
        for (size, blocks) in free {
            for block in blocks {
                try? device.free(block)
                reservedBytes -= size
            }
        }
        free.removeAll()
    }
}

/// The CUDA backend: every `Backend` kernel as a CUDA C kernel compiled by NVRTC at first use,
/// GEMMs through cuBLAS, memory from a caching pool. Work is queued in order on one stream;
/// errors are collected and thrown by `check()`.
///
/// ```swift
/// let gpu = try CUDABackend(ordinal: 0)
/// let model = try Model(solver, reader, optimizer, backend: gpu)
/// ```
public final class CUDABackend: Backend, @unchecked Sendable {
    /// How GEMMs compute: plain fp32, fp32 with TF32 tensor cores, or 16-bit operands (bf16 or
    /// fp16) with fp32 accumulation (mixed precision: 16-bit activations where layers store them,
    /// fp32 master weights rounded per GEMM).
    public enum GEMMPrecision: String, Sendable {
        case fp32, tf32, bf16, fp16

        /// The 16-bit operand type of mixed precision.
        public var halfType: DType? { self == .bf16 ? .bfloat16 : self == .fp16 ? .float16 : nil }
    }

    public let device: CUDADevice
    public let blas: CUBLAS
    let pool: DevicePool
    let functions: [String: CUDAFunction]
    /// Every kernel, copy and GEMM is queued in order here.
    let stream: CUDAStream?
    /// Host-to-device copies run here, overlapping the compute stream.
    let copyStream: CUDAStream
    /// Small device scratch; bytes 24..<32 hold the loss sum (double).
    let scratch: CUdeviceptr
    /// Pinned host buffer + device buffer pairs that uploads cycle through.
    private var staging: [StagingSlot] = []
    private var nextSlot = 0
    private var firstError: (any Error)?

    public init(ordinal: Int = 0, loader: any DynamicLibraryLoader = SystemLoader(), cache: KernelCache = .standard) throws {
        device = try CUDADevice(ordinal: ordinal, loader: loader)
        blas = try CUBLAS(device: device, loader: loader)
        let compiler = try KernelCompiler(device: device, loader: loader, cache: cache)
        let module = try compiler.module(source: Kernels.source + Self.normalizationSource, name: "swiftctr_kernels.cu",
                                         options: ["-use_fast_math"])
        var table: [String: CUDAFunction] = [:]
        for name in Kernels.names + Self.normalizationKernelNames { table[name] = try module.function(name) }
        functions = table
        stream = try device.makeStream()
        copyStream = try device.makeStream()
        pool = DevicePool(device: device)
        scratch = try pool.acquire(64)
        try device.memset(scratch, byte: 0, count: 64)
        for _ in 0..<8 {
            staging.append(StagingSlot(copied: try device.makeEvent(timing: false), consumed: try device.makeEvent(timing: false)))
        }
    }

    /// One upload in flight: the host bytes go to pinned memory, then to a device buffer on the
    /// copy stream, then (ordered on the compute stream) into the tensor.
    struct StagingSlot {
        var host: UnsafeMutableRawPointer?
        var device: CUdeviceptr = 0
        var capacity = 0
        let copied: CUDAEvent
        let consumed: CUDAEvent
        var inUse = false
    }

    public var name: String {
        "CUDA \(device.name) (\(device.arch), driver \(device.driverVersionString), \(gemmPrecision.rawValue) GEMM)"
    }

    public var supportsMixedPrecision: Bool { true }

    /// Tensor-core GEMMs need 16-byte aligned rows: 8 elements of bf16, 4 of fp32.
    public var gemmAlignment: Int { 8 }

    /// Device memory the pool holds (in use or cached).
    public var reservedBytes: Int { pool.reservedBytes }
    /// Device allocations (`cuMemAlloc`) made so far; the pool serves a warm step without any.
    public var driverAllocations: Int { pool.driverAllocations }

    public var gemmPrecision = GEMMPrecision.fp32 {
        didSet { record { try blas.setMathMode(gemmPrecision == .tf32 ? .tf32TensorOp : .default) } }
    }

    /// 16-bit copies of fp32 GEMM operands, reused across calls (the stream orders their use).
    private var halfScratch: [(CUdeviceptr, Int)] = [(0, 0), (0, 0)]

    /// The address of `t`'s first `count` elements as `type`: `t` itself, or a converted copy.
    private func operand(_ t: Tensor, as type: DType, count: Int, slot: Int) -> CUdeviceptr {
        guard t.dtype != type else { return address(t) }
        if halfScratch[slot].1 < count {
            pool.release(halfScratch[slot].0, bytes: halfScratch[slot].1 * 2)
            record { halfScratch[slot] = (try pool.acquire(count * 2), count) }
        }
        launch("convert", count, [.pointer(address(t)), code(t.dtype), .pointer(halfScratch[slot].0), code(type),
                                  .int64(Int64(count))])
        return halfScratch[slot].0
    }

    /// A tensor's element type as the kernels' type code (0 fp32, 1 bf16, 2 fp16).
    private func code(_ type: DType) -> KernelArgument {
        switch type {
        case .bfloat16: .int32(1)
        case .float16: .int32(2)
        default: .int32(0)
        }
    }

    /// Runs one driver call, keeping its error for `check()`; while a graph replays, the host only
    /// collects per-step scalars and queues nothing.
    func record(_ body: () throws -> Void) {
        guard graphMode != .replaying else { return }
        do { try body() } catch { if firstError == nil { firstError = error } }
    }

    // MARK: graphs

    private enum GraphMode { case off, capturing, replaying }
    private var graphMode = GraphMode.off
    private enum StepGraph {
        case warm
        case ready(CUDAGraphExec)
        case failed(String)
    }
    private struct GraphKey: Hashable {
        let owner: ObjectIdentifier
        let key: Int
    }
    private var graphs: [GraphKey: StepGraph] = [:]
    /// Scalars that change from step to step (dropout seeds, learning rates), in call order; a
    /// captured kernel reads its scalar from the matching slot of `stepScalarSlots`.
    private var stepScalars: [UInt64] = []
    private lazy var stepScalarSlots = makeTensor([Self.maxStepScalars], .int64)
    private var stepScalarsOverflowed = false
    static let maxStepScalars = 1024

    /// What graph capture did per key, e.g. for `swiftctr bench`: "replaying" or why it fell back.
    public var graphStatus: String {
        graphs.sorted { $0.key.key < $1.key.key }.map { graphKey, graph in
            let key = graphKey.key
            return switch graph {
            case .warm: "\(key): warming up"
            case .ready: "\(key): replaying a captured graph"
            case let .failed(reason): "\(key): not captured (\(reason))"
            }
        }.joined(separator: "; ")
    }

    /// The kernel argument for a per-step scalar: outside graphs a null pointer (the kernel uses
    /// the value argument), inside the address of its slot.
    private func perStep(_ bits: UInt64) -> KernelArgument {
        guard graphMode != .off else { return .pointer(0) }
        guard stepScalars.count < Self.maxStepScalars else {
            stepScalarsOverflowed = true  // the capture is abandoned: a replay would reuse this value
            return .pointer(0)
        }
        stepScalars.append(bits)
        return .pointer(address(stepScalarSlots) + CUdeviceptr(8 * (stepScalars.count - 1)))
    }

    public func discardRepeated(owner: AnyObject) {
        graphs = graphs.filter { $0.key.owner != ObjectIdentifier(owner) }
    }

    public func repeated(owner: AnyObject, key step: Int, _ body: () throws -> Void) rethrows {
        guard graphMode == .off, firstError == nil, let stream else { return try body() }
        let key = GraphKey(owner: ObjectIdentifier(owner), key: step)
        _ = stepScalarSlots
        stepScalars.removeAll(keepingCapacity: true)
        switch graphs[key] {
        case nil:
            graphs[key] = .warm  // the first run sizes scratch buffers and lets cuBLAS pick its kernels
            try body()
        case .failed:
            try body()
        case .warm:
            graphMode = .capturing
            stepScalarsOverflowed = false
            var captured: CUDAGraphExec?
            do {
                captured = try device.capture(on: stream, mode: .threadLocal) {
                    try body()
                    if let error = firstError { throw error }
                    if stepScalarsOverflowed {
                        throw SwiftCTRError(.device, "the step has more than \(Self.maxStepScalars) per-step scalars")
                    }
                }
            } catch {
                graphMode = .off
                firstError = nil
                graphs[key] = .failed("\(error)")
                // Nothing ran: run the step normally. Host-side counters such as the optimizer's
                // step advance twice for this one step.
                return try body()
            }
            graphMode = .off
            graphs[key] = .ready(captured!)
            launchGraph(captured!)
        case let .ready(exec):
            graphMode = .replaying
            defer { graphMode = .off }
            try body()
            graphMode = .off
            launchGraph(exec)
        }
    }

    private func launchGraph(_ exec: CUDAGraphExec) {
        stepScalars.withUnsafeBytes { upload($0, to: stepScalarSlots) }
        record { try exec.launch(on: stream!) }
    }

    public func check() throws {
        if let error = firstError {
            firstError = nil
            throw error
        }
    }

    @inline(__always)
    func address(_ t: Tensor) -> CUdeviceptr {
        guard let buffer = t.storage as? DeviceBuffer else {
            preconditionFailure("a tensor of another backend was passed to the CUDA backend")
        }
        return buffer.address + CUdeviceptr(t.byteOffset)
    }

    /// Launches `kernel` with a grid-stride grid sized for `count` threads.
    func launch(_ kernel: String, _ count: Int, _ arguments: [KernelArgument], block: Int = 256, shared: Int = 0,
                        grid explicitGrid: (Int, Int)? = nil) {
        guard count > 0 || explicitGrid != nil, let function = functions[kernel] else { return }
        let blocks = explicitGrid?.0 ?? min((count + block - 1) / block, device.multiprocessorCount * 32)
        record {
            try device.launch(function, grid: (UInt32(blocks), UInt32(explicitGrid?.1 ?? 1), 1),
                              block: (UInt32(block), 1, 1), sharedBytes: UInt32(shared), stream: stream,
                              arguments: arguments)
        }
    }

    /// Launches a `ROWS_COLS` kernel: thread blocks of 256 spanning up to 256 columns and as many
    /// rows as fit, so narrow rows still fill a block; about 16 blocks per multiprocessor, each
    /// looping over rows.
    private func launchRows(_ kernel: String, rows: Int, width: Int, _ arguments: [KernelArgument]) {
        guard rows > 0, width > 0, let function = functions[kernel] else { return }
        let bx = min(256, (width + 31) / 32 * 32), by = 256 / bx
        let gx = min((width + bx - 1) / bx, 64)
        let gy = min((rows + by - 1) / by, max(1, device.multiprocessorCount * 16 / gx))
        let grid = (UInt32(gx), UInt32(gy), UInt32(1))
        record {
            try device.launch(function, grid: grid, block: (UInt32(bx), UInt32(by), 1), sharedBytes: 0, stream: stream,
                              arguments: arguments)
        }
    }

    // MARK: memory

    public func makeTensor(_ shape: Shape, _ dtype: DType) -> Tensor {
        let bytes = shape.count * dtype.size
        var address: CUdeviceptr = 0
        record {
            address = try pool.acquire(bytes)
            try device.memset(address, byte: 0, count: DevicePool.rounded(bytes), stream: stream)
        }
        return Tensor(shape: shape, dtype: dtype, storage: DeviceBuffer(address: address, byteCount: bytes, pool: pool))
    }

    /// Host time spent copying uploads into pinned memory, for profiles.
    public private(set) var stagingSeconds = 0.0

    /// Returns as soon as `bytes` sit in pinned memory; the copy itself overlaps earlier kernels.
    public func upload(_ bytes: UnsafeRawBufferPointer, to tensor: Tensor) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        let index = nextSlot
        nextSlot = (nextSlot + 1) % staging.count
        record {
            var slot = staging[index]
            if slot.inUse { try slot.consumed.synchronize() }
            if slot.capacity < bytes.count {
                if let host = slot.host { try device.freeHost(host) }
                pool.release(slot.device, bytes: slot.capacity)
                let capacity = max(bytes.count, 1 << 20)
                slot.host = try device.allocateHost(bytes: capacity)
                slot.device = try pool.acquire(capacity)
                slot.capacity = capacity
            }
            let start = ContinuousClock.now
            Self.parallelCopy(to: slot.host!, from: base, bytes: bytes.count)
            stagingSeconds += (ContinuousClock.now - start).inSeconds
            try device.copy(toDevice: slot.device, from: slot.host!, bytes: bytes.count, stream: copyStream)
            try slot.copied.record(on: copyStream)
            try stream!.wait(for: slot.copied)
            try device.copy(toDevice: address(tensor), fromDevice: slot.device, bytes: bytes.count, stream: stream)
            try slot.consumed.record(on: stream)
            slot.inUse = true
            staging[index] = slot
        }
    }

    /// Copies host memory with several threads: one thread moves a few GB/s, and a 64k-sample
    /// DCN batch (17 MB) copied by one thread took longer than the GPU's step.
    static func parallelCopy(to dst: UnsafeMutableRawPointer, from src: UnsafeRawPointer, bytes: Int) {
        let chunk = 1 << 21
        let pieces = min((bytes + chunk - 1) / chunk, 8)
        guard pieces > 1 else { return dst.copyMemory(from: src, byteCount: bytes) }
        let step = (bytes / pieces + 63) & ~63
        let to = Int(bitPattern: dst), from = Int(bitPattern: src)  // addresses cross threads as integers
        DispatchQueue.concurrentPerform(iterations: pieces) { i in
            let start = i * step, count = min(step, bytes - start)
            guard count > 0 else { return }
            UnsafeMutableRawPointer(bitPattern: to + start)!.copyMemory(from: UnsafeRawPointer(bitPattern: from + start)!,
                                                                          byteCount: count)
        }
    }

    public func download(_ tensor: Tensor, into bytes: UnsafeMutableRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        record {
            try device.copy(toHost: base, from: address(tensor), bytes: bytes.count, stream: stream)
            try stream!.synchronize()
        }
    }

    public func fill(_ tensor: Tensor, _ value: Float) {
        record { try device.memset(address(tensor), word: value.bitPattern, count: tensor.count, stream: stream) }
    }

    public func fill(_ tensor: Tensor, int64 value: Int64) {
        launch("fill_i64", tensor.count, [.pointer(address(tensor)), .int64(value), .int64(Int64(tensor.count))])
    }

    public func copy(_ src: Tensor, to dst: Tensor) {
        record { try device.copy(toDevice: address(dst), fromDevice: address(src), bytes: src.byteCount, stream: stream) }
    }

    public func synchronize() {
        record { try stream!.synchronize() }
    }

    /// Profiling marks: timing events recorded on the compute stream, reused from step to step.
    private var markEvents: [CUDAEvent] = []
    private var markLabels: [String] = []

    public func mark(_ label: String) {
        record {
            if markEvents.count == markLabels.count { markEvents.append(try device.makeEvent(timing: true)) }
            try markEvents[markLabels.count].record(on: stream)
            markLabels.append(label)
        }
    }

    public func markedSpans() -> [(label: String, seconds: Double)] {
        defer { markLabels.removeAll(keepingCapacity: true) }
        var spans: [(label: String, seconds: Double)] = []
        record {
            guard let last = markEvents.prefix(markLabels.count).last else { return }
            try last.synchronize()
            for i in 0..<markLabels.count - 1 {
                spans.append((markLabels[i], Double(try markEvents[i + 1].milliseconds(since: markEvents[i])) / 1000))
            }
        }
        return spans
    }

    // MARK: dense math

    public func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                     alpha: Float, a: Tensor, b: Tensor, beta: Float, c: Tensor) {
        if k == 0 {
            if beta == 0 { record { try device.memset(address(c), byte: 0, count: m * n * c.dtype.size, stream: stream) } }
            return
        }
        if alpha == 1, beta == 0 || beta == 1,
           matrixVector(transA: transA, m: m, n: n, k: k, a: a, b: b, accumulate: beta == 1, c: c) {
            return
        }
        // 16-bit operands, or mixed precision on a GEMM big enough for tensor cores: 16-bit inputs
        // (fp32 ones converted), fp32 accumulation, C as stored.
        let stored = [a.dtype, b.dtype, c.dtype].first { $0 != .float32 }
        if let half = stored ?? (min(m, n, k) >= 16 ? gemmPrecision.halfType : nil) {
            let a16 = operand(a, as: half, count: m * k, slot: 0), b16 = operand(b, as: half, count: k * n, slot: 1)
            let type: (DType) -> CUDADataType = { $0 == .bfloat16 ? .bfloat16 : $0 == .float16 ? .float16 : .float32 }
            record {
                try blas.gemmExRowMajor(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a16,
                                        aType: type(half), b: b16, bType: type(half), beta: beta, c: address(c),
                                        cType: type(c.dtype), stream: stream)
            }
            return
        }
        record {
            try blas.sgemmRowMajor(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                                   a: address(a), b: address(b), beta: beta, c: address(c), stream: stream)
        }
    }

    /// `y (+)= X·w`, the forward GEMM of a layer with one output (fp32 weights, any stored input
    /// type), as a warp per row: cuBLAS runs this shape slower. (Its backward shapes, `Xᵀ·dy` and
    /// `dy·wᵀ`, measured faster in cuBLAS than as plain kernels, so they stay there.)
    private func matrixVector(transA: Bool, m: Int, n: Int, k: Int, a: Tensor, b: Tensor, accumulate: Bool,
                              c: Tensor) -> Bool {
        guard n == 1, !transA, b.dtype == .float32, c.dtype == .float32, m >= 1 << 12 else { return false }
        launch("matrix_vector", m * 32, [.pointer(address(a)), code(a.dtype), .pointer(address(b)), .int64(Int64(m)),
                                         .int32(Int32(k)), .pointer(address(c)), .int32(accumulate ? 1 : 0)],
               grid: ((m * 32 + 255) / 256, 1))
        return true
    }

    public func addBias(_ y: Tensor, bias: Tensor, rows: Int, cols: Int) {
        launchRows("add_bias", rows: rows, width: cols, [.pointer(address(y)), .pointer(address(bias)), .int64(Int64(rows)),
                                                         .int32(Int32(cols))])
    }

    private func columnSums(_ x: Tensor, scale: CUdeviceptr, rows: Int, cols: Int, into out: CUdeviceptr) {
        let rowsPerBlock = max(32, (rows + 255) / 256)
        let grid = ((cols + 127) / 128, (rows + rowsPerBlock - 1) / rowsPerBlock)
        guard rows > 0 else { return }
        launch("sum_rows", rows * cols, [.pointer(address(x)), code(x.dtype), .pointer(scale), .int64(Int64(rows)), .int32(Int32(cols)),
                                         .pointer(out), .int32(Int32(rowsPerBlock))], block: 128, grid: grid)
    }

    public func sumRows(_ x: Tensor, rows: Int, cols: Int, into out: Tensor, accumulate: Bool) {
        if !accumulate { record { try device.memset(address(out), byte: 0, count: cols * 4, stream: stream) } }
        columnSums(x, scale: 0, rows: rows, cols: cols, into: address(out))
    }

    public func aucAccumulate(predictions: Tensor, labels: Tensor, labelStride: Int, count: Int, histogram: Tensor) {
        launch("auc_accumulate", count, [.pointer(address(predictions)), .pointer(address(labels)),
                                         .int32(Int32(labelStride)), .int64(Int64(count)), .pointer(address(histogram)),
                                         .int32(Int32(AUCHistogram.bins))])
    }

    public func aucFromHistogram(_ histogram: Tensor) -> Double {
        // Scratch bytes 32..<64 take the four sums.
        launch("auc_area", 1024, [.pointer(address(histogram)), .int32(Int32(AUCHistogram.bins)), .pointer(scratch + 32)],
               block: 1024, grid: (1, 1))
        var sums = [Double](repeating: 0, count: 4)
        record {
            try sums.withUnsafeMutableBytes { try device.copy(toHost: $0.baseAddress!, from: scratch + 32, bytes: 32, stream: stream) }
            try device.memset(address(histogram), byte: 0, count: AUCHistogram.count * 8, stream: stream)
            try stream!.synchronize()
        }
        guard sums[3] == 0, sums[1] > 0, sums[2] > 0 else { return .nan }
        return sums[0] / (sums[1] * sums[2])
    }

    public func axpy(_ alpha: Float, _ x: Tensor, _ y: Tensor, count: Int) {
        launch("axpy", count, [.float(alpha), .pointer(address(x)), .pointer(address(y)), .int64(Int64(count))])
    }

    public func sum(_ inputs: [Tensor], into out: Tensor, count: Int) {
        // Two inputs (an implicit Slice's backward): one pass instead of a copy and an axpy.
        if inputs.count == 2, address(inputs[0]) != address(out), address(inputs[1]) != address(out) {
            return launch("add2", count, [.pointer(address(inputs[0])), .pointer(address(inputs[1])), .pointer(address(out)),
                                          .int64(Int64(count))])
        }
        if address(inputs[0]) != address(out) {
            record { try device.copy(toDevice: address(out), fromDevice: address(inputs[0]), bytes: count * 4, stream: stream) }
        }
        for input in inputs.dropFirst() { axpy(1, input, out, count: count) }
    }

    public func copyColumns(_ src: Tensor, srcWidth: Int, srcStart: Int, into dst: Tensor, dstWidth: Int, dstStart: Int,
                            rows: Int, width: Int, accumulate: Bool) {
        launchRows("copy_columns", rows: rows, width: width, [
            .pointer(address(src)), code(src.dtype), .int32(Int32(srcWidth)), .int32(Int32(srcStart)),
            .pointer(address(dst)), code(dst.dtype), .int32(Int32(dstWidth)), .int32(Int32(dstStart)), .int64(Int64(rows)), .int32(Int32(width)),
            .int32(accumulate ? 1 : 0),
        ])
    }

    public func reduceSum(_ x: Tensor, outer: Int, axis: Int, inner: Int, into y: Tensor) {
        launch("reduce_sum", outer * inner, [.pointer(address(x)), .int64(Int64(outer)), .int32(Int32(axis)),
                                             .int32(Int32(inner)), .pointer(address(y))])
    }

    public func reduceSumBackward(_ dy: Tensor, outer: Int, axis: Int, inner: Int, into dx: Tensor) {
        launch("reduce_sum_backward", outer * axis * inner, [.pointer(address(dy)), .int64(Int64(outer)),
                                                             .int32(Int32(axis)), .int32(Int32(inner)), .pointer(address(dx))])
    }

    // MARK: activations

    public func relu(_ x: Tensor, into y: Tensor, count: Int) {
        launch("relu", count, [.pointer(address(x)), .pointer(address(y)), .int64(Int64(count))])
    }

    public func reluBackward(_ x: Tensor, _ dy: Tensor, into dx: Tensor, count: Int) {
        launch("relu_backward", count, [.pointer(address(x)), .pointer(address(dy)), .pointer(address(dx)), .int64(Int64(count))])
    }

    public func sigmoid(_ x: Tensor, into y: Tensor, count: Int) {
        launch("sigmoid", count, [.pointer(address(x)), .pointer(address(y)), .int64(Int64(count))])
    }

    public func sigmoidBackward(_ y: Tensor, _ dy: Tensor, into dx: Tensor, count: Int) {
        launch("sigmoid_backward", count, [.pointer(address(y)), .pointer(address(dy)), .pointer(address(dx)), .int64(Int64(count))])
    }

    public func dropout(_ x: Tensor, into y: Tensor, mask: Tensor, count: Int, rate: Float, seed: UInt64, stream rngStream: UInt64) {
        launch("dropout", count, [
            .pointer(address(x)), .pointer(address(y)), .pointer(address(mask)), .int64(Int64(count)),
            .float(1 / (1 - rate)), .uint64(dropoutThreshold(rate)), .uint64(seed), perStep(seed), .uint64(rngStream),
        ])
    }

    /// Whether the ReLU+Dropout pair can run four elements per thread: whole groups per row, aligned
    /// vectors, and fewer than 2³² elements.
    private func fourWide(count: Int, width: Int, bias: Tensor?, _ tensors: Tensor...) -> Bool {
        count % 4 == 0 && count < 1 << 32 && (bias == nil || width % 4 == 0)
            && (tensors + (bias.map { [$0] } ?? [])).allSatisfy { address($0) % UInt64(4 * $0.dtype.size) == 0 }
    }

    public func reluDropout(_ x: Tensor, bias: Tensor?, width: Int, into y: Tensor, count: Int, rate: Float, seed: UInt64,
                            stream rngStream: UInt64) {
        let wide = fourWide(count: count, width: width, bias: bias, x, y)
        launch(wide ? "relu_dropout4" : "relu_dropout", wide ? count / 4 : count, [
            .pointer(address(x)), code(x.dtype), .pointer(bias.map(address) ?? 0), .int32(Int32(width)), .pointer(address(y)),
            code(y.dtype), .int64(Int64(wide ? count / 4 : count)), .float(1 / (1 - rate)), .uint64(dropoutThreshold(rate)),
            .uint64(seed), perStep(seed), .uint64(rngStream),
        ])
    }

    public func reluDropoutBackward(_ x: Tensor, bias: Tensor?, width: Int, _ dy: Tensor, into dx: Tensor, count: Int,
                                    rate: Float, seed: UInt64, stream rngStream: UInt64) {
        let wide = fourWide(count: count, width: width, bias: bias, x, dy, dx)
        launch(wide ? "relu_dropout4_backward" : "relu_dropout_backward", wide ? count / 4 : count, [
            .pointer(address(x)), code(x.dtype), .pointer(bias.map(address) ?? 0), .int32(Int32(width)), .pointer(address(dy)),
            code(dy.dtype), .pointer(address(dx)), code(dx.dtype), .int64(Int64(wide ? count / 4 : count)),
            .float(1 / (1 - rate)), .uint64(dropoutThreshold(rate)), .uint64(seed), perStep(seed), .uint64(rngStream),
        ])
    }

    public func multiply(_ a: Tensor, _ b: Tensor, into out: Tensor, count: Int) {
        launch("multiply", count, [.pointer(address(a)), .pointer(address(b)), .pointer(address(out)), .int64(Int64(count))])
    }

    // MARK: fused layers

    public func rowDot(_ a: Tensor, _ b: Tensor, rows: Int, width: Int, into out: Tensor) {
        launch("row_dot", rows * 32, [.pointer(address(a)), .pointer(address(b)), .int64(Int64(rows)), .int32(Int32(width)),
                                      .pointer(address(out))], grid: ((rows * 32 + 255) / 256, 1))
    }

    public func scaleRows(_ x: Tensor, scales: Tensor, stride: Int, offset: Int, bias: Tensor?, rows: Int, width: Int,
                          into out: Tensor) {
        launchRows("scale_rows", rows: rows, width: width, [
            .pointer(address(x)), .pointer(address(scales)), .int32(Int32(stride)), .int32(Int32(offset)),
            .pointer(bias.map(address) ?? 0), .int64(Int64(rows)), .int32(Int32(width)), .pointer(address(out)),
        ])
    }

    public func crossInputGradient(g: Tensor, h: Tensor, e: Tensor, weights: Tensor, rows: Int, layers: Int, width: Int,
                                   into dx: Tensor) {
        launchRows("cross_input_gradient", rows: rows, width: width, [
            .pointer(address(g)), .pointer(address(h)), .pointer(address(e)), .pointer(address(weights)),
            .int64(Int64(rows)), .int32(Int32(layers)), .int32(Int32(width)), .pointer(address(dx)),
        ])
    }

    public func addScaledRows(_ src: Tensor, scales: Tensor, rows: Int, width: Int, into dst: Tensor) {
        launchRows("add_scaled_rows", rows: rows, width: width, [.pointer(address(src)), .pointer(address(scales)), .int64(Int64(rows)),
                                                 .int32(Int32(width)), .pointer(address(dst))])
    }

    public func prefixSumRows(_ x: Tensor, rows: Int, width: Int, into out: Tensor) {
        launch("prefix_sum_rows", width, [.pointer(address(x)), .int64(Int64(rows)), .int32(Int32(width)),
                                          .pointer(address(out))])
    }

    public func crossScalars(d: Tensor, c: Tensor, rows: Int, layers: Int, into h: Tensor) {
        launch("cross_scalars", rows, [.pointer(address(d)), .pointer(address(c)), .int64(Int64(rows)),
                                       .int32(Int32(layers)), .pointer(address(h))])
    }

    public func crossScalarsBackward(d: Tensor, h: Tensor, s: Tensor, rows: Int, layers: Int, e: Tensor, upstream: Tensor) {
        launch("cross_scalars_backward", rows, [.pointer(address(d)), .pointer(address(h)), .pointer(address(s)),
                                                .int64(Int64(rows)), .int32(Int32(layers)), .pointer(address(e)),
                                                .pointer(address(upstream))])
    }

    public func crossBiasGradients(g: Tensor, c: Tensor, weights: Tensor, layers: Int, width: Int, into db: Tensor) {
        launch("cross_bias_gradients", width, [.pointer(address(g)), .pointer(address(c)), .pointer(address(weights)),
                                               .int32(Int32(layers)), .int32(Int32(width)), .pointer(address(db))])
    }

    public func interaction(x0: Tensor, emb: Tensor, into y: Tensor, batch: Int, features: Int, width: Int) {
        launch("interaction", batch, [.pointer(address(x0)), .pointer(address(emb)), .pointer(address(y)),
                                      .int32(Int32(features)), .int32(Int32(width))],
               block: 128, shared: (features + 1) * width * 4, grid: (batch, 1))
    }

    public func interactionBackward(x0: Tensor, emb: Tensor, dy: Tensor, dx0: Tensor, demb: Tensor, batch: Int,
                                    features: Int, width: Int) {
        launch("interaction_backward", batch, [.pointer(address(x0)), .pointer(address(emb)), .pointer(address(dy)),
                                               .pointer(address(dx0)), .pointer(address(demb)),
                                               .int32(Int32(features)), .int32(Int32(width))],
               block: 128, shared: (features + 1) * width * 4, grid: (batch, 1))
    }

    public func binaryCrossEntropy(logits: Tensor, labels: Tensor, grad: Tensor, count: Int, rows: Int, gradScale: Float,
                                   loss: Tensor) {
        let sum = scratch + 24
        record { try device.memset(sum, byte: 0, count: 8, stream: stream) }
        launch("bce", count, [.pointer(address(logits)), .pointer(address(labels)), .pointer(address(grad)), .pointer(sum),
                              .int64(Int64(count)), .float(gradScale)], grid: (min(max(1, (count + 255) / 256), 1024), 1))
        launch("finish_loss", 1, [.pointer(sum), .pointer(address(loss)), .int64(Int64(count))], block: 32, grid: (1, 1))
        if rows > count {
            record { try device.memset(address(grad) + CUdeviceptr(count * 4), byte: 0, count: (rows - count) * 4, stream: stream) }
        }
    }

    // MARK: dense optimizers

    public func adam(weight: Tensor, grad: Tensor, m: Tensor, v: Tensor, count: Int, lr: Float, beta1: Float, beta2: Float,
                     epsilon: Float, step: Int, gradScale: Float) {
        let alpha = adamAlpha(lr: lr, beta1: beta1, beta2: beta2, step: step)
        launch("adam", count, [
            .pointer(address(weight)), .pointer(address(grad)), .pointer(address(m)), .pointer(address(v)),
            .int64(Int64(count)), .float(alpha), perStep(UInt64(alpha.bitPattern)),
            .float(beta1), .float(beta2), .float(epsilon), .float(gradScale),
        ])
    }

    public func sgd(weight: Tensor, grad: Tensor, count: Int, lr: Float, gradScale: Float) {
        let step = lr * gradScale
        launch("sgd", count, [.pointer(address(weight)), .pointer(address(grad)), .int64(Int64(count)), .float(step),
                              perStep(UInt64(step.bitPattern))])
    }

    // MARK: embeddings

    /// Inserts without waiting: the key count and the overflow flag stay in `table.state` until
    /// `hashTableState` reads them.
    public func hashLookup(_ table: HashTable, keys: Tensor, count: Int, rows: Tensor, insert: Bool) -> Bool {
        let state = address(table.state)
        launch("hash_lookup", count, [
            .pointer(address(table.keys)), .pointer(address(table.rows)), .uint64(UInt64(table.bucketCount - 1)),
            .pointer(address(keys)), .pointer(address(rows)), .int64(Int64(count)), .pointer(state),
            .int64(Int64(table.capacity)), .int32(insert ? 1 : 0), .pointer(state + 8),
        ])
        return true
    }

    public func hashTableState(_ table: HashTable) -> (size: Int, overflowed: Bool) {
        let state = int64s(table.state, count: 2)
        table.size = min(Int(state[0]), table.capacity)
        return (table.size, state[1] & 0xFFFF_FFFF != 0)
    }

    public func embeddingPool(values: Tensor, rows: Tensor, offsets: Tensor, segments: Int, vec: Int, mean: Bool, into out: Tensor) {
        // Vectors of a multiple of 4 floats move as float4, a quarter of the threads.
        let wide = vec % 4 == 0 && [values, out].allSatisfy { address($0) % 16 == 0 }
        launch(wide ? "embedding_pool4" : "embedding_pool", segments * (wide ? vec / 4 : vec), [
            .pointer(address(values)), .pointer(address(rows)), .pointer(address(offsets)), .int64(Int64(segments)),
            .int32(Int32(wide ? vec / 4 : vec)), .int32(mean ? 1 : 0), .pointer(address(out)),
        ])
    }

    private var segmentOf: (CUdeviceptr, Int) = (0, 0)

    public func embeddingGradients(dout: Tensor, rows: Tensor, offsets: Tensor, segments: Int, keyCount count: Int, vec: Int,
                                   mean: Bool, uniqueRows: Tensor, uniqueGrads: Tensor, uniqueCount: Tensor,
                                   rowSlot: Tensor) {
        if segmentOf.1 < count {
            pool.release(segmentOf.0, bytes: segmentOf.1 * 8)
            record { segmentOf = (try pool.acquire(count * 8), count) }
        }
        let unique = address(uniqueCount)
        record { try device.memset(unique, byte: 0, count: 8, stream: stream) }
        launch("segment_ids", segments, [.pointer(address(offsets)), .int64(Int64(segments)), .pointer(segmentOf.0)])
        launch("claim_rows", count, [.pointer(address(rows)), .int64(Int64(count)), .pointer(address(rowSlot)),
                                     .pointer(address(uniqueRows)), .pointer(unique)])
        launch("zero_unique", count * vec, [.pointer(address(uniqueGrads)), .pointer(unique), .int32(Int32(vec)),
                                            .int64(Int64(uniqueRows.count))])
        launch("scatter_grads", count * vec, [
            .pointer(address(dout)), .pointer(address(rows)), .pointer(segmentOf.0), .pointer(address(offsets)),
            .pointer(address(rowSlot)), .int64(Int64(count)), .int32(Int32(vec)), .int32(mean ? 1 : 0),
            .pointer(address(uniqueGrads)),
        ])
    }

    public func clearRowSlots(_ rowSlot: Tensor, uniqueRows: Tensor, uniqueCount: Tensor, maxCount: Int) {
        launch("clear_row_slots", maxCount, [.pointer(address(rowSlot)), .pointer(address(uniqueRows)),
                                             .pointer(address(uniqueCount)), .int64(Int64(maxCount))])
    }

    public func sparseUpdate(_ update: SparseUpdate, values: Tensor, states: [Tensor], uniqueRows: Tensor, uniqueGrads: Tensor,
                             uniqueCount: Tensor, maxCount: Int, rowSlot: Tensor, table: HashTable, vec: Int) {
        let w = address(values), u = address(uniqueRows), g = address(uniqueGrads), n = address(uniqueCount)
        let most = Int64(maxCount)
        switch update {
        case let .sgd(lr, gradScale):
            launch("sparse_sgd", maxCount * vec, [.pointer(w), .pointer(u), .pointer(g), .pointer(n), .int64(most),
                                                  .int32(Int32(vec)), .float(lr * gradScale)])
        case let .adamLocal(lr, beta1, beta2, epsilon, step, gradScale):
            launch("sparse_adam_local", maxCount * vec, [
                .pointer(w), .pointer(address(states[0])), .pointer(address(states[1])), .pointer(u), .pointer(g),
                .pointer(n), .int64(most), .int32(Int32(vec)),
                .float(adamAlpha(lr: lr, beta1: beta1, beta2: beta2, step: step)),
                .float(beta1), .float(beta2), .float(epsilon), .float(gradScale),
            ])
        case let .adamGlobal(lr, beta1, beta2, epsilon, step, gradScale):
            launch("sparse_adam_global", table.capacity * vec, [
                .pointer(w), .pointer(address(states[0])), .pointer(address(states[1])), .pointer(address(rowSlot)),
                .pointer(g), .pointer(address(table.state)), .int64(Int64(table.capacity)), .int32(Int32(vec)),
                .float(adamAlpha(lr: lr, beta1: beta1, beta2: beta2, step: step)),
                .float(beta1), .float(beta2), .float(epsilon), .float(gradScale),
            ])
        case let .adamLazyGlobal(lr, beta1, beta2, epsilon, step, gradScale):
            launch("sparse_adam_lazy", maxCount * vec, [
                .pointer(w), .pointer(address(states[0])), .pointer(address(states[1])), .pointer(address(states[2])),
                .pointer(u), .pointer(g), .pointer(n), .int64(most), .int32(Int32(vec)), .float(lr), .float(beta1),
                .float(beta2), .float(epsilon), .float(gradScale), .int64(Int64(step)),
            ])
            launch("set_last_step", maxCount, [.pointer(address(states[2])), .pointer(u), .pointer(n), .int64(most),
                                               .int64(Int64(step))])
        }
    }
}
