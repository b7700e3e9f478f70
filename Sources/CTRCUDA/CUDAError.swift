/// Every failure of the CUDA layer: a library or symbol that is not there, a driver, NVRTC or
/// cuBLAS call that returned an error, no GPU, or no memory left on it. The description says what
/// was expected, what was found and how to fix it.
///
/// ```swift
/// do {
///     let device = try CUDADevice()
/// } catch {
///     print(error)   // "CUDA library missing: expected libcuda.so.1 (the NVIDIA driver) … Fix: …"
/// }
/// ```
///
/// Mirrors HugeCTR's `HCTR_LIB_THROW`, which turns a `CUresult`, `nvrtcResult` or
/// `cublasStatus_t` into an exception naming the call and the status.
public struct CUDAError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, with the details the message needs.
    public enum Kind: Sendable, Equatable {
        /// No candidate path of `library` could be opened. `tried` lists every path in search
        /// order; `loaderErrors` holds the loader's messages other than "file not found".
        case libraryMissing(library: CUDALibrary, tried: [String], loaderErrors: [String])
        /// `library`, loaded from `path`, does not export `symbol` (it is too old).
        case symbolMissing(library: CUDALibrary, path: String, symbol: String)
        /// A driver API call returned `code` (a `CUresult`); `name` is from `cuGetErrorName`
        /// or SwiftCTR's own table.
        case driverCallFailed(function: String, code: Int32, name: String?)
        /// The driver sees no CUDA device (`CUDA_ERROR_NO_DEVICE`, or a device count of 0).
        case noDevice
        /// `ordinal` is not below the number of visible devices.
        case deviceOrdinalOutOfRange(ordinal: Int, count: Int)
        /// An allocation of `requested` bytes failed; `free`/`total` are the device's numbers
        /// from `cuMemGetInfo` when they could be read.
        case outOfMemory(requested: Int?, free: Int?, total: Int?)
        /// NVRTC rejected kernel source `kernel` for `arch`; `log` is NVRTC's full program log.
        case compileFailed(kernel: String, arch: String, status: String, log: String)
        /// Any other NVRTC call returned `code` (an `nvrtcResult`).
        case nvrtcCallFailed(function: String, code: Int32, name: String?)
        /// A cuBLAS call returned `status` (a `cublasStatus_t`).
        case cublasFailed(function: String, status: Int32)
    }

    public let kind: Kind
    /// The Swift call site (`#fileID:#line`) of the failing call, when known.
    public let site: String?

    public init(_ kind: Kind, site: String? = nil) {
        self.kind = kind
        self.site = site
    }

    /// The raw status code of a failed driver, NVRTC or cuBLAS call; nil for the other kinds.
    public var code: Int32? {
        switch kind {
        case .driverCallFailed(_, let code, _), .nvrtcCallFailed(_, let code, _): code
        case .cublasFailed(_, let status): status
        case .noDevice: CUDAResultName.noDevice
        case .outOfMemory: CUDAResultName.outOfMemory
        default: nil
        }
    }

    public var description: String {
        let at = site.map { " (at \($0))" } ?? ""
        switch kind {
        case .libraryMissing(let library, let tried, let loaderErrors):
            var text = "CUDA library missing: expected to load \(library.sonames[0]) (\(library.role)), "
                + "but none of these \(tried.count) paths could be opened:\n"
            text += tried.map { "  \($0)" }.joined(separator: "\n")
            if !loaderErrors.isEmpty {
                text += "\nThe dynamic loader said:\n" + loaderErrors.map { "  \($0)" }.joined(separator: "\n")
            }
            return text + "\nFix: \(library.installHint)"
        case .symbolMissing(let library, let path, let symbol):
            return "CUDA symbol missing: expected \(path) (\(library.role)) to export \(symbol), but it does not; "
                + "the library is older than SwiftCTR needs. Fix: \(library.upgradeHint)"
        case .driverCallFailed(let function, let code, let name):
            let label = name ?? CUDAResultName.name(of: code) ?? "unknown CUresult"
            return "CUDA driver call failed: expected \(function) to return CUDA_SUCCESS (0), "
                + "found \(code) (\(label))\(at). Fix: \(CUDAResultName.hint(for: code))"
        case .noDevice:
            return "no CUDA device: expected at least one NVIDIA GPU, but the driver reports none "
                + "(CUDA_ERROR_NO_DEVICE)\(at). Fix: check that `nvidia-smi` lists a GPU; in a container "
                + "start it with `--gpus all` (NVIDIA Container Toolkit); check that CUDA_VISIBLE_DEVICES "
                + "is unset or names an existing GPU; or train with --device cpu."
        case .deviceOrdinalOutOfRange(let ordinal, let count):
            return "CUDA device ordinal out of range: expected a device ordinal in 0..<\(count) "
                + "(\(count) visible GPU\(count == 1 ? "" : "s")), found \(ordinal). Fix: choose a GPU "
                + "between 0 and \(count - 1), or widen CUDA_VISIBLE_DEVICES."
        case .outOfMemory(let requested, let free, let total):
            var text = "CUDA out of memory: "
            if let requested {
                text += "expected to allocate \(formatBytes(requested)) (\(requested) bytes) on the GPU"
            } else {
                text += "expected a CUDA call to find enough GPU memory"
            }
            if let free, let total {
                text += ", but only \(formatBytes(free)) of \(formatBytes(total)) are free"
            } else {
                text += ", but the driver returned CUDA_ERROR_OUT_OF_MEMORY (2)"
            }
            return text + "\(at). Fix: lower the batch size or the embedding workspace "
                + "(workspace_size_per_gpu_in_mb), or stop other processes using this GPU (see `nvidia-smi`)."
        case .compileFailed(let kernel, let arch, let status, let log):
            let shownLog = log.isEmpty ? "(NVRTC wrote no log)" : log
            return "CUDA kernel compile failed: expected NVRTC to compile '\(kernel)' for \(arch), "
                + "found \(status)\(at). NVRTC log:\n\(shownLog)\nFix: the kernel source is part of SwiftCTR, "
                + "so this is a bug (or an NVRTC too old for \(arch)); report it with the log above, "
                + "or update the CUDA toolkit."
        case .nvrtcCallFailed(let function, let code, let name):
            return "NVRTC call failed: expected \(function) to return NVRTC_SUCCESS (0), found \(code) "
                + "(\(name ?? "unknown nvrtcResult"))\(at). Fix: reinstall or update the CUDA toolkit's NVRTC "
                + "(\(CUDALibrary.nvrtc.sonames[0]))."
        case .cublasFailed(let function, let status):
            return "cuBLAS call failed: expected \(function) to return CUBLAS_STATUS_SUCCESS (0), found \(status) "
                + "(\(CUBLASStatusName.name(of: status)))\(at). Fix: \(CUBLASStatusName.hint(for: status))"
        }
    }
}

