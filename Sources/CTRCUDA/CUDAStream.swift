/// A CUDA stream: work queued on it runs in order, concurrently with other streams.
///
/// ```swift
/// let stream = try gpu.makeStream()
/// try gpu.copy(toDevice: x, from: pinned, bytes: n, stream: stream)
/// try stream.synchronize()
/// ```
public final class CUDAStream: @unchecked Sendable {
    public let device: CUDADevice
    /// The `CUstream`.
    public let handle: OpaquePointer?

    init(device: CUDADevice, handle: OpaquePointer?) {
        self.device = device
        self.handle = handle
    }

    deinit {
        device.withContextPushed { $0.cuStreamDestroy(handle) }
    }

    /// Waits until all work queued on this stream finished.
    public func synchronize() throws(CUDAError) {
        try device.driver.check(device.driver.cuStreamSynchronize(handle), "cuStreamSynchronize")
    }

    /// Makes work queued on this stream after this call wait for `event`.
    public func wait(for event: CUDAEvent) throws(CUDAError) {
        try device.driver.check(device.driver.cuStreamWaitEvent(handle, event.handle, 0), "cuStreamWaitEvent")
    }
}

/// A CUDA event: a marker in a stream, for ordering streams and for timing.
///
/// ```swift
/// let start = try gpu.makeEvent(), end = try gpu.makeEvent()
/// try start.record(on: stream); /* … */ try end.record(on: stream)
/// let ms = try end.milliseconds(since: start)
/// ```
public final class CUDAEvent: @unchecked Sendable {
    public let device: CUDADevice
    /// The `CUevent`.
    public let handle: OpaquePointer?

    init(device: CUDADevice, handle: OpaquePointer?) {
        self.device = device
        self.handle = handle
    }

    deinit {
        device.withContextPushed { $0.cuEventDestroy(handle) }
    }

    /// Records the event at the current end of `stream` (nil: the legacy default stream).
    public func record(on stream: CUDAStream?) throws(CUDAError) {
        try device.driver.check(device.driver.cuEventRecord(handle, stream?.handle), "cuEventRecord")
    }

    /// Waits until the work before the recorded event finished.
    public func synchronize() throws(CUDAError) {
        try device.driver.check(device.driver.cuEventSynchronize(handle), "cuEventSynchronize")
    }

    /// Milliseconds between `start` and this event (both recorded, this one completed).
    public func milliseconds(since start: CUDAEvent) throws(CUDAError) -> Float {
        var elapsed: Float = 0
        try device.driver.check(device.driver.cuEventElapsedTime(&elapsed, start.handle, handle), "cuEventElapsedTime")
        return elapsed
    }
}

/// A loaded CUBIN: a set of kernels. Unloaded when the last `CUDAFunction` from it goes away.
public final class CUDAModule: @unchecked Sendable {
    public let device: CUDADevice
    /// The `CUmodule`.
    public let handle: OpaquePointer?
    /// The kernel source's name, for messages.
    public let name: String

    init(device: CUDADevice, handle: OpaquePointer?, name: String) {
        self.device = device
        self.handle = handle
        self.name = name
    }

    deinit {
        device.withContextPushed { $0.cuModuleUnload(handle) }
    }

    /// The `extern "C" __global__` kernel called `name`.
    public func function(_ name: String) throws(CUDAError) -> CUDAFunction {
        var function: OpaquePointer?
        let result = name.withCString { device.driver.cuModuleGetFunction(&function, handle, $0) }
        try device.driver.check(result, "cuModuleGetFunction(\(self.name): \(name))")
        return CUDAFunction(module: self, handle: function, name: name)
    }
}

/// A kernel in a loaded module, ready for `CUDADevice.launch`.
public struct CUDAFunction: @unchecked Sendable {
    /// Keeps the module loaded while the function is in use.
    public let module: CUDAModule
    /// The `CUfunction`.
    public let handle: OpaquePointer?
    public let name: String

    /// Lets launches use more than 48 KiB of dynamic shared memory (up to the device's opt-in limit).
    public func setMaxDynamicSharedMemory(bytes: Int) throws(CUDAError) {
        // CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8.
        let driver = module.device.driver
        try driver.check(driver.cuFuncSetAttribute(handle, 8, Int32(bytes)), "cuFuncSetAttribute(\(name))")
    }
}

/// An instantiated CUDA graph: a recorded sequence of kernels and copies replayed with one call.
public final class CUDAGraphExec: @unchecked Sendable {
    public let device: CUDADevice
    /// The `CUgraphExec`.
    public let handle: OpaquePointer?

    init(device: CUDADevice, handle: OpaquePointer?) {
        self.device = device
        self.handle = handle
    }

    deinit {
        device.withContextPushed { $0.cuGraphExecDestroy(handle) }
    }

    /// Queues the whole graph on `stream`.
    public func launch(on stream: CUDAStream) throws(CUDAError) {
        try device.driver.check(device.driver.cuGraphLaunch(handle, stream.handle), "cuGraphLaunch")
    }
}
