/// `CUresult` (cuda.h): 0 is `CUDA_SUCCESS`.
public typealias CUresult = Int32
/// `CUdeviceptr` (cuda.h): a device address, 64-bit on every supported platform.
public typealias CUdeviceptr = UInt64
/// `CUdevice` (cuda.h): a device handle, a C `int`.
public typealias CUdevice = Int32

/// The CUDA driver API, loaded from libcuda with `dlopen`: one table of function pointers whose
/// `@convention(c)` types mirror cuda.h (CUDA 12/13). Handles (`CUcontext`, `CUstream`, …) are
/// `OpaquePointer?`, `size_t` is `Int`, C enums and `int` are `Int32`, `unsigned int` is `UInt32`.
/// The `_v2` entry points are the ones cuda.h's macros select.
///
/// ```swift
/// let driver = try CUDADriver.load()
/// try driver.check(driver.cuInit(0), "cuInit")
/// ```
///
/// Only the wrappers in this module (`CUDADevice`, `CUDAStream`, …) should call the pointers.
public final class CUDADriver: @unchecked Sendable {
    /// Where libcuda came from.
    public let library: LoadedLibrary

    // MARK: initialisation and devices

    /// CUresult cuInit(unsigned int Flags);
    public let cuInit: @convention(c) (UInt32) -> CUresult
    /// CUresult cuDriverGetVersion(int *driverVersion);
    public let cuDriverGetVersion: @convention(c) (UnsafeMutablePointer<Int32>) -> CUresult
    /// CUresult cuDeviceGetCount(int *count);
    public let cuDeviceGetCount: @convention(c) (UnsafeMutablePointer<Int32>) -> CUresult
    /// CUresult cuDeviceGet(CUdevice *device, int ordinal);
    public let cuDeviceGet: @convention(c) (UnsafeMutablePointer<CUdevice>, Int32) -> CUresult
    /// CUresult cuDeviceGetName(char *name, int len, CUdevice dev);
    public let cuDeviceGetName: @convention(c) (UnsafeMutablePointer<CChar>, Int32, CUdevice) -> CUresult
    /// CUresult cuDeviceGetAttribute(int *pi, CUdevice_attribute attrib, CUdevice dev);
    public let cuDeviceGetAttribute: @convention(c) (UnsafeMutablePointer<Int32>, Int32, CUdevice) -> CUresult
    /// CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice dev);
    public let cuDeviceTotalMem: @convention(c) (UnsafeMutablePointer<Int>, CUdevice) -> CUresult

    // MARK: contexts

    /// CUresult cuDevicePrimaryCtxRetain(CUcontext *pctx, CUdevice dev);
    public let cuDevicePrimaryCtxRetain: @convention(c) (UnsafeMutablePointer<OpaquePointer?>, CUdevice) -> CUresult
    /// CUresult cuDevicePrimaryCtxRelease_v2(CUdevice dev);
    public let cuDevicePrimaryCtxRelease: @convention(c) (CUdevice) -> CUresult
    /// CUresult cuCtxSetCurrent(CUcontext ctx);
    public let cuCtxSetCurrent: @convention(c) (OpaquePointer?) -> CUresult
    /// CUresult cuCtxPushCurrent_v2(CUcontext ctx);
    public let cuCtxPushCurrent: @convention(c) (OpaquePointer?) -> CUresult
    /// CUresult cuCtxPopCurrent_v2(CUcontext *pctx);
    public let cuCtxPopCurrent: @convention(c) (UnsafeMutablePointer<OpaquePointer?>?) -> CUresult
    /// CUresult cuCtxSynchronize(void);
    public let cuCtxSynchronize: @convention(c) () -> CUresult

    // MARK: memory

