import CTRCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The Open MPI entry points and predefined handles SwiftCTR uses, found at run time with
/// `dlopen` so the package builds and runs without MPI. Every signature mirrors Open MPI 4's
/// `mpi.h`: `MPI_Comm`, `MPI_Datatype`, `MPI_Op`, `MPI_Errhandler` and `MPI_Request` are
/// pointers to opaque structs (`OpaquePointer` here), counts and ranks are C ints, and the
/// predefined handles are the addresses of global objects (`#define MPI_COMM_WORLD
/// OMPI_PREDEFINED_GLOBAL(MPI_Comm, ompi_mpi_comm_world)`, which is `&ompi_mpi_comm_world`).
struct MPILibrary: @unchecked Sendable {
    // int MPI_Initialized(int *flag); int MPI_Finalized(int *flag)
    typealias Flag = @convention(c) (UnsafeMutablePointer<Int32>) -> Int32
    // int MPI_Init_thread(int *argc, char ***argv, int required, int *provided)
    typealias InitThread = @convention(c) (
        UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?,
        Int32, UnsafeMutablePointer<Int32>
    ) -> Int32
    // int MPI_Finalize(void)
    typealias Finalize = @convention(c) () -> Int32
    // int MPI_Comm_rank(MPI_Comm comm, int *rank); int MPI_Comm_size(MPI_Comm comm, int *size)
    typealias CommInt = @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int32>) -> Int32
    // int MPI_Abort(MPI_Comm comm, int errorcode)
    typealias Abort = @convention(c) (OpaquePointer?, Int32) -> Int32
    // int MPI_Comm_set_errhandler(MPI_Comm comm, MPI_Errhandler errhandler)
    typealias SetErrhandler = @convention(c) (OpaquePointer?, OpaquePointer?) -> Int32
    // int MPI_Error_string(int errorcode, char *string, int *resultlen)
    typealias ErrorString = @convention(c) (Int32, UnsafeMutablePointer<CChar>, UnsafeMutablePointer<Int32>) -> Int32
    // int MPI_Iallreduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype, MPI_Op, MPI_Comm, MPI_Request *);
    // MPI_Ireduce_scatter_block has the same parameters, with count the count each rank receives.
    typealias Reduce = @convention(c) (
        UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32, OpaquePointer?, OpaquePointer?, OpaquePointer?,
        UnsafeMutablePointer<OpaquePointer?>
    ) -> Int32
    // int MPI_Iallgather(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
    //   int recvcount, MPI_Datatype recvtype, MPI_Comm, MPI_Request *)
    typealias Allgather = @convention(c) (
        UnsafeRawPointer?, Int32, OpaquePointer?, UnsafeMutableRawPointer?, Int32, OpaquePointer?, OpaquePointer?,
        UnsafeMutablePointer<OpaquePointer?>
    ) -> Int32
    // int MPI_Iallgatherv(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
    //   const int recvcounts[], const int displs[], MPI_Datatype recvtype, MPI_Comm, MPI_Request *)
    typealias Allgatherv = @convention(c) (
        UnsafeRawPointer?, Int32, OpaquePointer?, UnsafeMutableRawPointer?, UnsafePointer<Int32>?,
        UnsafePointer<Int32>?, OpaquePointer?, OpaquePointer?, UnsafeMutablePointer<OpaquePointer?>
    ) -> Int32
    // int MPI_Ialltoallv(const void *sendbuf, const int sendcounts[], const int sdispls[], MPI_Datatype sendtype,
    //   void *recvbuf, const int recvcounts[], const int rdispls[], MPI_Datatype recvtype, MPI_Comm, MPI_Request *)
    typealias Alltoallv = @convention(c) (
        UnsafeRawPointer?, UnsafePointer<Int32>?, UnsafePointer<Int32>?, OpaquePointer?,
        UnsafeMutableRawPointer?, UnsafePointer<Int32>?, UnsafePointer<Int32>?, OpaquePointer?, OpaquePointer?,
        UnsafeMutablePointer<OpaquePointer?>
    ) -> Int32
    // int MPI_Ibarrier(MPI_Comm comm, MPI_Request *request)
    typealias Barrier = @convention(c) (OpaquePointer?, UnsafeMutablePointer<OpaquePointer?>) -> Int32
    // int MPI_Test(MPI_Request *request, int *flag, MPI_Status *status); status may be MPI_STATUS_IGNORE (NULL)
    typealias Test = @convention(c) (UnsafeMutablePointer<OpaquePointer?>, UnsafeMutablePointer<Int32>,
                                     UnsafeMutableRawPointer?) -> Int32

    /// The sonames tried, in order: Open MPI 4's ABI, then the development link.
    static let defaultCandidates = ["libmpi.so.40", "libmpi.so"]
    /// `MPI_SUCCESS`.
    static let success: Int32 = 0
    /// `MPI_THREAD_SERIALIZED` (the enum SINGLE, FUNNELED, SERIALIZED, MULTIPLE).
    static let threadSerialized: Int32 = 2

    /// The soname that loaded.
    let library: String
    let initialized: Flag, finalized: Flag, initThread: InitThread, finalize: Finalize
    let commRank: CommInt, commSize: CommInt, abort: Abort, setErrhandler: SetErrhandler, errorString: ErrorString
    let iallreduce: Reduce, ireduceScatterBlock: Reduce, iallgather: Allgather, iallgatherv: Allgatherv
    let ialltoallv: Alltoallv, ibarrier: Barrier, test: Test
    /// `MPI_COMM_WORLD`, `MPI_ERRORS_RETURN`, `MPI_SUM` and the datatypes moved.
    let world: OpaquePointer, errorsReturn: OpaquePointer, sum: OpaquePointer
    let float: OpaquePointer, double: OpaquePointer, int64: OpaquePointer, byte: OpaquePointer

    /// Loads the first candidate that opens and resolves every symbol; throws what was tried.
    static func load(candidates: [String] = defaultCandidates) throws(SwiftCTRError) -> MPILibrary {
        var found: [String] = []
        for name in candidates {
            // RTLD_GLOBAL: Open MPI's components, dlopened by MPI_Init, resolve symbols of libmpi.
            guard let handle = dlopen(name, RTLD_NOW | RTLD_GLOBAL) else {
                found.append("\(name): \(dlerror().map { String(cString: $0) } ?? "cannot be opened")")
                continue
            }
            var missing: [String] = []
            func address(_ symbol: String) -> UnsafeMutableRawPointer {
                if let address = dlsym(handle, symbol) { return address }
                missing.append(symbol)
                return UnsafeMutableRawPointer(bitPattern: 1)!
            }
            func function<F>(_ symbol: String, _ type: F.Type) -> F { unsafeBitCast(address(symbol), to: type) }
            func handleOf(_ symbol: String) -> OpaquePointer { OpaquePointer(address(symbol)) }
            let library = MPILibrary(
                library: name,
                initialized: function("MPI_Initialized", Flag.self), finalized: function("MPI_Finalized", Flag.self),
                initThread: function("MPI_Init_thread", InitThread.self), finalize: function("MPI_Finalize", Finalize.self),
                commRank: function("MPI_Comm_rank", CommInt.self), commSize: function("MPI_Comm_size", CommInt.self),
                abort: function("MPI_Abort", Abort.self),
                setErrhandler: function("MPI_Comm_set_errhandler", SetErrhandler.self),
                errorString: function("MPI_Error_string", ErrorString.self),
                iallreduce: function("MPI_Iallreduce", Reduce.self),
                ireduceScatterBlock: function("MPI_Ireduce_scatter_block", Reduce.self),
                iallgather: function("MPI_Iallgather", Allgather.self),
                iallgatherv: function("MPI_Iallgatherv", Allgatherv.self),
                ialltoallv: function("MPI_Ialltoallv", Alltoallv.self),
                ibarrier: function("MPI_Ibarrier", Barrier.self), test: function("MPI_Test", Test.self),
                world: handleOf("ompi_mpi_comm_world"), errorsReturn: handleOf("ompi_mpi_errors_return"),
                sum: handleOf("ompi_mpi_op_sum"), float: handleOf("ompi_mpi_float"), double: handleOf("ompi_mpi_double"),
                int64: handleOf("ompi_mpi_int64_t"), byte: handleOf("ompi_mpi_byte"))
            if missing.isEmpty { return library }
            found.append("\(name) lacks \(missing.joined(separator: ", ")) (not Open MPI 4 or later?)")
        }
        throw SwiftCTRError(.device, "under mpirun SwiftCTR needs Open MPI's libmpi "
            + "(\(candidates.joined(separator: " or "))); found: \(found.joined(separator: "; ")). "
            + "Install it (Debian/Ubuntu: apt-get install openmpi-bin libopenmpi3), or run without mpirun.")
    }

    /// MPI's text for a return code.
    func describe(_ code: Int32) -> String {
        var text = [CChar](repeating: 0, count: 512)   // MPI_MAX_ERROR_STRING is 256 in Open MPI
        var length: Int32 = 0
        guard errorString(code, &text, &length) == Self.success else { return "MPI error \(code)" }
        return "\(String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)) (code \(code))"
    }
}
