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
