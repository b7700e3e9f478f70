import CTRCore
import Synchronization

/// The CUDA backend: every `Backend` kernel as a CUDA C kernel compiled by NVRTC at first use,
/// GEMMs through cuBLAS, memory from a caching pool. Work is queued in order on one stream;
/// errors are collected and thrown by `check()`.
///
/// ```swift
/// let gpu = try CUDABackend(ordinal: 0)
/// let model = try Model(solver, reader, optimizer, backend: gpu)
/// ```
///
/// This file holds the core: loading, error recording, CUDA-graph capture and replay, and the
/// launchers. Each op family's launches and CUDA C live in `Kernels/<Family>.swift`.
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
    /// Every kernel's C parameters, which each launch is checked against.
    let signatures: [String: KernelSignature]
    /// Every kernel, copy and GEMM is queued in order here.
    let stream: CUDAStream?
    /// Host-to-device copies run here, overlapping the compute stream.
    let copyStream: CUDAStream
    /// Small device scratch; bytes 24..<32 hold the loss sum (double), 32..<64 the AUC sums.
    let scratch: CUdeviceptr
    /// Pinned host buffer + device buffer pairs that uploads cycle through.
    var staging: [StagingSlot] = []
    /// Pinned memory readers decode batches into; uploads from it skip the staging copy.
    let pinned: PinnedPool
    var nextSlot = 0
    private var firstError: (any Error)?
    /// The most dynamic shared memory a block may use after opting in
    /// (`CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN`).
    let sharedMemoryLimit: Int
    /// Dynamic shared memory per block each kernel has been opted in to; without opting in a
    /// launch may use 48 KiB.
    private var sharedMemoryAllowed: [String: Int] = [:]

    public init(ordinal: Int = 0, loader: any DynamicLibraryLoader = SystemLoader(), cache: KernelCache = .standard) throws {
        device = try CUDADevice(ordinal: ordinal, loader: loader)
        Self.ordinalsInUse.withLock { _ = $0.insert(ordinal) }
        blas = try CUBLAS(device: device, loader: loader)
        signatures = try KernelSignature.parse(KernelSource.assembled)
        let compiler = try KernelCompiler(device: device, loader: loader, cache: cache)
        let module = try compiler.module(source: KernelSource.assembled, name: "swiftctr_kernels.cu",
                                         options: ["-use_fast_math"])
        var table: [String: CUDAFunction] = [:]
        for name in signatures.keys { table[name] = try module.function(name) }
        functions = table
        sharedMemoryLimit = try device.attribute(.maxSharedMemoryPerBlockOptin)
        stream = try device.makeStream()
        copyStream = try device.makeStream()
        pool = DevicePool(device: device)
        pinned = PinnedPool(device: device)
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
        /// A reader's pinned buffer the copy reads from, kept until the slot is reused.
        var retained: HostBuffer?
    }

    public var hostBufferPool: (any HostBufferPool)? { pinned }

    public var name: String {
        "CUDA \(device.name) (\(device.arch), driver \(device.driverVersionString), \(gemmPrecision.rawValue) GEMM)"
    }

    public var supportsMixedPrecision: Bool { true }

    /// Device memory the pool holds (in use or cached).
    public var reservedBytes: Int { pool.reservedBytes }
    /// Gives the pool's cached (freed, unused) blocks back to the driver, e.g. before another
    /// process needs the GPU's memory; waits for queued work first.
    public func releaseCachedMemory() {
        synchronize()
        pool.releaseCached()
    }
    /// Device allocations (`cuMemAlloc`) made so far; the pool serves a warm step without any.
    public var driverAllocations: Int { pool.driverAllocations }
    /// Host time spent copying uploads into pinned memory, for profiles.
    public internal(set) var stagingSeconds = 0.0

    public var gemmPrecision = GEMMPrecision.fp32 {
        didSet { record { try blas.setMathMode(gemmPrecision == .tf32 ? .tf32TensorOp : .default) } }
    }

    /// 16-bit copies of fp32 GEMM operands, reused across calls (the stream orders their use).
    private var halfScratch: [(CUdeviceptr, Int)] = [(0, 0), (0, 0)]
    /// Scratch of embedding gradients (each key's segment, the counting sort by row), in bytes;
    /// grown on demand.
    var gradientScratch: (CUdeviceptr, Int) = (0, 0)
    /// Profiling marks: timing events recorded on the compute stream, reused from step to step.
    var markEvents: [CUDAEvent] = []
    var markLabels: [String] = []
    /// With `kernelMarks` on, every kernel launch and GEMM between profiling marks gets a mark of
    /// its own, labeled "<phase> · <kernel>" (the phase: the last `mark`'s label).
    public var kernelMarks = false
    var phaseLabel = ""

    /// The address of `t`'s first `count` elements as `type`: `t` itself, or a converted copy.
    func operand(_ t: Tensor, as type: DType, count: Int, slot: Int) -> CUdeviceptr {
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
    func code(_ type: DType) -> KernelArgument {
        switch type {
        case .bfloat16: .int32(1)
        case .float16: .int32(2)
        default: .int32(0)
        }
    }

    /// Runs one driver call, keeping its error for `check()`; while a graph replays, the host only
    /// collects per-step scalars and queues nothing. Once backends of several GPUs exist in the
    /// process (one thread driving them in turn), each call first makes its device current.
    func record(_ body: () throws -> Void) {
        guard graphMode != .replaying else { return }
        do {
            if Self.ordinalsInUse.withLock({ $0.count > 1 }) { try device.makeCurrent() }
            try body()
        } catch { if firstError == nil { firstError = error } }
    }

    /// The GPUs that backends were made for in this process.
    private static let ordinalsInUse = Mutex<Set<Int>>([])

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

    /// A `.perStep` argument as launched: outside graphs with no slot (the kernel uses the value),
    /// inside with the address of its slot, which each replay refills.
    private func resolved(_ argument: KernelArgument) -> KernelArgument {
        guard case let .perStep(bits, _) = argument, graphMode != .off else { return argument }
        guard stepScalars.count < Self.maxStepScalars else {
            stepScalarsOverflowed = true  // the capture is abandoned: a replay would reuse this value
            return .perStep(bits)
        }
        stepScalars.append(bits)
        return .perStep(bits, slot: address(stepScalarSlots) + CUdeviceptr(8 * (stepScalars.count - 1)))
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

    // MARK: launches

    /// Launches `kernel` with a grid-stride grid sized for `count` threads.
    func launch(_ kernel: String, _ count: Int, _ arguments: [KernelArgument], block: Int = 256, shared: Int = 0,
                grid explicitGrid: (Int, Int)? = nil) {
        let blocks = explicitGrid?.0 ?? min(max(0, (count + block - 1) / block), device.multiprocessorCount * 32)
        let grid = count > 0 || explicitGrid != nil ? (blocks, explicitGrid?.1 ?? 1) : (0, 0)
        launch(kernel, grid: grid, block: (block, 1), shared: shared, arguments)
    }

    /// Launches a `ROWS_COLS` kernel: thread blocks of 256 spanning up to 256 columns and as many
    /// rows as fit, so narrow rows still fill a block; about 16 blocks per multiprocessor, each
    /// looping over rows.
    func launchRows(_ kernel: String, rows: Int, width: Int, _ arguments: [KernelArgument]) {
        guard rows > 0, width > 0 else { return launch(kernel, grid: (0, 0), block: (1, 1), shared: 0, arguments) }
        let bx = min(256, (width + 31) / 32 * 32), by = 256 / bx
        let gx = min((width + bx - 1) / bx, 64)
        let gy = min((rows + by - 1) / by, max(1, device.multiprocessorCount * 16 / gx))
        launch(kernel, grid: (gx, gy), block: (bx, by), shared: 0, arguments)
    }

    /// The one way to `cuLaunchKernel`. Per-step scalars take their graph slots first (in capture
    /// and replay alike, so the slots line up), then the name, the arguments and the shared memory
    /// are checked against the kernel: a mismatch is recorded for `check()` and nothing is
    /// launched. An empty grid launches nothing.
    func launch(_ kernel: String, grid: (Int, Int), block: (Int, Int), shared: Int,
                        _ arguments: [KernelArgument]) {
        let arguments = graphMode == .off ? arguments : arguments.map(resolved)
        record {
            if let error = KernelSignature.mismatch(launching: kernel, with: arguments, in: signatures) { throw error }
            guard grid.0 > 0, grid.1 > 0, let function = functions[kernel] else { return }
            markKernel(kernel)
            if shared > Self.sharedMemoryWithoutOptIn { try allowSharedMemory(shared, for: kernel) }
            try device.launch(function, grid: (UInt32(grid.0), UInt32(grid.1), 1), block: (UInt32(block.0), UInt32(block.1), 1),
                              sharedBytes: UInt32(shared), stream: stream, arguments: arguments)
        }
    }

    /// The dynamic shared memory per block any launch may use (CUDA's guarantee since Volta).
    static let sharedMemoryWithoutOptIn = 48 << 10

    /// Opts `kernel` in to `bytes` of dynamic shared memory per block when it needs more than it
    /// has; throws when the device cannot give that much.
    func allowSharedMemory(_ bytes: Int, for kernel: String) throws {
        guard bytes > sharedMemoryAllowed[kernel, default: Self.sharedMemoryWithoutOptIn] else { return }
        guard bytes <= sharedMemoryLimit else {
            throw SwiftCTRError(.device, "CUDA kernel '\(kernel)' needs \(bytes) bytes of shared memory per thread block; "
                + "\(device.name) allows at most \(sharedMemoryLimit). Nothing was launched.")
        }
        try functions[kernel]?.setMaxDynamicSharedMemory(bytes: bytes)
        sharedMemoryAllowed[kernel] = bytes
    }
}
