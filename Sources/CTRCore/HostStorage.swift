/// Host memory, 64-byte aligned and zero-filled, freed with its last reference.
///
/// ```swift
/// let storage = HostStorage(byteCount: 16 * 4)
/// storage.pointer.assumingMemoryBound(to: Float.self)[0]   // 0
/// ```
public final class HostStorage: DeviceStorage, @unchecked Sendable {
    public let pointer: UnsafeMutableRawPointer
    public let byteCount: Int

    public init(byteCount: Int) {
        self.byteCount = byteCount
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 64), alignment: 64)
        pointer.initializeMemory(as: UInt8.self, repeating: 0, count: max(byteCount, 64))
    }

    deinit { pointer.deallocate() }
}