    /// CUresult cuMemAlloc_v2(CUdeviceptr *dptr, size_t bytesize);
    public let cuMemAlloc: @convention(c) (UnsafeMutablePointer<CUdeviceptr>, Int) -> CUresult
    /// CUresult cuMemFree_v2(CUdeviceptr dptr);
    public let cuMemFree: @convention(c) (CUdeviceptr) -> CUresult
    /// CUresult cuMemGetInfo_v2(size_t *free, size_t *total);
    public let cuMemGetInfo: @convention(c) (UnsafeMutablePointer<Int>, UnsafeMutablePointer<Int>) -> CUresult
    /// CUresult cuMemcpyHtoD_v2(CUdeviceptr dstDevice, const void *srcHost, size_t ByteCount);
    public let cuMemcpyHtoD: @convention(c) (CUdeviceptr, UnsafeRawPointer, Int) -> CUresult
    /// CUresult cuMemcpyDtoH_v2(void *dstHost, CUdeviceptr srcDevice, size_t ByteCount);
    public let cuMemcpyDtoH: @convention(c) (UnsafeMutableRawPointer, CUdeviceptr, Int) -> CUresult
    /// CUresult cuMemcpyDtoD_v2(CUdeviceptr dstDevice, CUdeviceptr srcDevice, size_t ByteCount);
    public let cuMemcpyDtoD: @convention(c) (CUdeviceptr, CUdeviceptr, Int) -> CUresult
    /// CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dstDevice, const void *srcHost, size_t ByteCount, CUstream hStream);
    public let cuMemcpyHtoDAsync: @convention(c) (CUdeviceptr, UnsafeRawPointer, Int, OpaquePointer?) -> CUresult
    /// CUresult cuMemcpyDtoHAsync_v2(void *dstHost, CUdeviceptr srcDevice, size_t ByteCount, CUstream hStream);
    public let cuMemcpyDtoHAsync: @convention(c) (UnsafeMutableRawPointer, CUdeviceptr, Int, OpaquePointer?) -> CUresult
    /// CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dstDevice, CUdeviceptr srcDevice, size_t ByteCount, CUstream hStream);
    public let cuMemcpyDtoDAsync: @convention(c) (CUdeviceptr, CUdeviceptr, Int, OpaquePointer?) -> CUresult
    /// CUresult cuMemsetD8_v2(CUdeviceptr dstDevice, unsigned char uc, size_t N);
    public let cuMemsetD8: @convention(c) (CUdeviceptr, UInt8, Int) -> CUresult
    /// CUresult cuMemsetD32_v2(CUdeviceptr dstDevice, unsigned int ui, size_t N);
    public let cuMemsetD32: @convention(c) (CUdeviceptr, UInt32, Int) -> CUresult
    /// CUresult cuMemsetD8Async(CUdeviceptr dstDevice, unsigned char uc, size_t N, CUstream hStream);
    public let cuMemsetD8Async: @convention(c) (CUdeviceptr, UInt8, Int, OpaquePointer?) -> CUresult
    /// CUresult cuMemsetD32Async(CUdeviceptr dstDevice, unsigned int ui, size_t N, CUstream hStream);
    public let cuMemsetD32Async: @convention(c) (CUdeviceptr, UInt32, Int, OpaquePointer?) -> CUresult
    /// CUresult cuMemAllocHost_v2(void **pp, size_t bytesize);
    public let cuMemAllocHost: @convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>, Int) -> CUresult
    /// CUresult cuMemFreeHost(void *p);
    public let cuMemFreeHost: @convention(c) (UnsafeMutableRawPointer?) -> CUresult

    // MARK: streams and events

    /// CUresult cuStreamCreate(CUstream *phStream, unsigned int Flags);
    public let cuStreamCreate: @convention(c) (UnsafeMutablePointer<OpaquePointer?>, UInt32) -> CUresult
    /// CUresult cuStreamSynchronize(CUstream hStream);
    public let cuStreamSynchronize: @convention(c) (OpaquePointer?) -> CUresult
    /// CUresult cuStreamQuery(CUstream hStream); CUDA_ERROR_NOT_READY (600) while work is queued.
    public let cuStreamQuery: @convention(c) (OpaquePointer?) -> CUresult
    /// CUresult cuStreamDestroy_v2(CUstream hStream);
    public let cuStreamDestroy: @convention(c) (OpaquePointer?) -> CUresult
    /// CUresult cuStreamWaitEvent(CUstream hStream, CUevent hEvent, unsigned int Flags);
    public let cuStreamWaitEvent: @convention(c) (OpaquePointer?, OpaquePointer?, UInt32) -> CUresult
    /// CUresult cuEventCreate(CUevent *phEvent, unsigned int Flags);
    public let cuEventCreate: @convention(c) (UnsafeMutablePointer<OpaquePointer?>, UInt32) -> CUresult
    /// CUresult cuEventRecord(CUevent hEvent, CUstream hStream);
    public let cuEventRecord: @convention(c) (OpaquePointer?, OpaquePointer?) -> CUresult
    /// CUresult cuEventSynchronize(CUevent hEvent);
    public let cuEventSynchronize: @convention(c) (OpaquePointer?) -> CUresult
    /// CUresult cuEventElapsedTime_v2(float *pMilliseconds, CUevent hStart, CUevent hEnd);
    /// (CUDA 12.8+; `cuEventElapsedTime`, same prototype, on older drivers.)
    public let cuEventElapsedTime: @convention(c) (UnsafeMutablePointer<Float>, OpaquePointer?, OpaquePointer?) -> CUresult
    /// CUresult cuEventDestroy_v2(CUevent hEvent);
    public let cuEventDestroy: @convention(c) (OpaquePointer?) -> CUresult

    // MARK: modules and launches

    /// CUresult cuModuleLoadData(CUmodule *module, const void *image);
    public let cuModuleLoadData: @convention(c) (UnsafeMutablePointer<OpaquePointer?>, UnsafeRawPointer) -> CUresult
    /// CUresult cuModuleUnload(CUmodule hmod);
    public let cuModuleUnload: @convention(c) (OpaquePointer?) -> CUresult
    /// CUresult cuModuleGetFunction(CUfunction *hfunc, CUmodule hmod, const char *name);
    public let cuModuleGetFunction: @convention(c) (UnsafeMutablePointer<OpaquePointer?>, OpaquePointer?, UnsafePointer<CChar>) -> CUresult
    /// CUresult cuFuncSetAttribute(CUfunction hfunc, CUfunction_attribute attrib, int value);
    public let cuFuncSetAttribute: @convention(c) (OpaquePointer?, Int32, Int32) -> CUresult
    /// CUresult cuLaunchKernel(CUfunction f, unsigned int gridDimX, unsigned int gridDimY, unsigned int gridDimZ,
    ///     unsigned int blockDimX, unsigned int blockDimY, unsigned int blockDimZ, unsigned int sharedMemBytes,
    ///     CUstream hStream, void **kernelParams, void **extra);
    public let cuLaunchKernel: @convention(c) (
        OpaquePointer?, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, OpaquePointer?,
        UnsafeMutablePointer<UnsafeMutableRawPointer?>?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?
    ) -> CUresult

    // MARK: graphs

    /// CUresult cuStreamBeginCapture_v2(CUstream hStream, CUstreamCaptureMode mode);
    public let cuStreamBeginCapture: @convention(c) (OpaquePointer?, Int32) -> CUresult
    /// CUresult cuStreamEndCapture(CUstream hStream, CUgraph *phGraph);
    public let cuStreamEndCapture: @convention(c) (OpaquePointer?, UnsafeMutablePointer<OpaquePointer?>) -> CUresult
    /// CUresult cuGraphInstantiateWithFlags(CUgraphExec *phGraphExec, CUgraph hGraph, unsigned long long flags);
    public let cuGraphInstantiateWithFlags: @convention(c) (UnsafeMutablePointer<OpaquePointer?>, OpaquePointer?, UInt64) -> CUresult
    /// CUresult cuGraphLaunch(CUgraphExec hGraphExec, CUstream hStream);
    public let cuGraphLaunch: @convention(c) (OpaquePointer?, OpaquePointer?) -> CUresult
    /// CUresult cuGraphExecDestroy(CUgraphExec hGraphExec);
    public let cuGraphExecDestroy: @convention(c) (OpaquePointer?) -> CUresult
    /// CUresult cuGraphDestroy(CUgraph hGraph);
    public let cuGraphDestroy: @convention(c) (OpaquePointer?) -> CUresult

    // MARK: errors

    /// CUresult cuGetErrorName(CUresult error, const char **pStr); nil when the driver lacks it.
    public let cuGetErrorName: (@convention(c) (CUresult, UnsafeMutablePointer<UnsafePointer<CChar>?>) -> CUresult)?

    /// Finds libcuda (see `CUDALibraryLocator`) and resolves every entry point.
    /// Throws `libraryMissing` or `symbolMissing`.
    public static func load(loader: any DynamicLibraryLoader = SystemLoader()) throws(CUDAError) -> CUDADriver {
        try CUDADriver(library: CUDALibraryLocator(loader: loader).load(.driver), loader: loader)
    }

    /// Resolves every entry point in an already opened libcuda.
    public init(library: LoadedLibrary, loader: any DynamicLibraryLoader) throws(CUDAError) {
        self.library = library
        let symbols = SymbolResolver(library: library, loader: loader)
        cuInit = try symbols.resolve("cuInit")
        cuDriverGetVersion = try symbols.resolve("cuDriverGetVersion")
        cuDeviceGetCount = try symbols.resolve("cuDeviceGetCount")
        cuDeviceGet = try symbols.resolve("cuDeviceGet")
        cuDeviceGetName = try symbols.resolve("cuDeviceGetName")
        cuDeviceGetAttribute = try symbols.resolve("cuDeviceGetAttribute")
        cuDeviceTotalMem = try symbols.resolve("cuDeviceTotalMem_v2")
        cuDevicePrimaryCtxRetain = try symbols.resolve("cuDevicePrimaryCtxRetain")
        cuDevicePrimaryCtxRelease = try symbols.resolve("cuDevicePrimaryCtxRelease_v2")
        cuCtxSetCurrent = try symbols.resolve("cuCtxSetCurrent")
        cuCtxPushCurrent = try symbols.resolve("cuCtxPushCurrent_v2")
        cuCtxPopCurrent = try symbols.resolve("cuCtxPopCurrent_v2")
        cuCtxSynchronize = try symbols.resolve("cuCtxSynchronize")
        cuMemAlloc = try symbols.resolve("cuMemAlloc_v2")
        cuMemFree = try symbols.resolve("cuMemFree_v2")
        cuMemGetInfo = try symbols.resolve("cuMemGetInfo_v2")
        cuMemcpyHtoD = try symbols.resolve("cuMemcpyHtoD_v2")
        cuMemcpyDtoH = try symbols.resolve("cuMemcpyDtoH_v2")
        cuMemcpyDtoD = try symbols.resolve("cuMemcpyDtoD_v2")
        cuMemcpyHtoDAsync = try symbols.resolve("cuMemcpyHtoDAsync_v2")
        cuMemcpyDtoHAsync = try symbols.resolve("cuMemcpyDtoHAsync_v2")
        cuMemcpyDtoDAsync = try symbols.resolve("cuMemcpyDtoDAsync_v2")
        cuMemsetD8 = try symbols.resolve("cuMemsetD8_v2")
        cuMemsetD32 = try symbols.resolve("cuMemsetD32_v2")
        cuMemsetD8Async = try symbols.resolve("cuMemsetD8Async")
        cuMemsetD32Async = try symbols.resolve("cuMemsetD32Async")
        cuMemAllocHost = try symbols.resolve("cuMemAllocHost_v2")
        cuMemFreeHost = try symbols.resolve("cuMemFreeHost")
        cuStreamCreate = try symbols.resolve("cuStreamCreate")
        cuStreamSynchronize = try symbols.resolve("cuStreamSynchronize")
        cuStreamQuery = try symbols.resolve("cuStreamQuery")
        cuStreamDestroy = try symbols.resolve("cuStreamDestroy_v2")
        cuStreamWaitEvent = try symbols.resolve("cuStreamWaitEvent")
        cuEventCreate = try symbols.resolve("cuEventCreate")
        cuEventRecord = try symbols.resolve("cuEventRecord")
        cuEventSynchronize = try symbols.resolve("cuEventSynchronize")
        cuEventElapsedTime = try symbols.resolve("cuEventElapsedTime_v2", "cuEventElapsedTime")
        cuEventDestroy = try symbols.resolve("cuEventDestroy_v2")
        cuModuleLoadData = try symbols.resolve("cuModuleLoadData")
        cuModuleUnload = try symbols.resolve("cuModuleUnload")
        cuModuleGetFunction = try symbols.resolve("cuModuleGetFunction")
        cuFuncSetAttribute = try symbols.resolve("cuFuncSetAttribute")
        cuLaunchKernel = try symbols.resolve("cuLaunchKernel")
        cuStreamBeginCapture = try symbols.resolve("cuStreamBeginCapture_v2")
        cuStreamEndCapture = try symbols.resolve("cuStreamEndCapture")
        cuGraphInstantiateWithFlags = try symbols.resolve("cuGraphInstantiateWithFlags")
        cuGraphLaunch = try symbols.resolve("cuGraphLaunch")
        cuGraphExecDestroy = try symbols.resolve("cuGraphExecDestroy")
        cuGraphDestroy = try symbols.resolve("cuGraphDestroy")
        cuGetErrorName = symbols.optional("cuGetErrorName")
    }

    /// Whether libcuda can be found and opened (says nothing about GPUs; use `CUDADevice` for that).
    public static func isAvailable(loader: any DynamicLibraryLoader = SystemLoader()) -> Bool {
        (try? CUDALibraryLocator(loader: loader).load(.driver)) != nil
    }

    /// Throws unless `result` is `CUDA_SUCCESS`: `CUDA_ERROR_OUT_OF_MEMORY` (2) becomes
    /// `outOfMemory`, `CUDA_ERROR_NO_DEVICE` (100) `noDevice`, anything else `driverCallFailed`
    /// naming `function` and the code.
    public func check(_ result: CUresult, _ function: String,
                      file: String = #fileID, line: Int = #line) throws(CUDAError) {
        guard result != 0 else { return }
        let site = "\(file):\(line)"
        switch result {
        case CUDAResultName.outOfMemory:
            throw CUDAError(.outOfMemory(requested: nil, free: nil, total: nil), site: site)
        case CUDAResultName.noDevice:
            throw CUDAError(.noDevice, site: site)
        default:
            throw CUDAError(.driverCallFailed(function: function, code: result, name: errorName(result)), site: site)
        }
    }

    /// The `CUDA_ERROR_…` name of a code, from `cuGetErrorName` or SwiftCTR's own short table.
    public func errorName(_ code: CUresult) -> String? {
        if let cuGetErrorName {
            var text: UnsafePointer<CChar>?
            if cuGetErrorName(code, &text) == 0, let text { return String(cString: text) }
        }
        return CUDAResultName.name(of: code)
    }
}

