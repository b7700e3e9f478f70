#if canImport(Glibc)
import Glibc
#endif

/// Malloc settings for readers that hand out a batch of tens of megabytes every few
/// milliseconds. Above its mmap threshold glibc maps an array afresh and unmaps it when freed, so
/// its pages are faulted in and zeroed again; with these settings freed batches stay in the heap
/// and the next batch reuses their pages.
enum HostMemory {
    /// Applies the settings once per process (the first reader does).
    static func keepFreedBatches() { _ = applied }

    private static let applied: Bool = {
        #if canImport(Glibc)
        // glibc's mallopt (malloc.h is not part of the Glibc module); absent on other C libraries.
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return false }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        let trimThreshold: Int32 = -1, mmapThreshold: Int32 = -3  // M_TRIM_THRESHOLD, M_MMAP_THRESHOLD
        // 32 MiB is glibc's largest mmap threshold on 64-bit hosts: arrays below it come from the heap.
        _ = mallopt(mmapThreshold, 32 << 20)
        _ = mallopt(trimThreshold, 1 << 30)
        return true
        #else
        return false
        #endif
    }()
}
