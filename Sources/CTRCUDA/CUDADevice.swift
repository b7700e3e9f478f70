/// One NVIDIA GPU, driven through its primary context (the one cuBLAS and NCCL also use).
/// The context is made current on the thread that creates the device; call `makeCurrent()`
/// once on any other thread before using the device there.
///
/// ```swift
/// let gpu = try CUDADevice(ordinal: 0)
/// print(gpu.name, gpu.arch)                       // "NVIDIA H200 sm_90"
/// let x = try gpu.allocate(bytes: 1024 * 4)
/// try gpu.upload([Float](repeating: 1, count: 1024), to: x)
/// try gpu.free(x)
/// ```
///
/// Device memory is handed out as raw `CUdeviceptr` addresses; whoever allocates frees.
public final class CUDADevice: @unchecked Sendable {
    public let driver: CUDADriver
    public let ordinal: Int
    /// The driver's `CUdevice` handle.
    public let handle: CUdevice
    /// The retained primary `CUcontext`.
    public let context: OpaquePointer?
    /// Marketing name, e.g. "NVIDIA H200".
    public let name: String
    public let computeCapability: (major: Int, minor: Int)
    public let multiprocessorCount: Int
    /// Device memory in bytes.
    public let totalMemory: Int
    /// `cuDriverGetVersion`: 1000·major + 10·minor, e.g. 13000 for CUDA 13.0.
    public let driverVersion: Int

    /// The NVRTC/PTX target, e.g. "sm_90" for compute capability 9.0.
    public var arch: String { "sm_\(computeCapability.major)\(computeCapability.minor)" }

    /// `driverVersion` as "13.0".
    public var driverVersionString: String { "\(driverVersion / 1000).\(driverVersion % 1000 / 10)" }

    /// Loads libcuda, initialises it, checks `ordinal` against the visible devices, and makes the
    /// device's primary context current. Throws `libraryMissing`, `symbolMissing`, `noDevice`,
    /// `deviceOrdinalOutOfRange` or `driverCallFailed`.
    public convenience init(ordinal: Int = 0, loader: any DynamicLibraryLoader = SystemLoader()) throws(CUDAError) {
        try self.init(ordinal: ordinal, driver: CUDADriver.load(loader: loader))
    }

    /// Opens device `ordinal` with an already loaded driver.
    public init(ordinal: Int, driver: CUDADriver) throws(CUDAError) {
        self.driver = driver
        self.ordinal = ordinal
        let count = try CUDADevice.initialize(driver)
        guard count > 0 else { throw CUDAError(.noDevice) }
        guard ordinal >= 0, ordinal < count else {
            throw CUDAError(.deviceOrdinalOutOfRange(ordinal: ordinal, count: count))
        }
        var version: Int32 = 0
        try driver.check(driver.cuDriverGetVersion(&version), "cuDriverGetVersion")
        driverVersion = Int(version)
        var device: CUdevice = 0
        try driver.check(driver.cuDeviceGet(&device, Int32(ordinal)), "cuDeviceGet")
        handle = device
        name = try CUDADevice.name(of: device, driver)
        let major = try CUDADevice.attribute(.computeCapabilityMajor, device, driver)
        let minor = try CUDADevice.attribute(.computeCapabilityMinor, device, driver)
        computeCapability = (major, minor)
        multiprocessorCount = try CUDADevice.attribute(.multiprocessorCount, device, driver)
        var bytes = 0
        try driver.check(driver.cuDeviceTotalMem(&bytes, device), "cuDeviceTotalMem_v2")
        totalMemory = bytes
        var primary: OpaquePointer?
        try driver.check(driver.cuDevicePrimaryCtxRetain(&primary, device), "cuDevicePrimaryCtxRetain")
        context = primary
        try driver.check(driver.cuCtxSetCurrent(primary), "cuCtxSetCurrent")
    }

    deinit {
        _ = driver.cuDevicePrimaryCtxRelease(handle)
    }

    /// The number of GPUs the driver shows this process (CUDA_VISIBLE_DEVICES narrows it): `cuInit`,
    /// then `cuDeviceGetCount`.
    public static func visibleCount(driver: CUDADriver) throws(CUDAError) -> Int {
        try initialize(driver)
    }

    /// `cuInit` and the number of visible devices. `CUDA_ERROR_NO_DEVICE` throws `noDevice`.
    static func initialize(_ driver: CUDADriver) throws(CUDAError) -> Int {
        try driver.check(driver.cuInit(0), "cuInit")
        var count: Int32 = 0
        try driver.check(driver.cuDeviceGetCount(&count), "cuDeviceGetCount")
        return Int(count)
    }

