/// Memory owned by one backend. A CPU buffer is host memory; a CUDA buffer is device memory.
///
/// ```swift
/// let storage: any DeviceStorage = HostStorage(byteCount: 1024)
/// storage.byteCount   // 1024
/// ```
public protocol DeviceStorage: AnyObject, Sendable {
    var byteCount: Int { get }
}
