import CTRCore
import CTRCPU
import CTRMPI

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Every MPICollective operation under mpirun on inputs that differ per rank, compared byte for
// byte with what InProcessCollective computes from all workers' inputs (each rank builds them
// all). The values summed are multiples of 1/4 small enough to add exactly in any order, so
// MPI's summation order does not matter. `hang`: the last rank stops answering before the first
// exchange, and the others must end with the timeout error (scripts/mpi-tests.sh).
//
//     mpirun -np 3 swiftctr-mpi-check          # rank R: N collective checks passed
//     mpirun -np 2 swiftctr-mpi-check hang

/// One rank's checks: counts passes, prints each failure.
final class Checks {
    let cpu = CPUBackend(threads: 1)
    let mpi: MPICollective
    let reference: InProcessCollective
    let rank: Int, workers: Int
    var passed = 0, failed = 0

    init() throws(SwiftCTRError) {
        mpi = try MPICollective(backend: cpu)
        rank = mpi.runtime.rank
        workers = mpi.workers
        reference = InProcessCollective(backends: Array(repeating: cpu, count: workers))
    }

    /// Worker w's input: `count` numbers (fp32, fp64) or pattern bytes (other dtypes), plus
    /// `spare` elements of 0x5A bytes that no operation may touch.
    func input(_ w: Int, _ count: Int, _ dtype: DType, spare: Int = 3) -> Tensor {
        let tensor = cpu.makeTensor([count + spare], dtype)
        let values = (0..<count).map { Double((w + 1) * ($0 % 17) - 3 * w) * 0.25 }
        var bytes: [UInt8]
        switch dtype {
        case .float32: bytes = values.map { Float($0) }.withUnsafeBytes { Array($0) }
        case .float64: bytes = values.withUnsafeBytes { Array($0) }
        default: bytes = (0..<count * dtype.size).map { UInt8(truncatingIfNeeded: 31 * w + 7 * $0 + 1) }
        }
        bytes += [UInt8](repeating: 0x5A, count: spare * dtype.size)
        bytes.withUnsafeBytes { cpu.upload($0, to: tensor) }
        return tensor
    }

    func bytes(_ tensor: Tensor) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: tensor.byteCount) { buffer, initialized in
            cpu.download(tensor, into: UnsafeMutableRawBufferPointer(buffer))
            initialized = tensor.byteCount
        }
    }

    /// Counts a pass, or prints where `found` first differs from `expected`.
    func expect<T: Equatable>(_ name: String, _ found: [T], _ expected: [T]) {
        guard found != expected else { passed += 1; return }
        failed += 1
        let common = min(found.count, expected.count), i = (0..<common).first { found[$0] != expected[$0] } ?? common
        func at(_ values: [T]) -> String { i < values.count ? "\(values[i])" : "nothing" }
        print("rank \(rank): FAIL \(name): \(found.count) values (expected \(expected.count)), "
            + "the first difference at \(i): expected \(at(expected)), found \(at(found))")
    }

    /// Runs `operation` on every worker's tensors with InProcessCollective and on this rank's
    /// with MPICollective (`send` and `receive` build worker w's tensors), then compares this
    /// rank's tensors after it, both of them (allReduceSum sums in place).
    func compare(_ name: String, send: (Int) -> Tensor, receive: (Int) -> Tensor,
                 _ operation: (any Collective, [Tensor], [Tensor]) -> Void) {
        let (sendAll, receiveAll) = ((0..<workers).map(send), (0..<workers).map(receive))
        let (mySend, myReceive) = (send(rank), receive(rank))
        operation(reference, sendAll, receiveAll)
        operation(mpi, [mySend], [myReceive])
        expect(name, bytes(mySend) + bytes(myReceive), bytes(sendAll[rank]) + bytes(receiveAll[rank]))
    }

    func run() {
        let g = workers
        for (count, dtype) in [(1_000, DType.float32), (77, .float64), (300_000, .float32)] {
            compare("allReduceSum of \(count) \(dtype)", send: { self.input($0, count, dtype) },
                    receive: { self.input($0, count, dtype) }) { collective, buffers, _ in
                collective.allReduceSum(buffers, count: count)
            }
        }
        compare("reduceScatterSum", send: { self.input($0, 50 * g, .float32) }, receive: { self.input($0 + 9, 50, .float32) }) {
            $0.reduceScatterSum($1, into: $2, count: 50)
        }
        for (count, dtype) in [(21, DType.float32), (9, .int64), (7, .bfloat16)] {
            compare("allGather of \(count) \(dtype)", send: { self.input($0, count, dtype) },
                    receive: { self.input($0 + 5, count * g, dtype) }) {
                $0.allGather($1, into: $2, count: count)
            }
        }
        // Unequal blocks, some empty: worker s sends (2s + 3d + 1) mod 5 elements to worker d.
        let counts = (0..<g).map { s in (0..<g).map { d in (2 * s + 3 * d + 1) % 5 } }
        for dtype in [DType.float32, .int64, .float16] {
            compare("allToAll \(counts) \(dtype)", send: { self.input($0, counts[$0].reduce(0, +), dtype) },
                    receive: { w in self.input(w + 7, counts.map { $0[w] }.reduce(0, +), dtype) }) {
                $0.allToAll($1, into: $2, counts: counts)
            }
        }
        mpi.barrier()
        expect("barrier", [true], [true])
        // Host values of different lengths per worker, some empty, some beyond 32 bits.
        let values = (0..<g).map { w in (0..<(5 * w + 3) % 4).map { Int64.max - Int64(1_000 * w + $0) } }
        expect("host allGather", mpi.allGather([values[rank]]), reference.allGather(values))
        let sums = (0..<g).map { p in [Double(p) + 0.5, -0.25 * Double(p), 1e10 * Double(p)] }
        expect("sumOverProcesses", mpi.sumOverProcesses(sums[rank]),
               sums.dropFirst().reduce(sums[0]) { zip($0, $1).map(+) })
    }
}

do {
    let checks = try Checks()
    if CommandLine.arguments.dropFirst().first == "hang" && checks.rank == checks.workers - 1 {
        print("rank \(checks.rank): stops answering for 600 s")
        fflush(nil)
        sleep(600)
    }
    checks.run()
    print("rank \(checks.rank): \(checks.passed) collective checks passed" + (checks.failed > 0 ? ", \(checks.failed) failed" : ""))
    exit(checks.failed > 0 ? 1 : 0)
} catch {
    print("swiftctr-mpi-check: \(error)")
    exit(1)
}
