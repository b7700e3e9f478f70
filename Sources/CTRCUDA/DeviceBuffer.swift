import CTRCore

/// Device memory of the CUDA backend; returned to the backend's pool when its last tensor goes.
final class DeviceBuffer: DeviceStorage, @unchecked Sendable {
    let address: CUdeviceptr
    let byteCount: Int
    let pool: DevicePool

    init(address: CUdeviceptr, byteCount: Int, pool: DevicePool) {
        self.address = address
        self.byteCount = byteCount
        self.pool = pool
    }

    deinit { pool.release(address, bytes: byteCount) }
}
