import CTRCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `Collective` over MPI, one worker per process: worker g is rank g of `MPI_COMM_WORLD`, and
/// every call moves this rank's tensor through host memory (download, a non-blocking MPI
/// collective, upload), with the element counts and block layouts of `InProcessCollective`.
/// Sums are MPI's `MPI_SUM`, the same bits on every rank (with three or more ranks not
/// necessarily added in worker order). Each call waits for MPI against a deadline, `timeout`:
/// when the other ranks do not answer by then (one died or hangs), or MPI reports an error, it
/// prints one line naming the rank and the operation and ends every rank (`MPI_Abort`), so that
/// no rank waits silently.
///
/// ```swift
/// let collective = try MPICollective(backend: CPUBackend())   // under mpirun -np 4: 4 workers
/// collective.allReduceSum([gradient], count: n)               // this rank's tensor only
/// ```
public final class MPICollective: Collective {
    /// How long a call waits for the other ranks when `SWIFTCTR_COLLECTIVE_TIMEOUT` is unset.
    public static let defaultTimeout = CollectiveTimeout.standard

    /// The backend that holds this rank's tensors.
    public let backend: any Backend
    public let runtime: MPIRuntime
    /// How long one call waits for the other ranks before it ends the job.
    public let timeout: Duration
    public var workers: Int { runtime.size }
    public var localWorkers: [Int] { [runtime.rank] }
    private var mpi: MPILibrary { runtime.mpi }

    public init(backend: any Backend, runtime: MPIRuntime, timeout: Duration = MPICollective.defaultTimeout) {
        self.backend = backend
        self.runtime = runtime
        self.timeout = timeout
    }

    /// The collective of this process's MPI job (`MPIRuntime.shared()`), with the timeout from
    /// the environment (`CollectiveTimeout.fromEnvironment()`).
    public convenience init(backend: any Backend) throws(SwiftCTRError) {
        self.init(backend: backend, runtime: try .shared(), timeout: try CollectiveTimeout.fromEnvironment())
    }

    public func allReduceSum(_ buffers: [Tensor], count: Int) {
        let tensor = local(buffers)
        let type: OpaquePointer
        switch tensor.dtype {
        case .float32: type = mpi.float
        case .float64: type = mpi.double
        default: preconditionFailure("allReduceSum takes fp32 or fp64 tensors")
        }
        let what = "allReduceSum of \(count) elements", n = int32(count, what)
        let total: [UInt8] = exchange(what, "MPI_Iallreduce", download(tensor, bytes: count * tensor.dtype.size),
                                      receive: count * tensor.dtype.size) {
            self.mpi.iallreduce($0, $1, n, type, self.mpi.sum, self.mpi.world, $2)
        }
        upload(total, to: tensor)
    }

    public func reduceScatterSum(_ send: [Tensor], into receive: [Tensor], count: Int) {
        let what = "reduceScatterSum of \(count) elements per worker", n = int32(count, what)
        let block: [Float] = exchange(what, "MPI_Ireduce_scatter_block",
                                      download(local(send), bytes: count * workers * 4), receive: count) {
            self.mpi.ireduceScatterBlock($0, $1, n, self.mpi.float, self.mpi.sum, self.mpi.world, $2)
        }
        upload(block, to: local(receive))
    }

    public func allGather(_ send: [Tensor], into receive: [Tensor], count: Int) {
        let source = local(send), bytes = count * source.dtype.size
        let what = "allGather of \(count) elements", n = int32(bytes, what)
        let gathered: [UInt8] = exchange(what, "MPI_Iallgather", download(source, bytes: bytes), receive: bytes * workers) {
            self.mpi.iallgather($0, n, self.mpi.byte, $1, n, self.mpi.byte, self.mpi.world, $2)
        }
        upload(gathered, to: local(receive))
    }

    public func allToAll(_ send: [Tensor], into receive: [Tensor], counts: [[Int]]) {
        precondition(counts.count == workers && counts.allSatisfy { $0.count == workers }, "allToAll needs a G×G count matrix")
        let source = local(send), size = source.dtype.size, rank = runtime.rank
        let what = "allToAll of \(counts[rank].reduce(0, +)) elements"
        let sent = counts[rank].map { $0 * size }, received = counts.map { $0[rank] * size }
        // Byte counts and displacements, sent then received, alive until the exchange completes.
        let layout = (sent + offsets(sent) + received + offsets(received)).map { int32($0, what) }
        let incoming: [UInt8] = layout.withUnsafeBufferPointer { layout in
            let g = workers, p = layout.baseAddress
            return exchange(what, "MPI_Ialltoallv", download(source, bytes: sent.reduce(0, +)),
                            receive: received.reduce(0, +)) {
                self.mpi.ialltoallv($0, p, p.map { $0 + g }, self.mpi.byte,
                                    $1, p.map { $0 + 2 * g }, p.map { $0 + 3 * g }, self.mpi.byte, self.mpi.world, $2)
            }
        }
        upload(incoming, to: local(receive))
    }

