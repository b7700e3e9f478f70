import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How the CUDA layer reaches the operating system: opening shared libraries, resolving symbols,
/// reading the environment and listing folders. Tests inject a fake to simulate a missing driver,
/// an out-of-memory GPU or a failing compiler on a machine without CUDA.
///
/// ```swift
/// let device = try CUDADevice(loader: SystemLoader())
/// ```
public protocol DynamicLibraryLoader: Sendable {
    /// Opens a shared library by soname or path (`dlopen`); nil when it cannot be loaded.
    func open(_ path: String) -> UnsafeMutableRawPointer?
    /// The address of `name` in an opened library (`dlsym`); nil when it is not exported.
    func symbol(_ handle: UnsafeMutableRawPointer, _ name: String) -> UnsafeMutableRawPointer?
    /// An environment variable (`getenv`); nil when unset.
    func environment(_ name: String) -> String?
    /// The entry names in a folder; empty when it does not exist or cannot be read.
    func contentsOfDirectory(_ path: String) -> [String]
    /// Why the last `open` on this thread failed (`dlerror`), when the loader knows.
    func lastError() -> String?
    /// The file that holds the code at `address` (`dladdr`), to report where a soname resolved.
    func fileContaining(_ address: UnsafeMutableRawPointer) -> String?
}

extension DynamicLibraryLoader {
    public func lastError() -> String? { nil }
    public func fileContaining(_ address: UnsafeMutableRawPointer) -> String? { nil }
}

/// The real loader: `dlopen(RTLD_NOW | RTLD_GLOBAL)`, `dlsym`, `getenv` and `FileManager`.
/// `RTLD_GLOBAL` lets libcublas find the libcublasLt already loaded from the same folder.
public struct SystemLoader: DynamicLibraryLoader {
    public init() {}

    public func open(_ path: String) -> UnsafeMutableRawPointer? {
        dlopen(path, RTLD_NOW | RTLD_GLOBAL)
    }

    public func symbol(_ handle: UnsafeMutableRawPointer, _ name: String) -> UnsafeMutableRawPointer? {
        dlsym(handle, name)
    }

    public func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    public func contentsOfDirectory(_ path: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
    }

    public func lastError() -> String? {
        dlerror().map { String(cString: $0) }
    }

    public func fileContaining(_ address: UnsafeMutableRawPointer) -> String? {
        // dladdr is a GNU extension Swift's Glibc module does not import, so it is looked up.
        // dlfcn.h: int dladdr(const void *addr, Dl_info *info), where Dl_info is
        // { const char *dli_fname; void *dli_fbase; const char *dli_sname; void *dli_saddr; }.
        typealias DLAddr = @convention(c) (UnsafeRawPointer?, UnsafeMutablePointer<UnsafeRawPointer?>) -> Int32
        guard let function = dlsym(nil, "dladdr") else { return nil }
        let dladdr = unsafeBitCast(function, to: DLAddr.self)
        var info: [UnsafeRawPointer?] = [nil, nil, nil, nil]
        let found = info.withUnsafeMutableBufferPointer { dladdr(address, $0.baseAddress!) }
        guard found != 0, let name = info[0] else { return nil }
        return String(cString: name.assumingMemoryBound(to: CChar.self))
    }
}