/// "1.50 GiB"-style size for messages.
func formatBytes(_ bytes: Int) -> String {
    let units = ["bytes", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1024, unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    if unit == 0 { return "\(bytes) bytes" }
    let hundredths = Int((value * 100).rounded())
    let fraction = hundredths % 100
    return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction) \(units[unit])"
}

/// Names of the `CUresult` codes SwiftCTR meets most, for when `cuGetErrorName` is not there.
enum CUDAResultName {
    /// `CUDA_ERROR_OUT_OF_MEMORY`.
    static let outOfMemory: Int32 = 2
    /// `CUDA_ERROR_NO_DEVICE`.
    static let noDevice: Int32 = 100
    /// `CUDA_ERROR_NOT_READY`: queued work has not finished (`cuStreamQuery`).
    static let notReady: Int32 = 600

    static func name(of code: Int32) -> String? {
        switch code {
        case 0: "CUDA_SUCCESS"
        case 1: "CUDA_ERROR_INVALID_VALUE"
        case 2: "CUDA_ERROR_OUT_OF_MEMORY"
        case 3: "CUDA_ERROR_NOT_INITIALIZED"
        case 4: "CUDA_ERROR_DEINITIALIZED"
        case 34: "CUDA_ERROR_STUB_LIBRARY"
        case 100: "CUDA_ERROR_NO_DEVICE"
        case 101: "CUDA_ERROR_INVALID_DEVICE"
        case 200: "CUDA_ERROR_INVALID_IMAGE"
        case 201: "CUDA_ERROR_INVALID_CONTEXT"
        case 209: "CUDA_ERROR_NO_BINARY_FOR_GPU"
        case 218: "CUDA_ERROR_INVALID_PTX"
        case 222: "CUDA_ERROR_UNSUPPORTED_PTX_VERSION"
        case 400: "CUDA_ERROR_INVALID_HANDLE"
        case 500: "CUDA_ERROR_NOT_FOUND"
        case 600: "CUDA_ERROR_NOT_READY"
        case 700: "CUDA_ERROR_ILLEGAL_ADDRESS"
        case 701: "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES"
        case 719: "CUDA_ERROR_LAUNCH_FAILED"
        case 803: "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH"
        case 900: "CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED"
        case 901: "CUDA_ERROR_STREAM_CAPTURE_INVALIDATED"
        default: nil
        }
    }

