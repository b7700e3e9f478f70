import CTRCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `Collective` over NCCL for the GPUs one process drives, as HugeCTR runs a node's GPUs: worker g
/// is `backends[g]`'s GPU, all workers are local, and the communicators come from
/// `ncclCommInitAll`. Every operation is one NCCL group (`ncclGroupStart`, a call per GPU on that
/// backend's stream, `ncclGroupEnd`) from device memory to device memory, with the element counts
/// and block layouts of `InProcessCollective`: `allReduceSum` and `reduceScatterSum` are
/// `ncclAllReduce`/`ncclReduceScatter` with `ncclSum` (NCCL's summation order, the same bits on
/// every GPU), `allGather` an `ncclAllGather` of bytes, `allToAll` grouped `ncclSend`/`ncclRecv`
/// of bytes. The host `allGather` and `sumOverProcesses` have nothing to exchange in one process.
///
/// Each call then waits for the GPUs' streams, polling them and `ncclCommGetAsyncError`, for at
/// most `timeout` (`SWIFTCTR_COLLECTIVE_TIMEOUT`, 20 s by default). A failing NCCL or CUDA call,
/// an asynchronous NCCL error or the timeout aborts the communicators (`ncclCommAbort`, which
/// also ends kernels that wait for a peer) and records an error naming the operation, the GPUs
/// and NCCL's text in every backend, which `CUDABackend.check()` throws, the way the backend
/// reports its own failures; every later call records that the collective is broken. Unlike
/// `MPICollective`, which prints and ends the job because other processes would wait on it, no
/// other process waits here, so the error can travel up to the caller like any other.
///
/// The backends share the calling thread: one call at a time. NVLink multicast (NVLS) is
/// switched off before the first communicator unless `NCCL_NVLS_ENABLE` is set.
///
/// ```swift
/// let gpus = try [0, 1, 2, 3].map { try CUDABackend(ordinal: $0) }
/// let collective = try NCCLCollective(backends: gpus)
/// collective.allReduceSum(gradients, count: n)   // gradients[g] on gpus[g]
/// try gpus.forEach { try $0.check() }
/// ```
public final class NCCLCollective: Collective, @unchecked Sendable {
    /// Worker g's GPU, in worker order.
    public let backends: [CUDABackend]
    public let nccl: NCCLLibrary
    /// How long one call waits for the GPUs before it aborts the communicators.
    public let timeout: Duration
    public var workers: Int { backends.count }
    public var localWorkers: [Int] { Array(backends.indices) }
    /// One communicator per GPU; nil after an abort.
    private var communicators: [OpaquePointer?]
    /// Why the communicators were aborted.
    private var failure: SwiftCTRError?

    /// Communicators for `backends`' GPUs, which must be distinct (NCCL does not allow two ranks on
    /// one GPU).
    public init(backends: [CUDABackend], nccl: NCCLLibrary, timeout: Duration) throws(SwiftCTRError) {
        precondition(!backends.isEmpty, "a collective needs at least one worker")
        let ordinals = backends.map(\.device.ordinal)
        let repeated = Set(ordinals.filter { ordinal in ordinals.count { $0 == ordinal } > 1 }).sorted()
        guard repeated.isEmpty else {
            throw SwiftCTRError(.config, "NCCLCollective drives one worker per GPU, but GPU "
                + "\(repeated.map(String.init).joined(separator: ", ")) appears more than once in \(ordinals): NCCL does "
                + "not allow two ranks on one GPU. Give each worker a GPU of its own (e.g. vvgpu [[0, 1, 2, 3]]), or "
                + "simulate the workers on one GPU with InProcessCollective.")
        }
        self.backends = backends
        self.nccl = nccl
        self.timeout = timeout
        // The GPU machines need NVLS off; NCCL reads the variable when it first sets up.
        setenv("NCCL_NVLS_ENABLE", "0", 0)
        var created = [OpaquePointer?](repeating: nil, count: backends.count)
        let devices = ordinals.map { Int32($0) }
        let result = try Self.keepingContext(of: backends[0].device) { () throws(SwiftCTRError) in
            created.withUnsafeMutableBufferPointer { comms in
                devices.withUnsafeBufferPointer { list in
                    nccl.ncclCommInitAll(comms.baseAddress!, Int32(list.count), list.baseAddress!)
                }
            }
        }
        guard result == NCCLLibrary.success else {
            throw SwiftCTRError(.device, "ncclCommInitAll could not create communicators for GPUs \(ordinals): "
                + "\(nccl.describe(result)). \(Self.hint(for: result))")
        }
        communicators = created
    }

    /// The collective of `backends`' GPUs with NCCL found by `NCCLLibrary.load()` and the timeout
    /// from the environment (`CollectiveTimeout.fromEnvironment()`).
    public convenience init(backends: [CUDABackend]) throws(SwiftCTRError) {
        try self.init(backends: backends, nccl: NCCLLibrary.load(), timeout: CollectiveTimeout.fromEnvironment())
    }

