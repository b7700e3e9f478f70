import CTRCore

/// `ncclResult_t` (nccl.h): 0 is `ncclSuccess`.
public typealias NCCLResult = Int32

/// NCCL loaded from libnccl with `dlopen` (the system's libnccl.so.2, or the `nvidia-nccl-cu12`/
/// `cu13` wheel's `nvidia/nccl/lib/libnccl.so.2`, found by `CUDALibraryLocator`): one table of
/// function pointers whose `@convention(c)` types mirror nccl.h (NCCL 2.7 and later, the first
/// with `ncclSend`/`ncclRecv`). `ncclComm_t` and `cudaStream_t` are `OpaquePointer?`, device
/// buffers `CUdeviceptr` (a 64-bit integer, passed as the `void *` it stands for), `size_t` is
/// `Int`, and the enums `ncclResult_t`, `ncclDataType_t` and `ncclRedOp_t` are C ints (`Int32`).
///
/// `ncclCommInitRank` is not here: it takes the 128-byte `ncclUniqueId` by value, which a Swift
/// `@convention(c)` type cannot pass. One process driving its GPUs needs only `ncclCommInitAll`.
///
/// ```swift
/// let nccl = try NCCLLibrary.load()
/// print(nccl.versionString)   // "2.27.3"
/// ```
public final class NCCLLibrary: @unchecked Sendable {
    /// Where libnccl came from.
    public let library: LoadedLibrary
    /// `ncclGetVersion`: 10000·major + 100·minor + patch (e.g. 22703), 1000·major + 100·minor +
    /// patch before NCCL 2.9.
    public let version: Int

    /// ncclResult_t ncclGetVersion(int *version);
    public let ncclGetVersion: @convention(c) (UnsafeMutablePointer<Int32>) -> NCCLResult
    /// ncclResult_t ncclCommInitAll(ncclComm_t *comm, int ndev, const int *devlist);
    public let ncclCommInitAll: @convention(c) (UnsafeMutablePointer<OpaquePointer?>, Int32, UnsafePointer<Int32>) -> NCCLResult
    /// ncclResult_t ncclCommDestroy(ncclComm_t comm); ncclResult_t ncclCommAbort(ncclComm_t comm);
    public let ncclCommDestroy: @convention(c) (OpaquePointer?) -> NCCLResult
    public let ncclCommAbort: @convention(c) (OpaquePointer?) -> NCCLResult
    /// ncclResult_t ncclCommGetAsyncError(ncclComm_t comm, ncclResult_t *asyncError);
    public let ncclCommGetAsyncError: @convention(c) (OpaquePointer?, UnsafeMutablePointer<NCCLResult>) -> NCCLResult
    /// const char *ncclGetErrorString(ncclResult_t result);
    public let ncclGetErrorString: @convention(c) (NCCLResult) -> UnsafePointer<CChar>?
    /// const char *ncclGetLastError(ncclComm_t comm); nil before NCCL 2.13.
    public let ncclGetLastError: (@convention(c) (OpaquePointer?) -> UnsafePointer<CChar>?)?
    /// ncclResult_t ncclGroupStart(void); ncclResult_t ncclGroupEnd(void);
    public let ncclGroupStart: @convention(c) () -> NCCLResult
    public let ncclGroupEnd: @convention(c) () -> NCCLResult
    /// ncclResult_t ncclAllReduce(const void *sendbuff, void *recvbuff, size_t count,
    ///     ncclDataType_t datatype, ncclRedOp_t op, ncclComm_t comm, cudaStream_t stream);
    /// ncclReduceScatter has the same parameters, with count the count each rank receives.
    public let ncclAllReduce: Reduce
    public let ncclReduceScatter: Reduce
    /// ncclResult_t ncclAllGather(const void *sendbuff, void *recvbuff, size_t sendcount,
    ///     ncclDataType_t datatype, ncclComm_t comm, cudaStream_t stream);
    public let ncclAllGather: @convention(c) (CUdeviceptr, CUdeviceptr, Int, Int32, OpaquePointer?, OpaquePointer?) -> NCCLResult
    /// ncclResult_t ncclSend(const void *sendbuff, size_t count, ncclDataType_t datatype, int peer,
    ///     ncclComm_t comm, cudaStream_t stream); ncclRecv has the same parameters, into recvbuff.
    public let ncclSend: PointToPoint
    public let ncclRecv: PointToPoint

