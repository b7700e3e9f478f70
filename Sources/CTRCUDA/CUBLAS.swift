/// `cublasStatus_t` (cublas_api.h): 0 is `CUBLAS_STATUS_SUCCESS`.
public typealias CUBLASStatus = Int32

/// cuBLAS loaded from libcublas with `dlopen`: one table of function pointers whose
/// `@convention(c)` types mirror cublas_api.h (CUDA 11–13). `cublasHandle_t` and `cudaStream_t`
/// are `OpaquePointer?`; `cublasOperation_t`, `cudaDataType`, `cublasComputeType_t`,
/// `cublasGemmAlgo_t` and `cublasMath_t` are C enums (`Int32`); device matrices are `CUdeviceptr`.
public final class CUBLASLibrary: @unchecked Sendable {
    /// Where libcublas came from.
    public let library: LoadedLibrary
    /// Where libcublasLt came from, when it could be loaded first (libcublas then reuses it).
    public let lt: LoadedLibrary?

    /// cublasStatus_t cublasCreate_v2(cublasHandle_t *handle);
    public let cublasCreate: @convention(c) (UnsafeMutablePointer<OpaquePointer?>) -> CUBLASStatus
    /// cublasStatus_t cublasDestroy_v2(cublasHandle_t handle);
    public let cublasDestroy: @convention(c) (OpaquePointer?) -> CUBLASStatus
    /// cublasStatus_t cublasSetStream_v2(cublasHandle_t handle, cudaStream_t streamId);
    public let cublasSetStream: @convention(c) (OpaquePointer?, OpaquePointer?) -> CUBLASStatus
    /// cublasStatus_t cublasSetWorkspace_v2(cublasHandle_t handle, void *workspace, size_t workspaceSizeInBytes);
    /// (cuBLAS 11.2 and later.)
    public let cublasSetWorkspace: (@convention(c) (OpaquePointer?, CUdeviceptr, Int) -> CUBLASStatus)?
    /// cublasStatus_t cublasGetVersion_v2(cublasHandle_t handle, int *version);
    public let cublasGetVersion: @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int32>) -> CUBLASStatus
    /// cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode);
    public let cublasSetMathMode: @convention(c) (OpaquePointer?, Int32) -> CUBLASStatus
    /// cublasStatus_t cublasSgemm_v2(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb,
    ///     int m, int n, int k, const float *alpha, const float *A, int lda, const float *B, int ldb,
    ///     const float *beta, float *C, int ldc);
    public let cublasSgemm: @convention(c) (
        OpaquePointer?, Int32, Int32, Int32, Int32, Int32,
        UnsafePointer<Float>, CUdeviceptr, Int32, CUdeviceptr, Int32,
        UnsafePointer<Float>, CUdeviceptr, Int32
    ) -> CUBLASStatus
    /// cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t handle, cublasOperation_t transa,
    ///     cublasOperation_t transb, int m, int n, int k, const float *alpha, const float *A, int lda,
    ///     long long int strideA, const float *B, int ldb, long long int strideB, const float *beta,
    ///     float *C, int ldc, long long int strideC, int batchCount);
    public let cublasSgemmStridedBatched: (@convention(c) (
        OpaquePointer?, Int32, Int32, Int32, Int32, Int32,
        UnsafePointer<Float>, CUdeviceptr, Int32, Int64, CUdeviceptr, Int32, Int64,
        UnsafePointer<Float>, CUdeviceptr, Int32, Int64, Int32
    ) -> CUBLASStatus)?
    /// cublasStatus_t cublasGemmEx(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb,
    ///     int m, int n, int k, const void *alpha, const void *A, cudaDataType Atype, int lda,
    ///     const void *B, cudaDataType Btype, int ldb, const void *beta, void *C, cudaDataType Ctype, int ldc,
    ///     cublasComputeType_t computeType, cublasGemmAlgo_t algo);
    public let cublasGemmEx: @convention(c) (
        OpaquePointer?, Int32, Int32, Int32, Int32, Int32,
        UnsafeRawPointer, CUdeviceptr, Int32, Int32, CUdeviceptr, Int32, Int32,
        UnsafeRawPointer, CUdeviceptr, Int32, Int32, Int32, Int32
    ) -> CUBLASStatus
    /// cublasStatus_t cublasGetProperty(libraryPropertyType type, int *value); nil when not exported.
    public let cublasGetProperty: (@convention(c) (Int32, UnsafeMutablePointer<Int32>) -> CUBLASStatus)?

    /// Finds libcublasLt (best effort) and libcublas (see `CUDALibraryLocator`) and resolves every
    /// entry point.
    public static func load(loader: any DynamicLibraryLoader = SystemLoader()) throws(CUDAError) -> CUBLASLibrary {
        let locator = CUDALibraryLocator(loader: loader)
        let lt = try? locator.load(.cublasLt)
        return try CUBLASLibrary(library: locator.load(.cublas), lt: lt, loader: loader)
    }

    public init(library: LoadedLibrary, lt: LoadedLibrary?, loader: any DynamicLibraryLoader) throws(CUDAError) {
        self.library = library
        self.lt = lt
        let symbols = SymbolResolver(library: library, loader: loader)
        cublasCreate = try symbols.resolve("cublasCreate_v2")
        cublasDestroy = try symbols.resolve("cublasDestroy_v2")
        cublasSetStream = try symbols.resolve("cublasSetStream_v2")
        cublasSetWorkspace = symbols.optional("cublasSetWorkspace_v2")
        cublasGetVersion = try symbols.resolve("cublasGetVersion_v2")
        cublasSetMathMode = try symbols.resolve("cublasSetMathMode")
        cublasSgemm = try symbols.resolve("cublasSgemm_v2")
        cublasSgemmStridedBatched = symbols.optional("cublasSgemmStridedBatched")
        cublasGemmEx = try symbols.resolve("cublasGemmEx")
        cublasGetProperty = symbols.optional("cublasGetProperty")
    }

    /// The library's version as (major, minor, patch) without a handle or a GPU, when it exports
    /// `cublasGetProperty` (libraryPropertyType: MAJOR_VERSION = 0, MINOR_VERSION = 1, PATCH_LEVEL = 2).
    public var version: (major: Int, minor: Int, patch: Int)? {
        guard let cublasGetProperty else { return nil }
        var parts: [Int] = []
        for property: Int32 in 0...2 {
            var value: Int32 = 0
            guard cublasGetProperty(property, &value) == 0 else { return nil }
            parts.append(Int(value))
        }
        return (parts[0], parts[1], parts[2])
    }

    /// Throws `cublasFailed` unless `status` is `CUBLAS_STATUS_SUCCESS`.
    public func check(_ status: CUBLASStatus, _ function: String,
                      file: String = #fileID, line: Int = #line) throws(CUDAError) {
        guard status != 0 else { return }
        throw CUDAError(.cublasFailed(function: function, status: status), site: "\(file):\(line)")
    }
}