    deinit {
        // Every call waited for its work, so destroying does not wait for a peer.
        for comm in communicators where comm != nil { _ = nccl.ncclCommDestroy(comm) }
    }

    public func allReduceSum(_ buffers: [Tensor], count: Int) {
        check(buffers, holding: count)
        let type: NCCLDataType
        switch buffers[0].dtype {
        case .float32: type = .float32
        case .float64: type = .float64
        default: preconditionFailure("allReduceSum takes fp32 or fp64 tensors")
        }
        exchange("allReduceSum of \(count) elements", count: count) { g in
            let buffer = backends[g].address(buffers[g])
            return [("ncclAllReduce", { self.nccl.ncclAllReduce(buffer, buffer, count, type.rawValue, NCCLLibrary.sum, $0, $1) })]
        }
    }

    public func reduceScatterSum(_ send: [Tensor], into receive: [Tensor], count: Int) {
        precondition(send[0].dtype == .float32, "reduceScatterSum takes fp32 tensors")
        check(send, holding: count * workers)
        check(receive, holding: count)
        exchange("reduceScatterSum of \(count) elements per worker", count: count) { g in
            let from = backends[g].address(send[g]), to = backends[g].address(receive[g])
            return [("ncclReduceScatter", {
                self.nccl.ncclReduceScatter(from, to, count, NCCLDataType.float32.rawValue, NCCLLibrary.sum, $0, $1)
            })]
        }
    }

    public func allGather(_ send: [Tensor], into receive: [Tensor], count: Int) {
        check(send, holding: count)
        check(receive, holding: count * workers)
        let bytes = count * send[0].dtype.size
        exchange("allGather of \(count) elements", count: count) { g in
            let from = backends[g].address(send[g]), to = backends[g].address(receive[g])
            return [("ncclAllGather", { self.nccl.ncclAllGather(from, to, bytes, NCCLDataType.uint8.rawValue, $0, $1) })]
        }
    }

    public func allToAll(_ send: [Tensor], into receive: [Tensor], counts: [[Int]]) {
        precondition(counts.count == workers, "allToAll needs a G×G count matrix")
        check(send, holding: 0)
        check(receive, holding: 0)
        let layouts = localWorkers.map { AllToAllLayout(counts: counts, worker: $0) }
        for (g, layout) in layouts.enumerated() {
            precondition(send[g].count >= layout.sent && receive[g].count >= layout.received,
                         "allToAll: worker \(g) sends \(layout.sent) and receives \(layout.received) elements, "
                            + "its tensors hold \(send[g].count) and \(receive[g].count)")
        }
        let size = send[0].dtype.size, total = layouts.reduce(0) { $0 + $1.sent }
        exchange("allToAll of \(total) elements", count: total) { g in
            let from = backends[g].address(send[g]), to = backends[g].address(receive[g]), byte = NCCLDataType.uint8.rawValue
            let sends = layouts[g].sends.map { block in
                ("ncclSend", { self.nccl.ncclSend(from + CUdeviceptr(block.offset * size), block.count * size, byte,
                                                  Int32(block.peer), $0, $1) })
            }
            return sends + layouts[g].receives.map { block in
                ("ncclRecv", { self.nccl.ncclRecv(to + CUdeviceptr(block.offset * size), block.count * size, byte,
                                                  Int32(block.peer), $0, $1) })
            }
        }
    }

    public func barrier() {
        perform("barrier") { () throws(SwiftCTRError) in try wait("barrier") }
    }

    public func allGather(_ values: [[Int64]]) -> [[Int64]] {
        precondition(values.count == workers, "allGather takes every worker's values (\(workers)), found \(values.count)")
        return values
    }

    public func sumOverProcesses(_ values: [Double]) -> [Double] { values }

    // MARK: running and waiting

    /// One NCCL call on a communicator and a stream.
    private typealias Call = (function: String, run: (OpaquePointer?, OpaquePointer?) -> NCCLResult)

    private func check(_ tensors: [Tensor], holding count: Int) {
        precondition(tensors.count == workers, "a collective call takes one tensor per worker (\(workers)), found \(tensors.count)")
        for (g, tensor) in tensors.enumerated() {
            precondition(tensor.count >= count, "worker \(g)'s tensor holds \(tensor.count) elements, the call moves \(count)")
        }
    }

    /// Queues worker g's `calls(g)` for every GPU as one NCCL group on the backends' streams and
    /// waits for them; nothing to move is nothing to do.
    private func exchange(_ what: String, count: Int, _ calls: (Int) -> [Call]) {
        guard count > 0 else { return }
        perform(what) { () throws(SwiftCTRError) in
            try Self.keepingContext(of: backends[0].device) { () throws(SwiftCTRError) in
                try check(nccl.ncclGroupStart(), "ncclGroupStart", what, on: nil)
                var firstError: SwiftCTRError?
                for g in backends.indices where firstError == nil {
                    for call in calls(g) where firstError == nil {
                        let result = call.run(communicators[g], backends[g].stream?.handle)
                        do throws(SwiftCTRError) { try check(result, call.function, what, on: g) } catch { firstError = error }
                    }
                }
                let ended = nccl.ncclGroupEnd()
                if let firstError { throw firstError }
                try check(ended, "ncclGroupEnd", what, on: nil)
            }
            try wait(what)
        }
    }