    public func barrier() {
        backend.synchronize()
        wait("barrier", "MPI_Ibarrier") { self.mpi.ibarrier(self.mpi.world, $0) }
    }

    public func allGather(_ values: [[Int64]]) -> [[Int64]] {
        precondition(values.count == 1, "MPICollective drives one worker per process: allGather takes its values, found \(values.count) lists")
        let mine = values[0]
        let lengths: [Int64] = exchange("allGather of host value lengths", "MPI_Iallgather", [Int64(mine.count)],
                                        receive: workers) {
            self.mpi.iallgather($0, 1, self.mpi.int64, $1, 1, self.mpi.int64, self.mpi.world, $2)
        }
        let what = "allGather of \(mine.count) host values", counts = lengths.map { Int($0) }
        // Counts then displacements, alive until the exchange completes.
        let layout = (counts + offsets(counts)).map { int32($0, what) }
        let all: [Int64] = layout.withUnsafeBufferPointer { layout in
            let g = workers, p = layout.baseAddress, n = layout[runtime.rank]
            return exchange(what, "MPI_Iallgatherv", mine, receive: counts.reduce(0, +)) {
                self.mpi.iallgatherv($0, n, self.mpi.int64, $1, p, p.map { $0 + g }, self.mpi.int64, self.mpi.world, $2)
            }
        }
        return zip(offsets(counts), counts).map { Array(all[$0..<$0 + $1]) }
    }

    public func sumOverProcesses(_ values: [Double]) -> [Double] {
        let what = "sumOverProcesses of \(values.count) values", n = int32(values.count, what)
        return exchange(what, "MPI_Iallreduce", values, receive: values.count) {
            self.mpi.iallreduce($0, $1, n, self.mpi.double, self.mpi.sum, self.mpi.world, $2)
        }
    }

    // MARK: moving and waiting

    private func local(_ tensors: [Tensor]) -> Tensor {
        precondition(tensors.count == 1, "MPICollective drives one worker per process: a call takes one tensor, found \(tensors.count)")
        return tensors[0]
    }

    private func download(_ tensor: Tensor, bytes: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: bytes) { buffer, initialized in
            backend.download(tensor, into: UnsafeMutableRawBufferPointer(buffer))
            initialized = bytes
        }
    }

    private func upload<T>(_ values: [T], to tensor: Tensor) {
        values.withUnsafeBytes { backend.upload($0, to: tensor) }
    }

    /// Runs the non-blocking MPI operation `start(send, receive, request)` from `send` into
    /// `count` new elements and waits for it.
    private func exchange<S, R>(_ what: String, _ function: String, _ send: [S], receive count: Int,
                                _ start: (UnsafeRawPointer?, UnsafeMutableRawPointer?, UnsafeMutablePointer<OpaquePointer?>) -> Int32) -> [R] {
        [R](unsafeUninitializedCapacity: count) { buffer, initialized in
            send.withUnsafeBytes { send in
                wait(what, function) { start(send.baseAddress, UnsafeMutableRawPointer(buffer.baseAddress), $0) }
            }
            initialized = count
        }
    }

    /// Starts a non-blocking MPI operation and polls `MPI_Test` until it completes; ends the
    /// job with a message naming the operation on an MPI error or when `timeout` passes.
    private func wait(_ what: String, _ function: String, _ start: (UnsafeMutablePointer<OpaquePointer?>) -> Int32) {
        var request: OpaquePointer?
        check(start(&request), function, what)
        let deadline = ContinuousClock.now + timeout
        var polls = 0
        while true {
            var done: Int32 = 0
            check(mpi.test(&request, &done, nil), "MPI_Test", what)
            if done != 0 { return }
            if ContinuousClock.now >= deadline {
                runtime.abort("\(what) got no answer from the other ranks in \(CollectiveTimeout.describe(timeout)): "
                    + "a rank died or hangs "
                    + "(see the other ranks' output); raise SWIFTCTR_COLLECTIVE_TIMEOUT for slow steps.")
            }
            // Spin through a step's quick exchanges, then sleep so a waiting rank leaves its core to others.
            polls += 1
            if polls > 1_000 { usleep(100) }
        }
    }

    private func check(_ code: Int32, _ function: String, _ what: String) {
        guard code != MPILibrary.success else { return }
        runtime.abort("\(function) for \(what) failed: \(mpi.describe(code)).")
    }

    /// `n` as the C int MPI counts in; a larger count ends the job with a message.
    private func int32(_ n: Int, _ what: String) -> Int32 {
        guard let value = Int32(exactly: n) else {
            runtime.abort("\(what): \(n) exceeds MPI's int counts (at most \(Int32.max)); exchange less per call.")
        }
        return value
    }

    /// Where each of `counts` starts when they lie one after another.
    private func offsets(_ counts: [Int]) -> [Int] {
        var start = 0
        return counts.map { count in defer { start += count }; return start }
    }
}
