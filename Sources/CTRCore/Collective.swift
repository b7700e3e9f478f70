/// The collective operations of data-parallel training over `workers` workers, each worker's
/// buffer a tensor in its own backend's memory: what NCCL provides (all-reduce, reduce-scatter,
/// all-gather), the all-to-all that NCCL's grouped send and receive build, a barrier, and two
/// exchanges of small host values. A process drives some of the workers (`localWorkers`: all of
/// them when one process simulates every worker, one per process under MPI), and every call
/// takes one tensor per local worker, in `localWorkers` order, as NCCL's group calls do for the
/// GPUs a process drives (`ncclGroupStart`, one call per GPU, `ncclGroupEnd`). Sums run in worker
/// order, so every worker receives the same bits.
///
/// ```swift
/// let collective = InProcessCollective(backends: Array(repeating: backend, count: 2))
/// collective.allReduceSum([gradient0, gradient1], count: n)   // both hold gradient0 + gradient1
/// ```
public protocol Collective: AnyObject, Sendable {
    /// The number of workers over all processes.
    var workers: Int { get }
    /// The workers this process drives, ascending: the order of the tensors each call takes.
    var localWorkers: [Int] { get }
    /// `buffers[g][0..<count] = Σ_h buffers[h][0..<count]` for every worker g (fp32 or fp64;
    /// NCCL's `ncclAllReduce` with `ncclSum`). Cost: 2·(G−1)/G·count elements sent per worker.
    func allReduceSum(_ buffers: [Tensor], count: Int)
    /// `receive[h][0..<count] = Σ_g send[g][h·count ..< (h+1)·count]`, fp32 (`ncclReduceScatter`).
    func reduceScatterSum(_ send: [Tensor], into receive: [Tensor], count: Int)
    /// `receive[h][g·count ..< (g+1)·count] = send[g][0..<count]` for every h (`ncclAllGather`).
    func allGather(_ send: [Tensor], into receive: [Tensor], count: Int)
    /// Worker g sends `counts[g][h]` elements to worker h: g's blocks lie one after another in
    /// h order from element 0 of `send[g]`, and h receives them one after another in g order from
    /// element 0 of `receive[h]` (grouped `ncclSend`/`ncclRecv`). `counts` is the whole G×G
    /// matrix, the same in every process.
    func allToAll(_ send: [Tensor], into receive: [Tensor], counts: [[Int]])
    /// Returns once every worker's queued work is done.
    func barrier()
    /// Host values of any length per worker: `values[i]` is local worker `localWorkers[i]`'s; the
    /// result holds every worker's, in worker order.
    func allGather(_ values: [[Int64]]) -> [[Int64]]
    /// Element-wise sums over the processes of equally long host values (each process passes
    /// the sum over its own workers), in process order; every process gets the same total.
    func sumOverProcesses(_ values: [Double]) -> [Double]
}

extension Collective {
    /// `allGather` of float values, which travel as their bit patterns, two to an Int64.
    public func allGather(_ values: [[Float]]) -> [[Float]] {
        let packed = values.map { part in
            stride(from: 0, to: part.count, by: 2).map { j in
                let low = UInt64(part[j].bitPattern), high = j + 1 < part.count ? UInt64(part[j + 1].bitPattern) : 0
                return Int64(bitPattern: low | high << 32)
            } + [Int64(part.count)]
        }
        return allGather(packed).map { words in
            (0..<Int(words.last!)).map { j in
                let word = UInt64(bitPattern: words[j / 2])
                return Float(bitPattern: UInt32(truncatingIfNeeded: j % 2 == 0 ? word : word >> 32))
            }
        }
    }
}

/// `Collective` for workers simulated in one process: a deterministic, sequential exchange
/// through host memory, the workers' backends given in worker order (on the CPU they may all be
/// the same backend). Every worker's result is computed from the same values in the same order,
/// so replicas that start equal stay equal bit for bit.
///
/// ```swift
/// let collective = InProcessCollective(backends: [cpu, cpu, cpu])   // three simulated workers
/// ```
public final class InProcessCollective: Collective {
    public let backends: [any Backend]
    public var workers: Int { backends.count }
    public var localWorkers: [Int] { Array(backends.indices) }