    static func name(of device: CUdevice, _ driver: CUDADriver) throws(CUDAError) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        let result = buffer.withUnsafeMutableBufferPointer {
            driver.cuDeviceGetName($0.baseAddress!, Int32($0.count - 1), device)
        }
        try driver.check(result, "cuDeviceGetName")
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func attribute(_ attribute: CUDADeviceAttribute, _ device: CUdevice,
                          _ driver: CUDADriver) throws(CUDAError) -> Int {
        var value: Int32 = 0
        try driver.check(driver.cuDeviceGetAttribute(&value, attribute.rawValue, device), "cuDeviceGetAttribute")
        return Int(value)
    }

    // MARK: context

    /// Makes this device's primary context current on the calling thread.
    public func makeCurrent() throws(CUDAError) {
        try driver.check(driver.cuCtxSetCurrent(context), "cuCtxSetCurrent")
    }

    /// Runs a release call with this device's context pushed, then restores the thread's own:
    /// the last reference to a stream or module may go away on any thread, under any context.
    func withContextPushed(_ release: (CUDADriver) -> CUresult) {
        guard driver.cuCtxPushCurrent(context) == 0 else { return }
        _ = release(driver)
        _ = driver.cuCtxPopCurrent(nil)
    }

    /// Waits until all work queued on this device finished (`cuCtxSynchronize`).
    public func synchronize() throws(CUDAError) {
        try driver.check(driver.cuCtxSynchronize(), "cuCtxSynchronize")
    }

    /// A device attribute (`cuDeviceGetAttribute`).
    public func attribute(_ attribute: CUDADeviceAttribute) throws(CUDAError) -> Int {
        try CUDADevice.attribute(attribute, handle, driver)
    }

    /// Free and total device memory in bytes (`cuMemGetInfo_v2`).
    public func memoryInfo() throws(CUDAError) -> (free: Int, total: Int) {
        var free = 0
        var total = 0
        try driver.check(driver.cuMemGetInfo(&free, &total), "cuMemGetInfo_v2")
        return (free, total)
    }

    // MARK: memory

    /// Allocates `bytes` of device memory (256-byte aligned); 0 bytes gives the null address.
    /// Throws `outOfMemory` with the request and the device's free/total bytes.
    public func allocate(bytes: Int, file: String = #fileID, line: Int = #line) throws(CUDAError) -> CUdeviceptr {
        precondition(bytes >= 0, "CUDADevice.allocate: negative size \(bytes)")
        if bytes == 0 { return 0 }
        var address: CUdeviceptr = 0
        let result = driver.cuMemAlloc(&address, bytes)
        if result == CUDAResultName.outOfMemory {
            let info = try? memoryInfo()
            throw CUDAError(.outOfMemory(requested: bytes, free: info?.free, total: info?.total), site: "\(file):\(line)")
        }
        try driver.check(result, "cuMemAlloc_v2", file: file, line: line)
        return address
    }

    /// Frees memory from `allocate`; the null address is ignored.
    public func free(_ address: CUdeviceptr) throws(CUDAError) {
        if address == 0 { return }
        try driver.check(driver.cuMemFree(address), "cuMemFree_v2")
    }

    /// Allocates `bytes` of page-locked host memory, which async copies need to overlap with work.
    public func allocateHost(bytes: Int) throws(CUDAError) -> UnsafeMutableRawPointer {
        precondition(bytes > 0, "CUDADevice.allocateHost: size must be positive, found \(bytes)")
        var pointer: UnsafeMutableRawPointer?
        let result = driver.cuMemAllocHost(&pointer, bytes)
        if result == CUDAResultName.outOfMemory {
            throw CUDAError(.outOfMemory(requested: bytes, free: nil, total: nil))
        }
        try driver.check(result, "cuMemAllocHost_v2")
        guard let pointer else {
            throw CUDAError(.driverCallFailed(function: "cuMemAllocHost_v2", code: 0, name: "null pointer"))
        }
        return pointer
    }

    /// Frees memory from `allocateHost`.
    public func freeHost(_ pointer: UnsafeMutableRawPointer) throws(CUDAError) {
        try driver.check(driver.cuMemFreeHost(pointer), "cuMemFreeHost")
    }

