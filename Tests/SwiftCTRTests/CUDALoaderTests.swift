import CTRCUDA
import SwiftCTR
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

// The CUDA loading layer on a machine without a GPU: a fake loader hands out C functions written
// here in place of libcuda, libnvrtc and libcublas, and each test sets their return codes through
// the globals below to make the layer meet a missing library, no device, no memory or a broken
// kernel. The suite is serialized because the globals are shared.

// MARK: fake library state

private nonisolated(unsafe) var initResult: CUresult = 0
private nonisolated(unsafe) var deviceCount: Int32 = 1
private nonisolated(unsafe) var allocResult: CUresult = 0
private nonisolated(unsafe) var freeBytes = 1 << 30
private nonisolated(unsafe) var totalBytes = 141 << 30
private nonisolated(unsafe) var loadedImages: [[UInt8]] = []
private nonisolated(unsafe) var launchedParameters: [[UInt8]] = []
private nonisolated(unsafe) var compileResult: Int32 = 0
private nonisolated(unsafe) var compileLog = ""
private nonisolated(unsafe) var compileCount = 0
private nonisolated(unsafe) var compileOptions: [String] = []
private nonisolated(unsafe) var sgemmArguments: [Int64] = []

private func resetFakes() {
    initResult = 0
    deviceCount = 1
    allocResult = 0
    freeBytes = 1 << 30
    totalBytes = 141 << 30
    loadedImages = []
    launchedParameters = []
    compileResult = 0
    compileLog = ""
    compileCount = 0
    compileOptions = []
    sgemmArguments = []
}

/// C strings that stay valid for the whole test run (what `cuGetErrorName` and
/// `nvrtcGetErrorString` hand out).
private nonisolated(unsafe) let invalidValueName = UnsafePointer(strdup("CUDA_ERROR_INVALID_VALUE")!)
private nonisolated(unsafe) let compilationErrorName = UnsafePointer(strdup("NVRTC_ERROR_COMPILATION")!)
private nonisolated(unsafe) let successName = UnsafePointer(strdup("NVRTC_SUCCESS")!)

private nonisolated(unsafe) let dummyHandle = OpaquePointer(bitPattern: 0x1000)
private let fakeDeviceAddress: CUdeviceptr = 0x7F00_0000_0000

// MARK: fake C functions

private func address<F>(_ function: F) -> UnsafeMutableRawPointer {
    unsafeBitCast(function, to: UnsafeMutableRawPointer.self)
}

/// Stands in for entry points the tests never call; returns an unknown status if one is called.
private let unusedFunction: @convention(c) () -> Int32 = { 999 }

private let driverSymbols: Set<String> = [
    "cuInit", "cuDriverGetVersion", "cuDeviceGetCount", "cuDeviceGet", "cuDeviceGetName", "cuDeviceGetAttribute",
    "cuDeviceTotalMem_v2", "cuDevicePrimaryCtxRetain", "cuDevicePrimaryCtxRelease_v2", "cuCtxSetCurrent",
    "cuCtxPushCurrent_v2", "cuCtxPopCurrent_v2", "cuCtxSynchronize", "cuMemAlloc_v2", "cuMemFree_v2",
    "cuMemGetInfo_v2", "cuMemcpyHtoD_v2", "cuMemcpyDtoH_v2", "cuMemcpyDtoD_v2", "cuMemcpyHtoDAsync_v2",
    "cuMemcpyDtoHAsync_v2", "cuMemcpyDtoDAsync_v2", "cuMemsetD8_v2", "cuMemsetD32_v2", "cuMemsetD8Async",
    "cuMemsetD32Async", "cuMemAllocHost_v2", "cuMemFreeHost", "cuStreamCreate", "cuStreamSynchronize", "cuStreamQuery",
    "cuStreamDestroy_v2", "cuStreamWaitEvent", "cuEventCreate", "cuEventRecord", "cuEventSynchronize",
    "cuEventElapsedTime_v2", "cuEventDestroy_v2", "cuModuleLoadData", "cuModuleUnload", "cuModuleGetFunction",
    "cuFuncSetAttribute", "cuLaunchKernel", "cuStreamBeginCapture_v2", "cuStreamEndCapture",
    "cuGraphInstantiateWithFlags", "cuGraphLaunch", "cuGraphExecDestroy", "cuGraphDestroy", "cuGetErrorName",
]