/// `cudaDataType` (library_types.h) values SwiftCTR's GEMMs use.
public enum CUDADataType: Int32, Sendable {
    /// `CUDA_R_32F`.
    case float32 = 0
    /// `CUDA_R_16F`.
    case float16 = 2
    /// `CUDA_R_16BF`.
    case bfloat16 = 14
}

/// `cublasMath_t` (cublas_api.h).
public enum CUBLASMathMode: Int32, Sendable {
    /// `CUBLAS_DEFAULT_MATH`: full fp32 for fp32 GEMMs.
    case `default` = 0
    /// `CUBLAS_PEDANTIC_MATH`: the reference algorithms only.
    case pedantic = 2
    /// `CUBLAS_TF32_TENSOR_OP_MATH`: fp32 GEMMs may round inputs to TF32 on tensor cores.
    case tf32TensorOp = 3
}

/// A cuBLAS handle bound to one device, with row-major GEMMs (HugeCTR's `FullyConnectedLayer`
/// calls cuBLAS the same way: row-major operands passed swapped to column-major cuBLAS).
///
/// ```swift
/// let blas = try CUBLAS(device: gpu)
/// // C (m×n) = A (m×k) · B (k×n), all row-major float32
/// try blas.sgemmRowMajor(transA: false, transB: false, m: m, n: n, k: k,
///                        alpha: 1, a: a, b: b, beta: 0, c: c, stream: stream)
/// ```
public final class CUBLAS: @unchecked Sendable {
    public let device: CUDADevice
    public let functions: CUBLASLibrary
    /// The `cublasHandle_t`.
    public let handle: OpaquePointer?
    /// The handle's own workspace (0 when cuBLAS has no `cublasSetWorkspace`): without one, a
    /// GEMM captured into a CUDA graph may only use kernels that need none.
    private var workspace: CUdeviceptr = 0
    /// cuBLAS's recommended workspace on Hopper (4 MiB before it).
    static let workspaceBytes = 32 << 20