    /// Copies `bytes` from host memory to device address `destination`: synchronously when
    /// `stream` is nil, else queued on `stream` (`source` must then stay valid until it ran, and be
    /// pinned memory for the copy to be truly asynchronous).
    public func copy(toDevice destination: CUdeviceptr, from source: UnsafeRawPointer, bytes: Int,
                     stream: CUDAStream? = nil) throws(CUDAError) {
        if bytes == 0 { return }
        if let stream {
            try driver.check(driver.cuMemcpyHtoDAsync(destination, source, bytes, stream.handle), "cuMemcpyHtoDAsync_v2")
        } else {
            try driver.check(driver.cuMemcpyHtoD(destination, source, bytes), "cuMemcpyHtoD_v2")
        }
    }

    /// Copies `bytes` from device address `source` to host memory: synchronously when `stream`
    /// is nil, else queued on `stream` (synchronize it before reading `destination`).
    public func copy(toHost destination: UnsafeMutableRawPointer, from source: CUdeviceptr, bytes: Int,
                     stream: CUDAStream? = nil) throws(CUDAError) {
        if bytes == 0 { return }
        if let stream {
            try driver.check(driver.cuMemcpyDtoHAsync(destination, source, bytes, stream.handle), "cuMemcpyDtoHAsync_v2")
        } else {
            try driver.check(driver.cuMemcpyDtoH(destination, source, bytes), "cuMemcpyDtoH_v2")
        }
    }

    /// Copies `bytes` between device addresses, on `stream` or the default stream.
    public func copy(toDevice destination: CUdeviceptr, fromDevice source: CUdeviceptr, bytes: Int,
                     stream: CUDAStream? = nil) throws(CUDAError) {
        if bytes == 0 { return }
        if let stream {
            try driver.check(driver.cuMemcpyDtoDAsync(destination, source, bytes, stream.handle), "cuMemcpyDtoDAsync_v2")
        } else {
            try driver.check(driver.cuMemcpyDtoD(destination, source, bytes), "cuMemcpyDtoD_v2")
        }
    }

    /// Sets `count` bytes at `destination` to `value`, on `stream` or synchronously.
    public func memset(_ destination: CUdeviceptr, byte value: UInt8, count: Int,
                       stream: CUDAStream? = nil) throws(CUDAError) {
        if count == 0 { return }
        if let stream {
            try driver.check(driver.cuMemsetD8Async(destination, value, count, stream.handle), "cuMemsetD8Async")
        } else {
            try driver.check(driver.cuMemsetD8(destination, value, count), "cuMemsetD8_v2")
        }
    }

    /// Sets `count` 32-bit words at `destination` (4-byte aligned) to `value`, e.g. a float's
    /// `bitPattern`, on `stream` or synchronously.
    public func memset(_ destination: CUdeviceptr, word value: UInt32, count: Int,
                       stream: CUDAStream? = nil) throws(CUDAError) {
        if count == 0 { return }
        if let stream {
            try driver.check(driver.cuMemsetD32Async(destination, value, count, stream.handle), "cuMemsetD32Async")
        } else {
            try driver.check(driver.cuMemsetD32(destination, value, count), "cuMemsetD32_v2")
        }
    }

    /// Copies `values` to device address `destination` (synchronously).
    public func upload<T: BitwiseCopyable>(_ values: [T], to destination: CUdeviceptr) throws(CUDAError) {
        let bytes = values.count * MemoryLayout<T>.stride
        if bytes == 0 { return }
        let result = values.withUnsafeBytes { driver.cuMemcpyHtoD(destination, $0.baseAddress!, bytes) }
        try driver.check(result, "cuMemcpyHtoD_v2")
    }

