import CTRCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The MPI job this process is one rank of: Open MPI loaded at run time, initialized once, its
/// rank and size in `MPI_COMM_WORLD`, and finalized when the process exits. HugeCTR runs one
/// process per GPU or host under `mpirun`; SwiftCTR does the same with one worker per process
/// (`MPICollective`).
///
/// ```swift
/// if MPIRuntime.launchedByMPI {
///     let mpi = try MPIRuntime.shared()
///     print("rank \(mpi.rank) of \(mpi.size)")
/// }
/// ```
public final class MPIRuntime: Sendable {
    /// The variables an MPI launcher sets in each rank's environment: Open MPI's, PMI's, PMIx's.
    public static let launcherVariables = ["OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK", "PMI_SIZE", "PMI_RANK",
                                           "PMIX_RANK"]

    /// Whether an MPI launcher (`mpirun`, `srun --mpi`) started this process.
    public static var launchedByMPI: Bool { launcherVariables.contains { getenv($0) != nil } }

    /// This process's rank as the launcher's environment gives it, without starting MPI (nil
    /// when no launcher started the process).
    public static var launcherRank: Int? {
        let names = ["OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"]
        return names.lazy.compactMap { (name: String) -> Int? in getenv(name).flatMap { Int(String(cString: $0)) } }.first
    }

    /// This process's rank in `MPI_COMM_WORLD`, 0..<size.
    public let rank: Int
    /// The number of processes in the job.
    public let size: Int
    /// The libmpi soname that was loaded.
    public var library: String { mpi.library }
    let mpi: MPILibrary

    /// The process's runtime: the first call loads libmpi and initializes MPI (later calls may
    /// come from any thread, one at a time), the following calls return the same runtime or
    /// throw the same error: libmpi not installed, or MPI failing to start.
    public static func shared() throws(SwiftCTRError) -> MPIRuntime { try started.get() }

    private static let started = Result { () throws(SwiftCTRError) in try MPIRuntime(mpi: MPILibrary.load()) }

    private init(mpi: MPILibrary) throws(SwiftCTRError) {
        self.mpi = mpi
        var flag: Int32 = 0
        _ = mpi.initialized(&flag)
        if flag == 0 {
            // Serialized: the trainer may call from any thread, never from two at once.
            var provided: Int32 = 0
            let code = mpi.initThread(nil, nil, MPILibrary.threadSerialized, &provided)
            guard code == MPILibrary.success else {
                throw SwiftCTRError(.device, "MPI_Init_thread failed: \(mpi.describe(code)). See Open MPI's messages above.")
            }
            atexit { MPIRuntime.finalizeAtExit() }
        }
        // Codes instead of Open MPI's fatal handler, so that a failing call is named before the job ends.
        _ = mpi.setErrhandler(mpi.world, mpi.errorsReturn)
        var rank: Int32 = 0, size: Int32 = 0
        _ = mpi.commRank(mpi.world, &rank)
        _ = mpi.commSize(mpi.world, &size)
        self.rank = Int(rank)
        self.size = Int(size)
    }

    /// Prints `swiftctr: rank R of N: message` to standard error and ends every rank of the job
    /// with exit status `code` (`MPI_Abort` on `MPI_COMM_WORLD`).
    public func abort(_ message: String, code: Int32 = 1) -> Never {
        let line = Array("swiftctr: rank \(rank) of \(size): \(message)\n".utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }   // one write: lines of ranks do not interleave
        _ = mpi.abort(mpi.world, code)
        _exit(code)   // not exit: MPI_Finalize at exit could wait for the ranks that hang
    }

    /// `MPI_Finalize` at exit: mpirun reports a rank that exits without it as a failure.
    private static func finalizeAtExit() {
        guard case .success(let runtime) = started else { return }
        var finalized: Int32 = 0
        _ = runtime.mpi.finalized(&finalized)
        if finalized == 0 { _ = runtime.mpi.finalize() }
    }
}