    /// Loads cuBLAS through `loader` and creates a handle on `device` (its context is made current).
    public convenience init(device: CUDADevice, loader: any DynamicLibraryLoader = SystemLoader()) throws(CUDAError) {
        try self.init(device: device, functions: CUBLASLibrary.load(loader: loader))
    }

    public init(device: CUDADevice, functions: CUBLASLibrary) throws(CUDAError) {
        self.device = device
        self.functions = functions
        try device.makeCurrent()
        var created: OpaquePointer?
        let status = functions.cublasCreate(&created)
        if status == 3 {  // CUBLAS_STATUS_ALLOC_FAILED
            let info = try? device.memoryInfo()
            throw CUDAError(.outOfMemory(requested: nil, free: info?.free, total: info?.total))
        }
        try functions.check(status, "cublasCreate_v2")
        handle = created
        if let setWorkspace = functions.cublasSetWorkspace {
            workspace = try device.allocate(bytes: Self.workspaceBytes)
            try functions.check(setWorkspace(handle, workspace, Self.workspaceBytes), "cublasSetWorkspace_v2")
        }
    }

    deinit {
        device.withContextPushed { _ in CUresult(functions.cublasDestroy(handle)) }
        if workspace != 0 { try? device.free(workspace) }
    }

    /// `cublasGetVersion_v2`: 10000·major + 100·minor + patch (e.g. 130100 for 13.1.0).
    public func version() throws(CUDAError) -> Int {
        var value: Int32 = 0
        try functions.check(functions.cublasGetVersion(handle, &value), "cublasGetVersion_v2")
        return Int(value)
    }

    /// Chooses whether fp32 GEMMs may use TF32 tensor cores.
    public func setMathMode(_ mode: CUBLASMathMode) throws(CUDAError) {
        try functions.check(functions.cublasSetMathMode(handle, mode.rawValue), "cublasSetMathMode")
    }

    /// Row-major `C = alpha·op(A)·op(B) + beta·C` in float32, with `op(A)` m×k, `op(B)` k×n and
    /// `C` m×n, queued on `stream` (nil: the legacy default stream). Cost: 2·m·n·k FLOPs.
    ///
    /// A row-major matrix is its transpose in column-major, so this computes
    /// `Cᵀ = op(B)ᵀ·op(A)ᵀ` in column-major: the operands swap places, and each keeps its own
    /// transpose flag and row-major leading dimension (lda = transA ? m : k, ldb = transB ? k : n,
    /// ldc = n).
    public func sgemmRowMajor(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                              a: CUdeviceptr, b: CUdeviceptr, beta: Float, c: CUdeviceptr,
                              stream: CUDAStream?) throws(CUDAError) {
        precondition(m >= 0 && n >= 0 && k >= 0, "sgemmRowMajor: negative size m=\(m) n=\(n) k=\(k)")
        if m == 0 || n == 0 { return }
        try bind(stream)
        var alpha = alpha
        var beta = beta
        let status = functions.cublasSgemm(
            handle, operation(transB), operation(transA), Int32(n), Int32(m), Int32(k),
            &alpha, b, Int32(transB ? k : n), a, Int32(transA ? m : k),
            &beta, c, Int32(n))
        try functions.check(status, "cublasSgemm_v2")
    }