    /// Reads `count` values of type `T` from device address `source` (synchronously).
    public func download<T: BitwiseCopyable>(_ type: T.Type = T.self, count: Int,
                                             from source: CUdeviceptr) throws(CUDAError) -> [T] {
        var result: CUresult = 0
        let values = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0 {
                result = driver.cuMemcpyDtoH(UnsafeMutableRawPointer(buffer.baseAddress!), source,
                                             count * MemoryLayout<T>.stride)
            }
            // Contents are only read after the status check below.
            initialized = count
        }
        try driver.check(result, "cuMemcpyDtoH_v2")
        return values
    }

    // MARK: streams, events, modules

    /// A new stream. A non-blocking stream does not wait for the legacy default stream.
    public func makeStream(nonBlocking: Bool = false) throws(CUDAError) -> CUDAStream {
        var stream: OpaquePointer?
        // CU_STREAM_DEFAULT = 0, CU_STREAM_NON_BLOCKING = 1.
        try driver.check(driver.cuStreamCreate(&stream, nonBlocking ? 1 : 0), "cuStreamCreate")
        return CUDAStream(device: self, handle: stream)
    }

    /// A new event; `timing: false` makes it cheaper when only used for ordering.
    public func makeEvent(timing: Bool = true) throws(CUDAError) -> CUDAEvent {
        var event: OpaquePointer?
        // CU_EVENT_DEFAULT = 0, CU_EVENT_DISABLE_TIMING = 2.
        try driver.check(driver.cuEventCreate(&event, timing ? 0 : 2), "cuEventCreate")
        return CUDAEvent(device: self, handle: event)
    }

    /// Loads a CUBIN (or PTX) image into this device's context.
    public func loadModule(image: [UInt8], name: String) throws(CUDAError) -> CUDAModule {
        var module: OpaquePointer?
        let result = image.withUnsafeBytes { driver.cuModuleLoadData(&module, $0.baseAddress!) }
        try driver.check(result, "cuModuleLoadData(\(name))")
        return CUDAModule(device: self, handle: module, name: name)
    }

    // MARK: launches

    /// Launches `function` over `grid` blocks of `block` threads on `stream` (nil: the legacy
    /// default stream). `arguments` must match the kernel's parameters in order and C type.
    ///
    /// ```swift
    /// try gpu.launch(saxpy, grid: ((n + 255) / 256, 1, 1), block: (256, 1, 1), stream: nil,
    ///                arguments: [.float(2), .pointer(x), .pointer(y), .int32(Int32(n))])
    /// ```
    public func launch(_ function: CUDAFunction, grid: (UInt32, UInt32, UInt32), block: (UInt32, UInt32, UInt32),
                       sharedBytes: UInt32 = 0, stream: CUDAStream?, arguments: [KernelArgument],
                       file: String = #fileID, line: Int = #line) throws(CUDAError) {
        let count = arguments.count
        // cuLaunchKernel reads kernelParams[i] as a pointer to argument i and copies the values
        // before it returns, so slots that live for this call are enough. Each argument gets its
        // own 8-aligned slot of `slotSize` bytes; a 4-byte value sits at the slot's start (x86-64
        // and ARM64 are little-endian).
        let bytes = arguments.reduce(0) { $0 + $1.slotSize }
        let result = withUnsafeTemporaryAllocation(byteCount: max(bytes, 8), alignment: 8) { slots in
            withUnsafeTemporaryAllocation(of: UnsafeMutableRawPointer?.self, capacity: max(count, 1)) { parameters in
                var offset = 0
                for (i, argument) in arguments.enumerated() {
                    let slot = slots.baseAddress! + offset
                    argument.store(to: slot)
                    parameters[i] = slot
                    offset += argument.slotSize
                }
                return driver.cuLaunchKernel(function.handle, grid.0, grid.1, grid.2, block.0, block.1, block.2,
                                             sharedBytes, stream?.handle,
                                             count == 0 ? nil : parameters.baseAddress, nil)
            }
        }
        try driver.check(result, "cuLaunchKernel(\(function.name))", file: file, line: line)
    }

    // MARK: graphs

    /// Starts recording the work queued on `stream` into a CUDA graph instead of running it.
    public func beginCapture(on stream: CUDAStream, mode: CUDACaptureMode = .global) throws(CUDAError) {
        try driver.check(driver.cuStreamBeginCapture(stream.handle, mode.rawValue), "cuStreamBeginCapture_v2")
    }

    /// Ends the capture started by `beginCapture` and instantiates the recorded graph.
    public func endCapture(on stream: CUDAStream) throws(CUDAError) -> CUDAGraphExec {
        var graph: OpaquePointer?
        try driver.check(driver.cuStreamEndCapture(stream.handle, &graph), "cuStreamEndCapture")
        defer { _ = driver.cuGraphDestroy(graph) }
        var exec: OpaquePointer?
        try driver.check(driver.cuGraphInstantiateWithFlags(&exec, graph, 0), "cuGraphInstantiateWithFlags")
        return CUDAGraphExec(device: self, handle: exec)
    }

    /// Records the work `body` queues on `stream` into a graph that `launch(on:)` replays.
    /// If `body` throws, the capture is ended and discarded and the error rethrown.
    ///
    /// ```swift
    /// let step = try gpu.capture(on: stream) { try forward(stream) }
    /// for _ in 0..<iterations { try step.launch(on: stream) }
    /// ```
    public func capture(on stream: CUDAStream, mode: CUDACaptureMode = .global,
                        _ body: () throws -> Void) throws -> CUDAGraphExec {
        try beginCapture(on: stream, mode: mode)
        do {
            try body()
        } catch {
            var graph: OpaquePointer?
            if driver.cuStreamEndCapture(stream.handle, &graph) == 0 { _ = driver.cuGraphDestroy(graph) }
            throw error
        }
        return try endCapture(on: stream)
    }
}
