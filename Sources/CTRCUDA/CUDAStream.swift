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

    /// Whether all work queued on this stream finished, without waiting (`cuStreamQuery`).
    public func isIdle() throws(CUDAError) -> Bool {
        let result = device.driver.cuStreamQuery(handle)
        if result == CUDAResultName.notReady { return false }
        try device.driver.check(result, "cuStreamQuery")
        return true
    }

    /// Makes work queued on this stream after this call wait for `event`.
    public func wait(for event: CUDAEvent) throws(CUDAError) {
        try device.driver.check(device.driver.cuStreamWaitEvent(handle, event.handle, 0), "cuStreamWaitEvent")
    }
}
