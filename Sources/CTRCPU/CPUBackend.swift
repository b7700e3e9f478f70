import CTRCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The CPU backend: host memory, loops over hoisted pointers, a parallel-for over all cores, and
/// GEMM through OpenBLAS when it loads (a pure-Swift GEMM otherwise; `name` says which).
///
/// ```swift
/// let cpu = CPUBackend()
/// print(cpu.name)   // "CPU (2 threads, GEMM: libopenblas.so.0 (...))"
/// ```
public final class CPUBackend: Backend, @unchecked Sendable {
    public let threads: Int
    public let blas: BLAS?

    public init(threads: Int? = nil, blasCandidates: [String] = BLAS.defaultCandidates) {
        let cores = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        self.threads = max(1, threads ?? cores)
        blas = BLAS.load(candidates: blasCandidates, threads: self.threads)
    }

    /// Which GEMM runs: the BLAS library, or the built-in fallback.
    public var gemmName: String { blas?.library ?? "built-in Swift GEMM (OpenBLAS not found: apt-get install libopenblas0)" }
    public var name: String { "CPU (\(threads) threads, GEMM: \(gemmName))" }

    /// Profiling marks: every kernel has finished when its call returns, so the host clock times it.
    private var marks: [(String, ContinuousClock.Instant)] = []

    public func mark(_ label: String) { marks.append((label, .now)) }

    public func markedSpans() -> [(label: String, seconds: Double)] {
        defer { marks.removeAll(keepingCapacity: true) }
        return zip(marks, marks.dropFirst()).map { ($0.0, ($1.1 - $0.1).inSeconds) }
    }
}
