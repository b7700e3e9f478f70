/// The CUDA half of `swiftctr doctor`: which libraries loaded from where (or every path tried),
/// the driver version, every GPU, and the NVRTC, cuBLAS and NCCL versions. Never throws:
/// whatever is missing becomes a line saying so and how to fix it.
///
/// ```swift
/// print(CUDAReport.text())
/// ```
public struct CUDAReport {
    public static func text(loader: any DynamicLibraryLoader = SystemLoader()) -> String {
        var lines = ["CUDA:"]
        let locator = CUDALibraryLocator(loader: loader)
        var firstDevice: CUDADevice?

        do {
            let library = try locator.load(.driver)
            lines.append("  \(describe(library))")
            let driver = try CUDADriver(library: library, loader: loader)
            let count = try CUDADevice.initialize(driver)
            var version: Int32 = 0
            try driver.check(driver.cuDriverGetVersion(&version), "cuDriverGetVersion")
            lines.append("  driver supports CUDA \(version / 1000).\(version % 1000 / 10) (\(version))")
            lines.append("  devices: \(count)")
            if count == 0 { lines.append("  " + CUDAError(.noDevice).description) }
            for ordinal in 0..<count {
                do {
                    let device = try CUDADevice(ordinal: ordinal, driver: driver)
                    if firstDevice == nil { firstDevice = device }
                    let free = (try? device.memoryInfo()).map { ", \(formatBytes($0.free)) free" } ?? ""
                    lines.append("    [\(ordinal)] \(device.name): \(device.arch) (compute capability "
                        + "\(device.computeCapability.major).\(device.computeCapability.minor)), "
                        + "\(device.multiprocessorCount) SMs, \(formatBytes(device.totalMemory)) memory\(free)")
                } catch {
                    lines.append("    [\(ordinal)] " + indent(error.description, by: 8))
                }
            }
        } catch {
            lines.append("  " + indent(error.description, by: 4))
        }

        do {
            let nvrtc = try NVRTC(library: locator.load(.nvrtc), loader: loader)
            lines.append("  \(describe(nvrtc.library)), version \(nvrtc.version.major).\(nvrtc.version.minor)")
            if let firstDevice {
                let compiler = KernelCompiler(device: firstDevice, nvrtc: nvrtc, cacheDirectory: nil)
                let source = "extern \"C\" __global__ void swiftctr_doctor(float* x) { x[threadIdx.x] = 1.0f; }"
                _ = try compiler.module(source: source, name: "doctor.cu").function("swiftctr_doctor")
                lines.append("    compiled and loaded a test kernel for \(firstDevice.arch)")
            }
        } catch {
            lines.append("  " + indent(error.description, by: 4))
        }

        do {
            let cublas = try CUBLASLibrary.load(loader: loader)
            if let lt = cublas.lt { lines.append("  \(describe(lt))") }
            var line = "  \(describe(cublas.library))"
            if let version = cublas.version { line += ", version \(version.major).\(version.minor).\(version.patch)" }
            lines.append(line)
            if let firstDevice {
                let handle = try CUBLAS(device: firstDevice, functions: cublas)
                lines.append("    created a handle on device 0 (cublasGetVersion \(try handle.version()))")
            }
        } catch {
            lines.append("  " + indent(error.description, by: 4))
        }

        do {
            let nccl = try NCCLLibrary(library: locator.load(.nccl), loader: loader)
            lines.append("  \(describe(nccl.library)), version \(nccl.versionString)")
        } catch {
            lines.append("  " + indent(error.description, by: 4))
        }
        return lines.joined(separator: "\n")
    }

    private static func describe(_ library: LoadedLibrary) -> String {
        var text = "\(library.library.rawValue): \(library.path)"
        if let file = library.file, file != library.path { text += " → \(file)" }
        if library.tried.count > 1 { text += " (candidate \(library.tried.count))" }
        return text
    }

    private static func indent(_ text: String, by spaces: Int) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .joined(separator: "\n" + String(repeating: " ", count: spaces))
    }
}