    public typealias Reduce = @convention(c) (
        CUdeviceptr, CUdeviceptr, Int, Int32, Int32, OpaquePointer?, OpaquePointer?
    ) -> NCCLResult
    public typealias PointToPoint = @convention(c) (CUdeviceptr, Int, Int32, Int32, OpaquePointer?, OpaquePointer?) -> NCCLResult

    /// `ncclSuccess`, and `ncclInProgress`: what `ncclCommGetAsyncError` says while a
    /// non-blocking call is still being set up.
    static let success: NCCLResult = 0
    static let inProgress: NCCLResult = 7
    /// `ncclSum` (ncclRedOp_t).
    static let sum: Int32 = 0

    /// Finds libnccl (see `CUDALibraryLocator`) and resolves every entry point. Throws what was
    /// looked for, every path tried and how to install NCCL, or which entry point an old NCCL lacks.
    public static func load(loader: any DynamicLibraryLoader = SystemLoader()) throws(SwiftCTRError) -> NCCLLibrary {
        do {
            return try NCCLLibrary(library: CUDALibraryLocator(loader: loader).load(.nccl), loader: loader)
        } catch {
            throw SwiftCTRError(.device, error.description)
        }
    }

    public init(library: LoadedLibrary, loader: any DynamicLibraryLoader) throws(CUDAError) {
        self.library = library
        let symbols = SymbolResolver(library: library, loader: loader)
        ncclGetVersion = try symbols.resolve("ncclGetVersion")
        ncclCommInitAll = try symbols.resolve("ncclCommInitAll")
        ncclCommDestroy = try symbols.resolve("ncclCommDestroy")
        ncclCommAbort = try symbols.resolve("ncclCommAbort")
        ncclCommGetAsyncError = try symbols.resolve("ncclCommGetAsyncError")
        ncclGetErrorString = try symbols.resolve("ncclGetErrorString")
        ncclGetLastError = symbols.optional("ncclGetLastError")
        ncclGroupStart = try symbols.resolve("ncclGroupStart")
        ncclGroupEnd = try symbols.resolve("ncclGroupEnd")
        ncclAllReduce = try symbols.resolve("ncclAllReduce")
        ncclReduceScatter = try symbols.resolve("ncclReduceScatter")
        ncclAllGather = try symbols.resolve("ncclAllGather")
        ncclSend = try symbols.resolve("ncclSend")
        ncclRecv = try symbols.resolve("ncclRecv")
        var code: Int32 = 0
        _ = ncclGetVersion(&code)
        version = Int(code)
    }

    /// `version` as "2.27.3".
    public var versionString: String {
        let major = version >= 10000 ? version / 10000 : version / 1000
        let minor = version >= 10000 ? version % 10000 / 100 : version % 1000 / 100
        return "\(major).\(minor).\(version % 100)"
    }

    /// NCCL's text for `result`, with `comm`'s last error when NCCL keeps one (2.13 and later).
    func describe(_ result: NCCLResult, comm: OpaquePointer? = nil) -> String {
        let name = ncclGetErrorString(result).map { String(cString: $0) } ?? "unknown ncclResult_t"
        var text = "\(name) (ncclResult_t \(result))"
        if let last = ncclGetLastError?(comm).map({ String(cString: $0) }), !last.isEmpty { text += ": \(last)" }
        return text
    }
}

/// `ncclDataType_t` (nccl.h) values SwiftCTR moves.
enum NCCLDataType: Int32 {
    /// `ncclUint8`: bytes, for the exchanges that only move data.
    case uint8 = 1
    /// `ncclFloat32`.
    case float32 = 7
    /// `ncclFloat64`.
    case float64 = 8
}