private let nvrtcSymbols: Set<String> = [
    "nvrtcVersion", "nvrtcCreateProgram", "nvrtcCompileProgram", "nvrtcGetCUBINSize", "nvrtcGetCUBIN",
    "nvrtcGetProgramLogSize", "nvrtcGetProgramLog", "nvrtcDestroyProgram", "nvrtcGetErrorString",
]

private let cublasSymbols: Set<String> = [
    "cublasCreate_v2", "cublasDestroy_v2", "cublasSetStream_v2", "cublasGetVersion_v2", "cublasSetMathMode",
    "cublasSgemm_v2", "cublasGemmEx", "cublasGetProperty",
]

private func fakeSymbol(_ name: String) -> UnsafeMutableRawPointer? {
    switch name {
    // driver
    case "cuInit":
        return address({ _ in initResult } as @convention(c) (UInt32) -> CUresult)
    case "cuDriverGetVersion":
        return address({ $0.pointee = 13000; return 0 } as @convention(c) (UnsafeMutablePointer<Int32>) -> CUresult)
    case "cuDeviceGetCount":
        return address({ $0.pointee = deviceCount; return 0 } as @convention(c) (UnsafeMutablePointer<Int32>) -> CUresult)
    case "cuDeviceGet":
        return address({ $0.pointee = $1; return 0 } as @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> CUresult)
    case "cuDeviceGetName":
        return address({ buffer, length, _ in
            _ = strncpy(buffer, "Fake H200", Int(length))
            return 0
        } as @convention(c) (UnsafeMutablePointer<CChar>, Int32, Int32) -> CUresult)
    case "cuDeviceGetAttribute":
        return address({ value, attribute, _ in
            value.pointee = switch attribute {
            case 75: 9
            case 76: 0
            case 16: 132
            default: 0
            }
            return 0
        } as @convention(c) (UnsafeMutablePointer<Int32>, Int32, Int32) -> CUresult)
    case "cuDeviceTotalMem_v2":
        return address({ bytes, _ in bytes.pointee = totalBytes; return 0 } as @convention(c) (UnsafeMutablePointer<Int>, Int32) -> CUresult)
    case "cuDevicePrimaryCtxRetain":
        return address({ context, _ in context.pointee = dummyHandle; return 0 }
            as @convention(c) (UnsafeMutablePointer<OpaquePointer?>, Int32) -> CUresult)
    case "cuDevicePrimaryCtxRelease_v2":
        return address({ _ in 0 } as @convention(c) (Int32) -> CUresult)
    case "cuCtxSetCurrent", "cuCtxPushCurrent_v2", "cuModuleUnload":
        return address({ _ in 0 } as @convention(c) (OpaquePointer?) -> CUresult)
    case "cuCtxPopCurrent_v2":
        return address({ _ in 0 } as @convention(c) (UnsafeMutablePointer<OpaquePointer?>?) -> CUresult)
    case "cuMemAlloc_v2":
        return address({ pointer, _ in
            if allocResult == 0 { pointer.pointee = fakeDeviceAddress }
            return allocResult
        } as @convention(c) (UnsafeMutablePointer<CUdeviceptr>, Int) -> CUresult)
    case "cuMemGetInfo_v2":
        return address({ free, total in
            free.pointee = freeBytes
            total.pointee = totalBytes
            return 0
        } as @convention(c) (UnsafeMutablePointer<Int>, UnsafeMutablePointer<Int>) -> CUresult)
    case "cuModuleLoadData":
        return address({ module, image in
            loadedImages.append(Array(UnsafeRawBufferPointer(start: image, count: 4)))
            module.pointee = dummyHandle
            return 0
        } as @convention(c) (UnsafeMutablePointer<OpaquePointer?>, UnsafeRawPointer) -> CUresult)
    case "cuModuleGetFunction":
        return address({ function, _, _ in
            function.pointee = dummyHandle
            return 0
        } as @convention(c) (UnsafeMutablePointer<OpaquePointer?>, OpaquePointer?, UnsafePointer<CChar>) -> CUresult)
    case "cuLaunchKernel":
        // Records the first 8 bytes behind each kernelParams entry; the count comes from the test.
        return address({ _, _, _, _, _, _, _, _, _, parameters, _ in
            for i in 0..<5 {
                guard let slot = parameters?[i] else { return 1 }
                launchedParameters.append(Array(UnsafeRawBufferPointer(start: slot, count: 8)))
            }
            return 0
        } as @convention(c) (OpaquePointer?, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, OpaquePointer?,
                             UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                             UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> CUresult)
    case "cuGetErrorName":
        return address({ code, text in
            guard code == 1 else { return 1 }
            text.pointee = invalidValueName
            return 0
        } as @convention(c) (CUresult, UnsafeMutablePointer<UnsafePointer<CChar>?>) -> CUresult)

    // NVRTC
    case "nvrtcVersion":
        return address({ major, minor in
            major.pointee = 13
            minor.pointee = 0
            return 0
        } as @convention(c) (UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>) -> Int32)
    case "nvrtcCreateProgram":
        return address({ program, _, _, _, _, _ in
            program.pointee = dummyHandle
            return 0
        } as @convention(c) (UnsafeMutablePointer<OpaquePointer?>, UnsafePointer<CChar>, UnsafePointer<CChar>?, Int32,
                             UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<UnsafePointer<CChar>?>?) -> Int32)
    case "nvrtcCompileProgram":
        return address({ _, count, options in
            compileCount += 1
            compileOptions = (0..<Int(count)).map { String(cString: options![$0]!) }
            return compileResult
        } as @convention(c) (OpaquePointer?, Int32, UnsafePointer<UnsafePointer<CChar>?>?) -> Int32)
    case "nvrtcGetCUBINSize":
        return address({ $1.pointee = 4; return 0 } as @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int>) -> Int32)
    case "nvrtcGetCUBIN":
        return address({ _, cubin in
            for (i, byte) in "CUBN".utf8.enumerated() { cubin[i] = CChar(bitPattern: byte) }
            return 0
        } as @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>) -> Int32)
    case "nvrtcGetProgramLogSize":
        return address({ $1.pointee = compileLog.utf8.count + 1; return 0 }
            as @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int>) -> Int32)
    case "nvrtcGetProgramLog":
        return address({ _, log in
            _ = compileLog.withCString { strcpy(log, $0) }
            return 0
        } as @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>) -> Int32)
    case "nvrtcDestroyProgram":
        return address({ $0.pointee = nil; return 0 } as @convention(c) (UnsafeMutablePointer<OpaquePointer?>) -> Int32)
    case "nvrtcGetErrorString":
        return address({ $0 == 6 ? compilationErrorName : successName } as @convention(c) (Int32) -> UnsafePointer<CChar>?)

    // cuBLAS
    case "cublasCreate_v2":
        return address({ $0.pointee = dummyHandle; return 0 } as @convention(c) (UnsafeMutablePointer<OpaquePointer?>) -> Int32)
    case "cublasDestroy_v2":
        return address({ _ in 0 } as @convention(c) (OpaquePointer?) -> Int32)
    case "cublasSetStream_v2":
        return address({ _, _ in 0 } as @convention(c) (OpaquePointer?, OpaquePointer?) -> Int32)
    case "cublasGetVersion_v2":
        return address({ $1.pointee = 130100; return 0 } as @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int32>) -> Int32)
    case "cublasGetProperty":
        return address({ $1.pointee = [13, 1, 0][Int($0)]; return 0 } as @convention(c) (Int32, UnsafeMutablePointer<Int32>) -> Int32)
    case "cublasSgemm_v2":
        return address({ _, opA, opB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc in
            sgemmArguments = [Int64(opA), Int64(opB), Int64(m), Int64(n), Int64(k), Int64(alpha.pointee),
                              Int64(a), Int64(lda), Int64(b), Int64(ldb), Int64(beta.pointee), Int64(c), Int64(ldc)]
            return 0
        } as @convention(c) (OpaquePointer?, Int32, Int32, Int32, Int32, Int32, UnsafePointer<Float>, UInt64, Int32,
                             UInt64, Int32, UnsafePointer<Float>, UInt64, Int32) -> Int32)

    default:
        let known = driverSymbols.contains(name) || nvrtcSymbols.contains(name) || cublasSymbols.contains(name)
        return known ? address(unusedFunction) : nil
    }
}