    static func hint(for code: Int32) -> String {
        switch code {
        case 34:
            "the loaded libcuda is the CUDA toolkit's stub; install the NVIDIA driver and make sure its "
                + "libcuda.so.1 comes before any `stubs` folder in LD_LIBRARY_PATH."
        case 3, 4, 803:
            "the NVIDIA driver is not initialised or does not match the kernel module; check `nvidia-smi`, "
                + "and reboot after a driver update."
        case 200, 209, 218, 222:
            "the compiled kernel does not fit this GPU or driver; delete the kernel cache "
                + "(~/.cache/swiftctr/kernels) and, if it persists, update the NVIDIA driver to one at least "
                + "as new as the CUDA toolkit that provides NVRTC."
        case 700, 719:
            "a kernel accessed memory out of bounds; this is a SwiftCTR bug: rerun with "
                + "CUDA_LAUNCH_BLOCKING=1 (or under compute-sanitizer) and report the failing kernel."
        case 701:
            "the launch asked for more threads, registers or shared memory than the GPU has; "
                + "this is a SwiftCTR bug: report the kernel and the GPU."
        case 500:
            "the module has no kernel of that name; declare it `extern \"C\" __global__` so NVRTC "
                + "keeps the name unmangled, and check the spelling."
        case 900, 901:
            "a call that is not allowed during CUDA graph capture ran while capturing; run without graphs."
        default:
            "look the code up in the CUDA driver API documentation (CUresult); rerun with "
                + "CUDA_LAUNCH_BLOCKING=1 to find the failing kernel."
        }
    }
}

/// Names of `cublasStatus_t` (cublas_api.h).
enum CUBLASStatusName {
    static func name(of status: Int32) -> String {
        switch status {
        case 0: "CUBLAS_STATUS_SUCCESS"
        case 1: "CUBLAS_STATUS_NOT_INITIALIZED"
        case 3: "CUBLAS_STATUS_ALLOC_FAILED"
        case 7: "CUBLAS_STATUS_INVALID_VALUE"
        case 8: "CUBLAS_STATUS_ARCH_MISMATCH"
        case 11: "CUBLAS_STATUS_MAPPING_ERROR"
        case 13: "CUBLAS_STATUS_EXECUTION_FAILED"
        case 14: "CUBLAS_STATUS_INTERNAL_ERROR"
        case 15: "CUBLAS_STATUS_NOT_SUPPORTED"
        case 16: "CUBLAS_STATUS_LICENSE_ERROR"
        default: "unknown cublasStatus_t"
        }
    }

    static func hint(for status: Int32) -> String {
        switch status {
        case 1:
            "cuBLAS could not initialise: the libcublas version may need a newer NVIDIA driver; "
                + "update the driver or use a cuBLAS matching it."
        case 3:
            "the GPU is out of memory; lower the batch size or stop other processes on it."
        case 7:
            "a matrix size or leading dimension was invalid; this is a SwiftCTR bug: report the layer shapes."
        case 8, 15:
            "this GPU or data type is not supported by this cuBLAS; use float32 or a newer GPU."
        default:
            "rerun with CUBLAS_LOGINFO_DBG=1 CUBLAS_LOGDEST_DBG=stderr to see cuBLAS's own log, and report it."
        }
    }
}