    /// Runs `body` unless the communicators were aborted; its error aborts them and is recorded
    /// in every backend. On a broken collective the call records that it did not run.
    private func perform(_ what: String, _ body: () throws(SwiftCTRError) -> Void) {
        if let failure {
            let error = SwiftCTRError(.device, "\(what) did not run: the NCCL communicators were aborted after an earlier "
                + "failure (\(failure.message))")
            return backends.forEach { $0.record { throw error } }
        }
        do throws(SwiftCTRError) {
            try body()
        } catch {
            for comm in communicators where comm != nil { _ = nccl.ncclCommAbort(comm) }
            communicators = communicators.map { _ in nil }
            failure = error
            backends.forEach { $0.record { throw error } }
        }
    }

    /// Polls every GPU's stream until its queued work finished, and the communicators for
    /// asynchronous errors, for at most `timeout`.
    private func wait(_ what: String) throws(SwiftCTRError) {
        let deadline = ContinuousClock.now + timeout
        var pending = Array(backends.indices), polls = 0
        while true {
            var busy: [Int] = []
            for g in pending where try !isIdle(g, what) { busy.append(g) }
            pending = busy
            for g in backends.indices {
                var state = NCCLLibrary.success
                try check(nccl.ncclCommGetAsyncError(communicators[g], &state), "ncclCommGetAsyncError", what, on: g)
                if state != NCCLLibrary.inProgress { try check(state, "an asynchronous NCCL operation", what, on: g) }
            }
            if pending.isEmpty { return }
            if ContinuousClock.now >= deadline {
                throw SwiftCTRError(.device, "\(what) did not finish within \(CollectiveTimeout.describe(timeout)) on GPU "
                    + "\(pending.map { String(backends[$0].device.ordinal) }.joined(separator: ", ")) of "
                    + "\(backends.map(\.device.ordinal)): a GPU hangs or waits for a peer that never joined. The NCCL "
                    + "communicators were aborted. Rerun with NCCL_DEBUG=WARN to see NCCL's messages, check the GPUs "
                    + "with nvidia-smi, or raise SWIFTCTR_COLLECTIVE_TIMEOUT for slow steps.")
            }
            // Spin through a step's quick exchanges, then sleep so the wait leaves its core to others.
            polls += 1
            if polls > 1_000 { usleep(100) }
        }
    }

    /// Whether GPU g's stream finished its work; a failed kernel or copy on it throws.
    private func isIdle(_ g: Int, _ what: String) throws(SwiftCTRError) -> Bool {
        let device = backends[g].device
        return try Self.keepingContext(of: device) { () throws(SwiftCTRError) in
            do { return try backends[g].stream?.isIdle() ?? true } catch {
                throw SwiftCTRError(.device, "\(what) failed on GPU \(device.ordinal): \(error)")
            }
        }
    }

    /// Throws an error naming `function`, the operation and GPU `g` (all GPUs when nil) unless
    /// `result` is `ncclSuccess`.
    private func check(_ result: NCCLResult, _ function: String, _ what: String, on g: Int?) throws(SwiftCTRError) {
        guard result != NCCLLibrary.success else { return }
        let gpus = g.map { "GPU \(backends[$0].device.ordinal)" } ?? "GPUs \(backends.map(\.device.ordinal))"
        throw SwiftCTRError(.device, "\(function) for \(what) failed on \(gpus): "
            + "\(nccl.describe(result, comm: g.flatMap { communicators[$0] })). The NCCL communicators were aborted. "
            + Self.hint(for: result))
    }

    /// What to do about an NCCL error.
    private static func hint(for result: NCCLResult) -> String {
        switch result {
        case 2:  // ncclSystemError
            "A system call failed; in a container NCCL needs shared memory (start it with --ipc=host or --shm-size=1g). "
                + "Rerun with NCCL_DEBUG=WARN to see which call."
        case 4, 5:  // ncclInvalidArgument, ncclInvalidUsage
            "SwiftCTR called NCCL wrongly: this is a bug; report it with the output of a run with NCCL_DEBUG=WARN."
        default:
            "Rerun with NCCL_DEBUG=WARN to see NCCL's own messages, and check the GPUs with nvidia-smi."
        }
    }

    /// Runs `body` with `device`'s context current and then restores the caller's, which NCCL
    /// changes as it moves from GPU to GPU.
    private static func keepingContext<T>(of device: CUDADevice,
                                          _ body: () throws(SwiftCTRError) -> T) throws(SwiftCTRError) -> T {
        let pushed = device.driver.cuCtxPushCurrent(device.context)
        guard pushed == 0 else {
            throw SwiftCTRError(.device, "cuCtxPushCurrent for GPU \(device.ordinal) failed: "
                + "\(device.driver.errorName(pushed) ?? "CUresult \(pushed)")")
        }
        defer { _ = device.driver.cuCtxPopCurrent(nil) }
        return try body()
    }
}