/// A loader over a made-up file system: only the exact names or paths in `loadable` open.
private struct FakeLoader: DynamicLibraryLoader {
    var loadable: Set<String> = []
    var missingSymbols: Set<String> = []
    var variables: [String: String] = [:]
    var folders: [String: [String]] = [:]

    func open(_ path: String) -> UnsafeMutableRawPointer? {
        loadable.contains(path) ? UnsafeMutableRawPointer(bitPattern: 0x2000) : nil
    }

    func symbol(_ handle: UnsafeMutableRawPointer, _ name: String) -> UnsafeMutableRawPointer? {
        missingSymbols.contains(name) ? nil : fakeSymbol(name)
    }

    func environment(_ name: String) -> String? { variables[name] }

    func contentsOfDirectory(_ path: String) -> [String] { folders[path] ?? [] }
}

private let gpuMachine = FakeLoader(loadable: ["libcuda.so.1", "libnvrtc.so.13", "libcublasLt.so.13", "libcublas.so.13"])

/// The CUDAError `body` throws; records an issue when it returns or throws something else.
private func cudaError<T>(_ body: () throws -> T, sourceLocation: SourceLocation = #_sourceLocation) -> CUDAError? {
    do {
        _ = try body()
        Issue.record("expected a CUDAError", sourceLocation: sourceLocation)
    } catch let error as CUDAError {
        return error
    } catch {
        Issue.record("expected a CUDAError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

@Suite(.serialized) struct CUDALoaderTests {
    init() { resetFakes() }

    // MARK: finding libraries

    @Test func missingDriverNamesLibcudaAndTheFix() throws {
        let error = try #require(cudaError { try CUDADevice(loader: FakeLoader()) })
        guard case .libraryMissing(let library, let tried, _) = error.kind else {
            Issue.record("expected libraryMissing, got \(error.kind)")
            return
        }
        #expect(library == .driver)
        #expect(Array(tried.prefix(2)) == ["libcuda.so.1", "libcuda.so"])
        let message = error.description
        #expect(message.contains("libcuda.so.1"))
        #expect(message.contains("install the NVIDIA driver"))
        #expect(message.contains("--gpus all"))
        #expect(message.contains("--device cpu"))
    }

    @Test func searchOrderCoversSonamesCudaHomeToolkitsAndPythonPackages() throws {
        let loader = FakeLoader(
            variables: ["CUDA_HOME": "/opt/cuda", "VIRTUAL_ENV": "/venv", "HOME": "/home/me"],
            folders: [
                "/usr/local": ["bin", "cuda-12.4", "cuda", "cuda-13.0"],
                "/venv/lib": ["python3.12"],
                "/venv/lib/python3.12/site-packages/nvidia": ["cuda_nvrtc", "cublas"],
                "/home/me/.local/lib": ["python3.10"],
                "/home/me/.local/lib/python3.10/site-packages/nvidia": ["cu13"],
            ])
        let error = try #require(cudaError { try NVRTC.load(loader: loader) })
        guard case .libraryMissing(.nvrtc, let tried, _) = error.kind else {
            Issue.record("expected libraryMissing(.nvrtc), got \(error.kind)")
            return
        }
        let expectedOrder = [
            "libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so",
            "/opt/cuda/lib64/libnvrtc.so.13",
            "/opt/cuda/targets/x86_64-linux/lib/libnvrtc.so.13",
            "/usr/local/cuda/targets/x86_64-linux/lib/libnvrtc.so.13",
            "/usr/local/cuda-13.0/targets/x86_64-linux/lib/libnvrtc.so.13",
            "/usr/local/cuda-13.0/lib64/libnvrtc.so.13",
            "/usr/local/cuda-12.4/lib64/libnvrtc.so.13",
            "/venv/lib/python3.12/site-packages/nvidia/cuda_nvrtc/lib/libnvrtc.so.12",
            "/home/me/.local/lib/python3.10/site-packages/nvidia/cu13/lib/libnvrtc.so.13",
        ]
        let positions = expectedOrder.map { tried.firstIndex(of: $0) }
        #expect(!positions.contains(nil), "not tried: \(zip(expectedOrder, positions).filter { $1 == nil }.map(\.0))")
        let found = positions.compactMap { $0 }
        #expect(found == found.sorted(), "search order: \(tried)")
        #expect(!tried.contains { $0.contains("/usr/local/bin") })

        let message = error.description
        #expect(message.contains("libnvrtc.so.13"))
        #expect(message.contains("/venv/lib/python3.12/site-packages/nvidia/cuda_nvrtc/lib/libnvrtc.so.12"))
        #expect(message.contains("pip install nvidia-cuda-nvrtc-cu12"))
        #expect(message.contains("CUDA_HOME"))
    }

    @Test func locatorReportsWhichPathLoaded() throws {
        let wheel = "/venv/lib/python3.12/site-packages/nvidia/cublas/lib/libcublas.so.12"
        let loader = FakeLoader(
            loadable: [wheel], variables: ["VIRTUAL_ENV": "/venv"],
            folders: ["/venv/lib": ["python3.12"], "/venv/lib/python3.12/site-packages/nvidia": ["cublas"]])
        let library = try CUDALibraryLocator(loader: loader).load(.cublas)
        #expect(library.path == wheel)
        #expect(library.tried.last == wheel)
        #expect(library.tried.first == "libcublas.so.13")
    }

    @Test func missingNVRTCNamesLibnvrtc() throws {
        let device = try CUDADevice(loader: FakeLoader(loadable: ["libcuda.so.1"]))
        let error = try #require(cudaError { try KernelCompiler(device: device, loader: FakeLoader(), cache: .disabled) })
        #expect(error.kind.isLibraryMissing(.nvrtc))
        #expect(error.description.contains("libnvrtc.so.13"))
        #expect(error.description.contains("pip install nvidia-cuda-nvrtc-cu12"))
    }

    @Test func missingSymbolNamesIt() throws {
        var loader = gpuMachine
        loader.missingSymbols = ["cuMemAlloc_v2"]
        let error = try #require(cudaError { try CUDADevice(loader: loader) })
        #expect(error.kind == .symbolMissing(library: .driver, path: "libcuda.so.1", symbol: "cuMemAlloc_v2"))
        #expect(error.description.contains("cuMemAlloc_v2"))
        #expect(error.description.contains("update the NVIDIA driver"))
    }

    // MARK: devices

    @Test func deviceReadsItsProperties() throws {
        let device = try CUDADevice(loader: gpuMachine)
        #expect(device.name == "Fake H200")
        #expect(device.computeCapability == (9, 0))
        #expect(device.arch == "sm_90")
        #expect(device.multiprocessorCount == 132)
        #expect(device.totalMemory == 141 << 30)
        #expect(device.driverVersionString == "13.0")
    }

    @Test func noDeviceWhenCuInitSaysSo() throws {
        initResult = 100
        let error = try #require(cudaError { try CUDADevice(loader: gpuMachine) })
        #expect(error.kind == .noDevice)
        #expect(error.description.contains("no CUDA device"))
        #expect(error.description.contains("nvidia-smi"))
    }

    @Test func noDeviceWhenCountIsZero() throws {
        deviceCount = 0
        let error = try #require(cudaError { try CUDADevice(loader: gpuMachine) })
        #expect(error.kind == .noDevice)
    }

    @Test func ordinalOutOfRange() throws {
        deviceCount = 2
        let error = try #require(cudaError { try CUDADevice(ordinal: 5, loader: gpuMachine) })
        #expect(error.kind == .deviceOrdinalOutOfRange(ordinal: 5, count: 2))
        #expect(error.description.contains("0..<2"))
        #expect(error.description.contains("found 5"))
    }

    @Test func outOfMemoryMentionsTheRequestAndFreeMemory() throws {
        let device = try CUDADevice(loader: gpuMachine)
        allocResult = 2
        let error = try #require(cudaError { try device.allocate(bytes: 3_000_000_000) })
        #expect(error.kind == .outOfMemory(requested: 3_000_000_000, free: 1 << 30, total: 141 << 30))
        #expect(error.description.contains("3000000000 bytes"))
        #expect(error.description.contains("1.00 GiB of 141.00 GiB are free"))
        #expect(error.description.contains("batch size"))
    }

    @Test func failedDriverCallNamesFunctionAndCode() throws {
        let device = try CUDADevice(loader: gpuMachine)
        allocResult = 1
        let error = try #require(cudaError { try device.allocate(bytes: 64) })
        #expect(error.kind == .driverCallFailed(function: "cuMemAlloc_v2", code: 1, name: "CUDA_ERROR_INVALID_VALUE"))
        #expect(error.description.contains("cuMemAlloc_v2"))
        #expect(error.description.contains("CUDA_ERROR_INVALID_VALUE"))
        #expect(error.description.contains("CUDALoaderTests.swift"))
        allocResult = 0
        #expect(try device.allocate(bytes: 64) == fakeDeviceAddress)
    }

    @Test func launchPassesEachArgumentThroughItsOwnSlot() throws {
        let device = try CUDADevice(loader: gpuMachine)
        let compiler = try KernelCompiler(device: device, loader: gpuMachine, cache: .disabled)
        let kernel = try compiler.module(source: "", name: "k.cu").function("k")
        try device.launch(kernel, grid: (1, 1, 1), block: (32, 1, 1), stream: nil,
                          arguments: [.pointer(0x1122_3344_5566_7788), .int32(-2), .float(1.5), .int64(-3), .uint64(7)])
        func bytes<T>(_ value: T) -> [UInt8] {
            withUnsafeBytes(of: value) { Array($0) }
        }
        try #require(launchedParameters.count == 5)
        #expect(launchedParameters[0] == bytes(UInt64(0x1122_3344_5566_7788)))
        #expect(Array(launchedParameters[1].prefix(4)) == bytes(Int32(-2)))
        #expect(Array(launchedParameters[2].prefix(4)) == bytes(Float(1.5)))
        #expect(launchedParameters[3] == bytes(Int64(-3)))
        #expect(launchedParameters[4] == bytes(UInt64(7)))
    }

    @Test func perStepArgumentTakesSixteenBytesAndTheNextArgumentFollows() throws {
        let device = try CUDADevice(loader: gpuMachine)
        let compiler = try KernelCompiler(device: device, loader: gpuMachine, cache: .disabled)
        let kernel = try compiler.module(source: "", name: "k.cu").function("k")
        try device.launch(kernel, grid: (1, 1, 1), block: (32, 1, 1), stream: nil,
                          arguments: [.perStep(7, slot: 0x99), .int32(-2), .perStep(8), .int64(-3), .uint64(9)])
        func bytes<T>(_ value: T) -> [UInt8] {
            withUnsafeBytes(of: value) { Array($0) }
        }
        try #require(launchedParameters.count == 5)
        #expect(launchedParameters[0] == bytes(UInt64(7)))
        #expect(Array(launchedParameters[1].prefix(4)) == bytes(Int32(-2)))
        #expect(launchedParameters[2] == bytes(UInt64(8)))
        #expect(launchedParameters[3] == bytes(Int64(-3)))
        #expect(launchedParameters[4] == bytes(UInt64(9)))
    }

    // MARK: NVRTC

    @Test func compileFailureCarriesTheLogAndKernelName() throws {
        let device = try CUDADevice(loader: gpuMachine)
        let compiler = try KernelCompiler(device: device, loader: gpuMachine, cache: .disabled)
        compileResult = 6
        compileLog = "saxpy.cu(3): error: identifier \"undefined_thing\" is undefined\n1 error detected\n"
        let error = try #require(cudaError {
            try compiler.module(source: "broken", name: "saxpy.cu", options: ["-use_fast_math"])
        })
        #expect(error.kind == .compileFailed(kernel: "saxpy.cu", arch: "sm_90", status: "NVRTC_ERROR_COMPILATION",
                                             log: "saxpy.cu(3): error: identifier \"undefined_thing\" is undefined\n1 error detected"))
        #expect(error.description.contains("identifier \"undefined_thing\" is undefined"))
        #expect(error.description.contains("'saxpy.cu'"))
        #expect(error.description.contains("sm_90"))
        #expect(compileOptions == ["-arch=sm_90", "-default-device", "--std=c++17", "-use_fast_math"])
    }

    @Test func compiledKernelsAreCachedOnDisk() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swiftctr-kernels-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let device = try CUDADevice(loader: gpuMachine)
        let compiler = try KernelCompiler(device: device, loader: gpuMachine, cache: .directory(folder))
        _ = try compiler.module(source: "kernel A", name: "a.cu")
        _ = try compiler.module(source: "kernel A", name: "a.cu")
        #expect(compileCount == 1)
        #expect(loadedImages == [Array("CUBN".utf8), Array("CUBN".utf8)])
        let cached = try #require(compiler.cachePath(source: "kernel A", name: "a.cu", options: []))
        #expect(FileManager.default.fileExists(atPath: cached))
        _ = try compiler.module(source: "kernel A", name: "a.cu", options: ["-use_fast_math"])
        _ = try compiler.module(source: "kernel B", name: "a.cu")
        #expect(compileCount == 3)
    }

    @Test func standardCacheFolderFollowsXDG() {
        #expect(KernelCompiler.standardCacheDirectory(loader: FakeLoader(variables: ["XDG_CACHE_HOME": "/c", "HOME": "/h"]))
            == "/c/swiftctr/kernels")
        #expect(KernelCompiler.standardCacheDirectory(loader: FakeLoader(variables: ["HOME": "/h"]))
            == "/h/.cache/swiftctr/kernels")
    }

    // MARK: cuBLAS

    @Test func rowMajorSgemmSwapsOperandsForColumnMajorCuBLAS() throws {
        let device = try CUDADevice(loader: gpuMachine)
        let blas = try CUBLAS(device: device, loader: gpuMachine)
        // C (2×3) = Aᵀ·B with A stored 4×2 and B stored 4×3, all row-major.
        try blas.sgemmRowMajor(transA: true, transB: false, m: 2, n: 3, k: 4, alpha: 2,
                               a: 0xA, b: 0xB, beta: 1, c: 0xC, stream: nil)
        // cublasSgemm(opB = N, opA = T, n, m, k, alpha, B, ldb = n, A, lda = m, beta, C, ldc = n)
        #expect(sgemmArguments == [0, 1, 3, 2, 4, 2, 0xB, 3, 0xA, 2, 1, 0xC, 3])
        #expect(try blas.version() == 130100)
        #expect(blas.functions.version! == (13, 1, 0))
    }

    // MARK: doctor

    @Test func reportListsEverythingOnAGPUMachine() {
        let report = CUDAReport.text(loader: gpuMachine)
        #expect(report.contains("libcuda: libcuda.so.1"))
        #expect(report.contains("Fake H200: sm_90"))
        #expect(report.contains("132 SMs"))
        #expect(report.contains("libnvrtc: libnvrtc.so.13, version 13.0"))
        #expect(report.contains("libcublas: libcublas.so.13, version 13.1.0"))
    }

    @Test func reportExplainsAMissingDriverWithoutThrowing() {
        let report = CUDAReport.text(loader: FakeLoader())
        #expect(report.contains("libcuda.so.1"))
        #expect(report.contains("install the NVIDIA driver"))
        #expect(report.contains("libnvrtc.so.13"))
    }

    // MARK: this machine

    @Test(.enabled(if: !CUDADriver.isAvailable(), "this machine has a libcuda"))
    func realLoaderWithoutCUDAThrowsLibraryMissing() throws {
        let error = try #require(cudaError { try CUDADevice() })
        #expect(error.kind.isLibraryMissing(.driver))
        #expect(error.description.contains("libcuda.so.1"))
    }

    /// HugeCTR's way to pick the GPUs: `Solver(devices: .cuda, vvgpu: [[N, …]])`. Without a driver
    /// the model cannot be built and says what is missing, for one GPU or several; a GPU listed twice
    /// and several nodes without mpirun are refused up front.
    @Test(.enabled(if: !CUDADriver.isAvailable(), "this machine has a libcuda"))
    func solverOnCUDAWithoutADriverThrows() throws {
        let reader = DataReaderParams(dataReaderType: .norm, source: ["train.txt"], evalSource: "eval.txt", checkType: .none)
        let error = try #require(cudaError { try Model(Solver(devices: .cuda), reader, CreateOptimizer()) })
        #expect(error.kind.isLibraryMissing(.driver))
        let twoGPUs = try #require(cudaError {
            try Model(Solver(batchsize: 2048, vvgpu: [[0, 1]], devices: .cuda), reader, CreateOptimizer())
        })
        #expect(twoGPUs.kind.isLibraryMissing(.driver))
        let twice = #expect(throws: SwiftCTRError.self) {
            try Model(Solver(batchsize: 2048, vvgpu: [[0, 0]], devices: .cuda), reader, CreateOptimizer())
        }
        #expect(twice?.message.contains("each once per node") == true, "\(String(describing: twice))")
        let nodes = #expect(throws: SwiftCTRError.self) {
            try Model(Solver(batchsize: 2048, vvgpu: [[0], [1]], devices: .cuda), reader, CreateOptimizer())
        }
        #expect(nodes?.message.contains("one process each under mpirun") == true, "\(String(describing: nodes))")
    }
}

extension CUDAError.Kind {
    fileprivate func isLibraryMissing(_ expected: CUDALibrary) -> Bool {
        if case .libraryMissing(let library, _, _) = self { return library == expected }
        return false
    }
}
