/// A kernel in a loaded module, ready for `CUDADevice.launch`.
///
/// ```swift
/// let saxpy = try module.function("saxpy")
/// try gpu.launch(saxpy, grid: ((n + 255) / 256, 1, 1), block: (256, 1, 1), stream: nil,
///                arguments: [.float(2), .pointer(x), .pointer(y), .int32(Int32(n))])
/// ```
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
