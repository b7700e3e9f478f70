import Foundation

/// Where `KernelCompiler` keeps compiled CUBINs.
public enum KernelCache: Sendable {
    /// `$XDG_CACHE_HOME/swiftctr/kernels`, else `~/.cache/swiftctr/kernels`.
    case standard
    case directory(String)
    /// Compile every time.
    case disabled
}

/// Compiles CUDA C++ kernel sources with NVRTC for one device's architecture into CUBINs,
/// cached on disk, and loads them as modules.
///
/// ```swift
/// let compiler = try KernelCompiler(device: gpu)
/// let module = try compiler.module(source: saxpySource, name: "saxpy.cu")
/// let saxpy = try module.function("saxpy")
/// ```
///
/// Every compile uses `-arch=sm_XX` (the device's compute capability), `-default-device` and
/// `--std=c++17`, then the caller's options (e.g. `-use_fast_math`). A cached CUBIN is keyed by
/// an FNV-1a 64 hash of the source, the options, the arch, the driver version and the NVRTC
/// version, so any change recompiles. A cache that cannot be written is skipped silently.
public final class KernelCompiler: @unchecked Sendable {
    public let device: CUDADevice
    public let nvrtc: NVRTC
    /// Folder of cached CUBINs; nil when caching is off.
    public let cacheDirectory: String?

    /// Loads NVRTC through `loader` for compiling kernels for `device`.
    public convenience init(device: CUDADevice, loader: any DynamicLibraryLoader = SystemLoader(),
                            cache: KernelCache = .standard) throws(CUDAError) {
        let directory: String? = switch cache {
        case .standard: KernelCompiler.standardCacheDirectory(loader: loader)
        case .directory(let path): path
        case .disabled: nil
        }
        try self.init(device: device, nvrtc: NVRTC.load(loader: loader), cacheDirectory: directory)
    }

    public init(device: CUDADevice, nvrtc: NVRTC, cacheDirectory: String?) {
        self.device = device
        self.nvrtc = nvrtc
        self.cacheDirectory = cacheDirectory
    }

    /// `$XDG_CACHE_HOME/swiftctr/kernels`, else `$HOME/.cache/swiftctr/kernels`; nil without either.
    public static func standardCacheDirectory(loader: any DynamicLibraryLoader = SystemLoader()) -> String? {
        if let xdg = loader.environment("XDG_CACHE_HOME"), !xdg.isEmpty { return xdg + "/swiftctr/kernels" }
        if let home = loader.environment("HOME"), !home.isEmpty { return home + "/.cache/swiftctr/kernels" }
        return nil
    }

    /// The options NVRTC gets: SwiftCTR's defaults for this device, then `options`.
    public func compileOptions(_ options: [String]) -> [String] {
        ["-arch=\(device.arch)", "-default-device", "--std=c++17"] + options
    }

    /// The compiled and loaded `source`, from the cache when an identical compile is there.
    /// `name` names the program in NVRTC's log and in errors (e.g. "embedding.cu").
    /// Throws `compileFailed` with NVRTC's log when the source does not compile.
    public func module(source: String, name: String, options: [String] = []) throws(CUDAError) -> CUDAModule {
        let path = cachePath(source: source, name: name, options: options)
        if let path, let data = FileManager.default.contents(atPath: path), !data.isEmpty,
           let module = try? device.loadModule(image: [UInt8](data), name: name) {
            return module
        }
        let cubin = try compile(source: source, name: name, options: options)
        if let path, let cacheDirectory {
            try? FileManager.default.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true)
            try? Data(cubin).write(to: URL(fileURLWithPath: path), options: .atomic)
        }
        return try device.loadModule(image: cubin, name: name)
    }

    /// Compiles `source` to a CUBIN for this device without touching the cache.
    public func compile(source: String, name: String, options: [String] = []) throws(CUDAError) -> [UInt8] {
        var program: OpaquePointer?
        let created = source.withCString { text in
            name.withCString { nvrtc.nvrtcCreateProgram(&program, text, $0, 0, nil, nil) }
        }
        try nvrtc.check(created, "nvrtcCreateProgram(\(name))")
        defer { _ = nvrtc.nvrtcDestroyProgram(&program) }
        let allOptions = compileOptions(options)
        let compiled = withCStringArray(allOptions) { nvrtc.nvrtcCompileProgram(program, Int32(allOptions.count), $0) }
        guard compiled == 0 else {
            throw CUDAError(.compileFailed(kernel: name, arch: device.arch, status: nvrtc.errorString(compiled),
                                           log: nvrtc.log(of: program)))
        }
        var size = 0
        try nvrtc.check(nvrtc.nvrtcGetCUBINSize(program, &size), "nvrtcGetCUBINSize(\(name))")
        var cubin = [UInt8](repeating: 0, count: size)
        let copied = cubin.withUnsafeMutableBytes {
            nvrtc.nvrtcGetCUBIN(program, $0.baseAddress!.assumingMemoryBound(to: CChar.self))
        }
        try nvrtc.check(copied, "nvrtcGetCUBIN(\(name))")
        return cubin
    }

    /// The cache key of a compile: everything that changes the CUBIN.
    public func cacheKey(source: String, options: [String]) -> UInt64 {
        var hash = FNV1a64()
        hash.add("swiftctr-kernel-1")
        hash.add(source)
        for option in compileOptions(options) { hash.add(option) }
        hash.add("driver \(device.driverVersion)")
        hash.add("nvrtc \(nvrtc.version.major).\(nvrtc.version.minor)")
        return hash.value
    }

    /// `<cache>/<name>-<key>.cubin`, or nil when caching is off.
    public func cachePath(source: String, name: String, options: [String]) -> String? {
        guard let cacheDirectory else { return nil }
        let safeName = String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" })
        let key = String(cacheKey(source: source, options: options), radix: 16)
        return "\(cacheDirectory)/\(safeName)-\(String(repeating: "0", count: 16 - key.count))\(key).cubin"
    }
}

/// 64-bit FNV-1a over UTF-8 bytes; each added string ends with a 0 byte so ("ab","c") ≠ ("a","bc").
struct FNV1a64 {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ text: String) {
        for byte in text.utf8 { mix(byte) }
        mix(0)
    }

    private mutating func mix(_ byte: UInt8) {
        value ^= UInt64(byte)
        value &*= 0x0000_0100_0000_01b3
    }
}
