/// A caching allocator: freed blocks are kept per rounded size and handed out again, so a warm
/// training step never calls `cuMemAlloc`.
final class DevicePool: @unchecked Sendable {
    let device: CUDADevice
    private var free: [Int: [CUdeviceptr]] = [:]
    private(set) var reservedBytes = 0
    /// `cuMemAlloc` calls so far (a warm training step makes none).
    private(set) var driverAllocations = 0

    init(device: CUDADevice) { self.device = device }

    static func rounded(_ bytes: Int) -> Int { max(512, (bytes + 511) & ~511) }

    func acquire(_ bytes: Int) throws(CUDAError) -> CUdeviceptr {
        let size = Self.rounded(bytes)
        if let address = free[size]?.popLast() { return address }
        do {
            let address = try device.allocate(bytes: size)
            reservedBytes += size
            driverAllocations += 1
            return address
        } catch {
            // Give cached blocks back to the driver once, then retry.
            releaseCached()
            let address = try device.allocate(bytes: size)
            reservedBytes += size
            driverAllocations += 1
            return address
        }
    }

    func release(_ address: CUdeviceptr, bytes: Int) {
        guard address != 0 else { return }
        free[Self.rounded(bytes), default: []].append(address)
    }

    func releaseCached() {
        for (size, blocks) in free {
            for block in blocks {
                try? device.free(block)
                reservedBytes -= size
            }
        }
        free.removeAll()
    }
}