    /// `count` independent row-major float32 GEMMs `C_i = alpha·op(A_i)·op(B_i) + beta·C_i`, with
    /// matrix i at `a + i·strideA` (strides in elements), as `sgemmRowMajor`. Needs
    /// `cublasSgemmStridedBatched` (cuBLAS 8+). Cost: 2·m·n·k·count FLOPs.
    public func sgemmStridedBatchedRowMajor(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                                            a: CUdeviceptr, strideA: Int, b: CUdeviceptr, strideB: Int,
                                            beta: Float, c: CUdeviceptr, strideC: Int, count: Int,
                                            stream: CUDAStream?) throws(CUDAError) {
        guard let batched = functions.cublasSgemmStridedBatched else {
            throw CUDAError(.symbolMissing(library: .cublas, path: functions.library.file ?? functions.library.path,
                                           symbol: "cublasSgemmStridedBatched"))
        }
        precondition(m >= 0 && n >= 0 && k >= 0 && count >= 0,
                     "sgemmStridedBatchedRowMajor: negative size m=\(m) n=\(n) k=\(k) count=\(count)")
        if m == 0 || n == 0 || count == 0 { return }
        try bind(stream)
        var alpha = alpha
        var beta = beta
        // cuBLAS rejects a leading dimension below 1, which k = 0 (C = beta·C) would give.
        let status = batched(
            handle, operation(transB), operation(transA), Int32(n), Int32(m), Int32(k),
            &alpha, b, Int32(max(1, transB ? k : n)), Int64(strideB), a, Int32(max(1, transA ? m : k)), Int64(strideA),
            &beta, c, Int32(n), Int64(strideC), Int32(count))
        try functions.check(status, "cublasSgemmStridedBatched")
    }

    /// Row-major `C = alpha·op(A)·op(B) + beta·C` with bf16 (or fp16) inputs and fp32
    /// accumulation (`CUBLAS_COMPUTE_32F`, `CUBLAS_GEMM_DEFAULT`); `C` is `cType` (fp32 by
    /// default). Same layout rules as `sgemmRowMajor`. Cost: 2·m·n·k FLOPs on tensor cores.
    public func gemmExRowMajor(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                               a: CUdeviceptr, aType: CUDADataType = .bfloat16,
                               b: CUdeviceptr, bType: CUDADataType = .bfloat16,
                               beta: Float, c: CUdeviceptr, cType: CUDADataType = .float32,
                               stream: CUDAStream?) throws(CUDAError) {
        precondition(m >= 0 && n >= 0 && k >= 0, "gemmExRowMajor: negative size m=\(m) n=\(n) k=\(k)")
        if m == 0 || n == 0 { return }
        try bind(stream)
        var alpha = alpha
        var beta = beta
        let computeFloat32: Int32 = 68  // CUBLAS_COMPUTE_32F
        let defaultAlgorithm: Int32 = -1  // CUBLAS_GEMM_DEFAULT
        let status = functions.cublasGemmEx(
            handle, operation(transB), operation(transA), Int32(n), Int32(m), Int32(k),
            &alpha, b, bType.rawValue, Int32(transB ? k : n), a, aType.rawValue, Int32(transA ? m : k),
            &beta, c, cType.rawValue, Int32(n), computeFloat32, defaultAlgorithm)
        try functions.check(status, "cublasGemmEx")
    }

    private func bind(_ stream: CUDAStream?) throws(CUDAError) {
        try functions.check(functions.cublasSetStream(handle, stream?.handle), "cublasSetStream_v2")
    }

    /// `CUBLAS_OP_N` = 0, `CUBLAS_OP_T` = 1.
    private func operation(_ transposed: Bool) -> Int32 { transposed ? 1 : 0 }
}
