/// An instantiated CUDA graph: a recorded sequence of kernels and copies replayed with one call.
///
/// ```swift
/// let step = try gpu.capture(on: stream) { try forward(stream) }
/// try step.launch(on: stream)
/// ```
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
