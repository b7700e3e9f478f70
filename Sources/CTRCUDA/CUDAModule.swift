/// A loaded CUBIN: a set of kernels. Unloaded when the last `CUDAFunction` from it goes away.
///
/// ```swift
/// let module = try gpu.loadModule(image: cubin, name: "saxpy.cu")
/// let saxpy = try module.function("saxpy")
/// ```
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
