import Foundation

/// The CUDA shared libraries SwiftCTR loads at run time.
public enum CUDALibrary: String, Sendable, CaseIterable, CustomStringConvertible {
    /// The driver API, shipped with the NVIDIA driver (not with the toolkit).
    case driver = "libcuda"
    /// The run-time CUDA C++ compiler that builds SwiftCTR's kernels.
    case nvrtc = "libnvrtc"
    case cublas = "libcublas"
    /// cuBLAS's matmul engine; libcublas needs it beside it.
    case cublasLt = "libcublasLt"
    /// NVIDIA's collectives between GPUs (`NCCLCollective`).
    case nccl = "libnccl"

    /// Sonames in preference order: newest CUDA first, the unversioned development link last.
    public var sonames: [String] {
        switch self {
        case .driver: ["libcuda.so.1", "libcuda.so"]
        case .nvrtc: ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so"]
        case .cublas: ["libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so"]
        case .cublasLt: ["libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so.11", "libcublasLt.so"]
        case .nccl: ["libnccl.so.2", "libnccl.so"]
        }
    }

    /// What the library is, for messages.
    public var role: String {
        switch self {
        case .driver: "the NVIDIA driver API"
        case .nvrtc: "NVRTC, the CUDA run-time compiler"
        case .cublas: "cuBLAS"
        case .cublasLt: "cuBLASLt"
        case .nccl: "NCCL, NVIDIA's collectives between GPUs"
        }
    }

    public var description: String { rawValue }

    /// A symbol every version exports; `doctor` asks the loader which file holds it.
    var probeSymbol: String {
        switch self {
        case .driver: "cuInit"
        case .nvrtc: "nvrtcVersion"
        case .cublas: "cublasCreate_v2"
        case .cublasLt: "cublasLtCreate"
        case .nccl: "ncclGetVersion"
        }
    }

    /// How to get the library.
    var installHint: String {
        switch self {
        case .driver:
            "install the NVIDIA driver (libcuda.so.1 comes with the driver, not with the CUDA toolkit) and "
                + "check that `nvidia-smi` works; in a container start it with `--gpus all` "
                + "(NVIDIA Container Toolkit). Without a GPU, train with --device cpu."
        case .nvrtc:
            "install the CUDA toolkit (e.g. `apt-get install cuda-nvrtc-13-0`) or "
                + "`pip install nvidia-cuda-nvrtc-cu12`, or set CUDA_HOME to the toolkit folder "
                + "(the one holding lib64/ or targets/x86_64-linux/lib/)."
        case .cublas, .cublasLt:
            "install the CUDA toolkit (e.g. `apt-get install libcublas-13-0`) or "
                + "`pip install nvidia-cublas-cu12`, or set CUDA_HOME to the toolkit folder "
                + "(the one holding lib64/ or targets/x86_64-linux/lib/)."
        case .nccl:
            "`pip install nvidia-nccl-cu12` (or nvidia-nccl-cu13 for CUDA 13) in the Python environment SwiftCTR "
                + "runs from, or install the system package (`apt-get install libnccl2` from NVIDIA's CUDA repository), "
                + "or put the folder holding libnccl.so.2 in LD_LIBRARY_PATH. Without NCCL, train on one GPU."
        }
    }

    var upgradeHint: String {
        switch self {
        case .driver: "update the NVIDIA driver (SwiftCTR needs a driver for CUDA 11.4 or newer)."
        case .nvrtc, .cublas, .cublasLt:
            "install CUDA 11.4 or newer (or `pip install nvidia-cuda-nvrtc-cu12 nvidia-cublas-cu12`) "
                + "and point CUDA_HOME at it."
        case .nccl: "install NCCL 2.7 or newer (`pip install nvidia-nccl-cu12`, or `apt-get install libnccl2`)."
        }
    }
}

/// A library that was opened, where from, and what was tried before it.
public struct LoadedLibrary: @unchecked Sendable {
    public let library: CUDALibrary
    /// The `dlopen` handle (never closed: the library stays loaded for the process).
    public let handle: UnsafeMutableRawPointer
    /// The candidate that opened: a soname or a full path.
    public let path: String
    /// The file the library resolved to (for a soname, where the dynamic loader found it), when known.
    public let file: String?
    /// Every candidate tried, in order, ending with `path`.
    public let tried: [String]
}

/// Finds the CUDA libraries: by soname first (LD_LIBRARY_PATH, ld.so.cache), then in
/// `$CUDA_HOME` and `$CUDA_PATH` (`lib64`, `targets/x86_64-linux/lib`), every
/// `/usr/local/cuda*` install (newest first), the system library folders (libcuda and libnccl),
/// and the `nvidia/*/lib` folders of Python packages (`$VIRTUAL_ENV`, `$CONDA_PREFIX`, the
/// environments on PATH, `~/.local`, `/usr/local/lib`, `/usr/lib`), where
/// `pip install nvidia-cuda-nvrtc-cu12 nvidia-cublas-cu12 nvidia-nccl-cu12` puts them.
///
/// ```swift
/// let nvrtc = try CUDALibraryLocator().load(.nvrtc)
/// print(nvrtc.path, nvrtc.tried.count)
/// ```
public struct CUDALibraryLocator: Sendable {
    public let loader: any DynamicLibraryLoader

