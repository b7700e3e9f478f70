/// Memory owned by one backend. A CPU buffer is host memory; a CUDA buffer is device memory.
public protocol DeviceStorage: AnyObject, Sendable {
    var byteCount: Int { get }
}
