import CTRCore
import Foundation

/// Page-locked host memory for batches (`cuMemAllocHost`), recycled by size: readers decode into
/// it on their own threads and `CUDABackend.upload` copies from it to the GPU directly. Buffers
/// are allocated under the device's context pushed (reader threads have none current) and kept
/// until the pool goes; past `limit` bytes the pool declines and readers use plain memory.
final class PinnedPool: HostBufferPool, @unchecked Sendable {
    private let device: CUDADevice
    private let limit: Int
    private let lock = NSLock()
    private var free: [Int: [UnsafeMutableRawPointer]] = [:]
    private var held: [UnsafeMutableRawPointer] = []
    private var bytesHeld = 0

    init(device: CUDADevice, limit: Int = 8 << 30) {
        self.device = device
        self.limit = limit
    }

    func take(bytes: Int) -> UnsafeMutableRawPointer? {
        lock.lock()
        if let pointer = free[bytes]?.popLast() {
            lock.unlock()
            return pointer
        }
        guard bytesHeld + bytes <= limit else {
            lock.unlock()
            return nil
        }
        bytesHeld += bytes
        lock.unlock()
        var pointer: UnsafeMutableRawPointer?
        var result: CUresult = 1
        device.withContextPushed { driver in
            result = driver.cuMemAllocHost(&pointer, bytes)
            return result
        }
        lock.lock()
        defer { lock.unlock() }
        guard result == 0, let pointer else {
            bytesHeld -= bytes
            return nil
        }
        held.append(pointer)
        return pointer
    }

    func give(_ pointer: UnsafeMutableRawPointer, bytes: Int) {
        lock.lock()
        free[bytes, default: []].append(pointer)
        lock.unlock()
    }

    deinit {
        for pointer in held { device.withContextPushed { $0.cuMemFreeHost(pointer) } }
    }
}