/// `CUdevice_attribute` values (cuda.h) SwiftCTR reads.
public enum CUDADeviceAttribute: Int32, Sendable {
    /// `CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK`.
    case maxThreadsPerBlock = 1
    /// `CU_DEVICE_ATTRIBUTE_WARP_SIZE`.
    case warpSize = 10
    /// `CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT`.
    case multiprocessorCount = 16
    /// `CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE` in bytes.
    case l2CacheSize = 38
    /// `CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR`.
    case computeCapabilityMajor = 75
    /// `CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR`.
    case computeCapabilityMinor = 76
    /// `CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN`.
    case maxSharedMemoryPerBlockOptin = 97
}

/// Resolves symbols of one opened library into typed C function pointers.
struct SymbolResolver {
    let library: LoadedLibrary
    let loader: any DynamicLibraryLoader

    /// The first of `names` the library exports, cast to `T`.
    /// Unsafe: `T` must be the `@convention(c)` type that mirrors the C prototype, which each
    /// caller writes down beside the property it assigns.
    func resolve<T>(_ names: String...) throws(CUDAError) -> T {
        for name in names {
            if let address = loader.symbol(library.handle, name) {
                return unsafeBitCast(address, to: T.self)
            }
        }
        throw CUDAError(.symbolMissing(library: library.library, path: library.file ?? library.path, symbol: names[0]))
    }

    /// `name` cast to `T` (unsafe in the same way as `resolve`), or nil when not exported.
    func optional<T>(_ name: String) -> T? {
        loader.symbol(library.handle, name).map { unsafeBitCast($0, to: T.self) }
    }
}