    public init(loader: any DynamicLibraryLoader = SystemLoader()) {
        self.loader = loader
    }

    /// Folders searched after the sonames, in order.
    public func searchDirectories(for library: CUDALibrary) -> [String] {
        var folders: [String] = []
        for variable in ["CUDA_HOME", "CUDA_PATH"] {
            guard let root = nonEmptyEnvironment(variable) else { continue }
            folders += [join(root, "lib64"), join(root, "targets/x86_64-linux/lib")]
        }
        let installs = loader.contentsOfDirectory("/usr/local")
            .filter { $0.hasPrefix("cuda") }
            .sorted(by: newestFirst)
        for install in installs {
            folders += ["/usr/local/\(install)/targets/x86_64-linux/lib", "/usr/local/\(install)/lib64"]
        }
        if library == .driver || library == .nccl {
            folders += ["/usr/lib/x86_64-linux-gnu", "/usr/lib64"]
        }
        if library == .driver {
            folders.append("/usr/lib/wsl/lib")
        }
        if let conda = nonEmptyEnvironment("CONDA_PREFIX") {
            folders.append(join(conda, "lib"))
        }
        for packages in pythonPackageFolders() {
            let nvidia = join(packages, "nvidia")
            for package in loader.contentsOfDirectory(nvidia).sorted() {
                folders.append(join(join(nvidia, package), "lib"))
            }
        }
        return unique(folders)
    }

    /// Every path `load` tries, in order: the sonames, then each soname in each search folder.
    public func candidates(for library: CUDALibrary) -> [String] {
        var paths = library.sonames
        for folder in searchDirectories(for: library) {
            paths += library.sonames.map { join(folder, $0) }
        }
        return unique(paths)
    }

    /// Opens the first candidate that loads, or throws `libraryMissing` listing every path tried.
    public func load(_ library: CUDALibrary) throws(CUDAError) -> LoadedLibrary {
        var tried: [String] = []
        var loaderErrors: [String] = []
        for path in candidates(for: library) {
            tried.append(path)
            if let handle = loader.open(path) {
                let file = loader.symbol(handle, library.probeSymbol).flatMap { loader.fileContaining($0) }
                return LoadedLibrary(library: library, handle: handle, path: path, file: file, tried: tried)
            }
            // A missing file is the normal case; anything else (wrong ELF class, missing GLIBC
            // version, a missing dependency) is what the user needs to see.
            if let message = loader.lastError(), !message.contains("No such file or directory"),
               !loaderErrors.contains(message) {
                loaderErrors.append(message)
            }
        }
        throw CUDAError(.libraryMissing(library: library, tried: tried, loaderErrors: loaderErrors))
    }

    /// `site-packages` and `dist-packages` folders of every Python 3 the environment points at,
    /// including the environments whose `bin` folder is on PATH (a venv used without activating it).
    func pythonPackageFolders() -> [String] {
        var roots: [String] = []
        if let venv = nonEmptyEnvironment("VIRTUAL_ENV") { roots.append(join(venv, "lib")) }
        if let conda = nonEmptyEnvironment("CONDA_PREFIX") { roots.append(join(conda, "lib")) }
        for folder in (nonEmptyEnvironment("PATH") ?? "").split(separator: ":") where folder.hasSuffix("/bin") {
            roots.append(String(folder.dropLast(3)) + "lib")
        }
        if let home = nonEmptyEnvironment("HOME") { roots.append(join(home, ".local/lib")) }
        roots += ["/usr/local/lib", "/usr/lib"]
        var folders: [String] = []
        for root in unique(roots) {
            for python in loader.contentsOfDirectory(root).filter({ $0.hasPrefix("python3") }).sorted(by: newestFirst) {
                folders += [join(root, "\(python)/site-packages"), join(root, "\(python)/dist-packages")]
            }
        }
        return folders
    }

    private func nonEmptyEnvironment(_ name: String) -> String? {
        guard let value = loader.environment(name), !value.isEmpty else { return nil }
        return value
    }
}

/// "cuda" (the default link) first, then versions from newest: cuda-13.0 before cuda-12.9 before cuda-9.2.
private func newestFirst(_ a: String, _ b: String) -> Bool {
    if a == "cuda" || b == "cuda" { return a == "cuda" && b != "cuda" }
    return a.compare(b, options: .numeric) == .orderedDescending
}

private func join(_ folder: String, _ name: String) -> String {
    folder.hasSuffix("/") ? folder + name : folder + "/" + name
}

private func unique(_ items: [String]) -> [String] {
    var seen = Set<String>()
    return items.filter { seen.insert($0).inserted }
}