    public init(backends: [any Backend]) {
        precondition(!backends.isEmpty, "a collective needs at least one worker")
        self.backends = backends
    }

    public func allReduceSum(_ buffers: [Tensor], count: Int) {
        check(buffers)
        switch buffers[0].dtype {
        case .float64:
            let total = sum(buffers.indices.map { read(buffers[$0], on: $0, count: count, as: Double.self) })
            for (g, buffer) in buffers.enumerated() { write(total, to: buffer, on: g) }
        default:
            precondition(buffers[0].dtype == .float32, "allReduceSum takes fp32 or fp64 tensors")
            let total = sum(buffers.indices.map { read(buffers[$0], on: $0, count: count, as: Float.self) })
            for (g, buffer) in buffers.enumerated() { write(total, to: buffer, on: g) }
        }
    }

    public func reduceScatterSum(_ send: [Tensor], into receive: [Tensor], count: Int) {
        check(send)
        check(receive)
        let parts = send.indices.map { read(send[$0], on: $0, count: count * workers, as: Float.self) }
        for h in 0..<workers {
            let block = parts.map { Array($0[h * count..<(h + 1) * count]) }
            write(sum(block), to: receive[h], on: h)
        }
    }

    public func allGather(_ send: [Tensor], into receive: [Tensor], count: Int) {
        check(send)
        check(receive)
        let bytes = count * send[0].dtype.size
        let gathered = send.indices.flatMap { read(send[$0], on: $0, count: bytes, as: UInt8.self) }
        for (h, tensor) in receive.enumerated() { write(gathered, to: tensor, on: h) }
    }

    public func allToAll(_ send: [Tensor], into receive: [Tensor], counts: [[Int]]) {
        check(send)
        check(receive)
        precondition(counts.count == workers && counts.allSatisfy { $0.count == workers }, "allToAll needs a G×G count matrix")
        let size = send[0].dtype.size
        let outgoing = send.indices.map { read(send[$0], on: $0, count: counts[$0].reduce(0, +) * size, as: UInt8.self) }
        for h in 0..<workers {
            var incoming: [UInt8] = []
            for g in 0..<workers {
                let start = counts[g][..<h].reduce(0, +) * size
                incoming += outgoing[g][start..<start + counts[g][h] * size]
            }
            write(incoming, to: receive[h], on: h)
        }
    }

    public func barrier() {
        for backend in backends { backend.synchronize() }
    }

    public func allGather(_ values: [[Int64]]) -> [[Int64]] {
        precondition(values.count == workers, "allGather takes every worker's values (\(workers)), found \(values.count)")
        return values
    }

    public func sumOverProcesses(_ values: [Double]) -> [Double] { values }

    private func check(_ tensors: [Tensor]) {
        precondition(tensors.count == workers, "a collective call takes one tensor per worker (\(workers)), found \(tensors.count)")
    }

    /// The first `count` elements of worker g's `tensor` (a `UInt8` count is in bytes).
    private func read<T>(_ tensor: Tensor, on worker: Int, count: Int, as type: T.Type) -> [T] {
        [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            backends[worker].download(tensor, into: UnsafeMutableRawBufferPointer(buffer))
            initialized = count
        }
    }

    private func write<T>(_ values: [T], to tensor: Tensor, on worker: Int) {
        values.withUnsafeBytes { backends[worker].upload($0, to: tensor) }
    }

    /// Element-wise sum of equally long parts, in part order.
    private func sum<T: FloatingPoint>(_ parts: [[T]]) -> [T] {
        var total = parts[0]
        total.withUnsafeMutableBufferPointer { out in
            for part in parts.dropFirst() {
                part.withUnsafeBufferPointer { p in
                    for i in 0..<out.count { out[i] += p[i] }
                }
            }
        }
        return total
    }
}
