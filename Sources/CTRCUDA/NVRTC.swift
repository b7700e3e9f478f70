#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `nvrtcResult` (nvrtc.h): 0 is `NVRTC_SUCCESS`.
public typealias NVRTCResult = Int32

/// NVRTC, the CUDA run-time compiler, loaded from libnvrtc with `dlopen`: one table of function
/// pointers whose `@convention(c)` types mirror nvrtc.h (CUDA 11.2–13). `nvrtcProgram` is
/// `OpaquePointer?`, `size_t` is `Int`.
///
/// ```swift
/// let nvrtc = try NVRTC.load()
/// print(nvrtc.version)   // (major: 13, minor: 0)
/// ```
public final class NVRTC: @unchecked Sendable {
    /// Where libnvrtc came from.
    public let library: LoadedLibrary
    public let version: (major: Int, minor: Int)

    /// nvrtcResult nvrtcVersion(int *major, int *minor);
    public let nvrtcVersion: @convention(c) (UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>) -> NVRTCResult
    /// nvrtcResult nvrtcCreateProgram(nvrtcProgram *prog, const char *src, const char *name, int numHeaders,
    ///     const char * const *headers, const char * const *includeNames);
    public let nvrtcCreateProgram: @convention(c) (
        UnsafeMutablePointer<OpaquePointer?>, UnsafePointer<CChar>, UnsafePointer<CChar>?, Int32,
        UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<UnsafePointer<CChar>?>?
    ) -> NVRTCResult
    /// nvrtcResult nvrtcCompileProgram(nvrtcProgram prog, int numOptions, const char * const *options);
    public let nvrtcCompileProgram: @convention(c) (OpaquePointer?, Int32, UnsafePointer<UnsafePointer<CChar>?>?) -> NVRTCResult
    /// nvrtcResult nvrtcGetCUBINSize(nvrtcProgram prog, size_t *cubinSizeRet);
    public let nvrtcGetCUBINSize: @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int>) -> NVRTCResult
    /// nvrtcResult nvrtcGetCUBIN(nvrtcProgram prog, char *cubin);
    public let nvrtcGetCUBIN: @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>) -> NVRTCResult
    /// nvrtcResult nvrtcGetProgramLogSize(nvrtcProgram prog, size_t *logSizeRet);
    public let nvrtcGetProgramLogSize: @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int>) -> NVRTCResult
    /// nvrtcResult nvrtcGetProgramLog(nvrtcProgram prog, char *log);
    public let nvrtcGetProgramLog: @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>) -> NVRTCResult
    /// nvrtcResult nvrtcDestroyProgram(nvrtcProgram *prog);
    public let nvrtcDestroyProgram: @convention(c) (UnsafeMutablePointer<OpaquePointer?>) -> NVRTCResult
    /// const char *nvrtcGetErrorString(nvrtcResult result);
    public let nvrtcGetErrorString: @convention(c) (NVRTCResult) -> UnsafePointer<CChar>?

    /// Finds libnvrtc (see `CUDALibraryLocator`), resolves every entry point and reads the version.
    public static func load(loader: any DynamicLibraryLoader = SystemLoader()) throws(CUDAError) -> NVRTC {
        try NVRTC(library: CUDALibraryLocator(loader: loader).load(.nvrtc), loader: loader)
    }

    public init(library: LoadedLibrary, loader: any DynamicLibraryLoader) throws(CUDAError) {
        self.library = library
        let symbols = SymbolResolver(library: library, loader: loader)
        nvrtcVersion = try symbols.resolve("nvrtcVersion")
        nvrtcCreateProgram = try symbols.resolve("nvrtcCreateProgram")
        nvrtcCompileProgram = try symbols.resolve("nvrtcCompileProgram")
        nvrtcGetCUBINSize = try symbols.resolve("nvrtcGetCUBINSize")
        nvrtcGetCUBIN = try symbols.resolve("nvrtcGetCUBIN")
        nvrtcGetProgramLogSize = try symbols.resolve("nvrtcGetProgramLogSize")
        nvrtcGetProgramLog = try symbols.resolve("nvrtcGetProgramLog")
        nvrtcDestroyProgram = try symbols.resolve("nvrtcDestroyProgram")
        nvrtcGetErrorString = try symbols.resolve("nvrtcGetErrorString")
        var major: Int32 = 0
        var minor: Int32 = 0
        let status = nvrtcVersion(&major, &minor)
        version = (Int(major), Int(minor))
        try check(status, "nvrtcVersion")
    }

    /// Throws `nvrtcCallFailed` unless `status` is `NVRTC_SUCCESS`.
    public func check(_ status: NVRTCResult, _ function: String,
                      file: String = #fileID, line: Int = #line) throws(CUDAError) {
        guard status != 0 else { return }
        throw CUDAError(.nvrtcCallFailed(function: function, code: status, name: errorString(status)),
                        site: "\(file):\(line)")
    }

    /// The `NVRTC_ERROR_…` name of a status.
    public func errorString(_ status: NVRTCResult) -> String {
        nvrtcGetErrorString(status).map { String(cString: $0) } ?? "nvrtcResult \(status)"
    }

    /// The compiler's messages for `program` (empty when there are none).
    func log(of program: OpaquePointer?) -> String {
        var size = 0
        guard nvrtcGetProgramLogSize(program, &size) == 0, size > 1 else { return "" }
        var buffer = [CChar](repeating: 0, count: size + 1)
        guard buffer.withUnsafeMutableBufferPointer({ nvrtcGetProgramLog(program, $0.baseAddress!) }) == 0 else {
            return ""
        }
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var end = text.endIndex
        while end > text.startIndex, text[text.index(before: end)].isWhitespace { end = text.index(before: end) }
        return String(text[..<end])
    }
}

/// Calls `body` with a C array of C strings (`const char * const *`), valid during the call.
func withCStringArray<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
    let copies: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    defer { for copy in copies { free(copy) } }
    let pointers = copies.map { UnsafePointer($0) }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
}
