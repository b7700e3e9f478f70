import ArgumentParser
import SwiftCTR

/// Options every command that builds a backend shares.
struct DeviceOptions: ParsableArguments {
    @Option(help: "Where to run: cpu, cuda, cuda:N (GPU N) or cuda:N,M,… (several GPUs of this host, data-parallel over NCCL).")
    var device: String = "cpu"

    /// The GPUs of `cuda:N,M,…` (`[0]` for `cuda`), or nil for the CPU.
    var gpus: [Int]? {
        guard device != "cpu" else { return nil }
        guard device.hasPrefix("cuda:") else { return [0] }
        let list = device.dropFirst(5).split(separator: ",", omittingEmptySubsequences: false).map { Int($0) }
        return list.contains(nil) ? nil : list.compactMap { $0 }
    }

    func validate() throws {
        guard device == "cpu" || device == "cuda" || (device.hasPrefix("cuda:") && gpus != nil) else {
            throw ValidationError("--device must be cpu, cuda, cuda:N or cuda:N,M,…, found '\(device)'.")
        }
        if let gpus, Set(gpus).count != gpus.count {
            throw ValidationError("--device \(device) names a GPU twice; give each GPU once.")
        }
    }

    /// The backend of the one device; several GPUs are `swiftctr train`'s alone (`Train.place`).
    func backend() throws -> any Backend {
        guard let gpus else { return CPUBackend() }
        guard gpus.count == 1 else {
            throw ValidationError("--device \(device) lists \(gpus.count) GPUs; this command runs on one: give --device cuda:\(gpus[0]).")
        }
        return try CUDABackend(ordinal: gpus[0])
    }
}
