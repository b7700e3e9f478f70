import ArgumentParser
import SwiftCTR

/// Options every command that builds a backend shares.
struct DeviceOptions: ParsableArguments {
    @Option(help: "Where to run: cpu, cuda or cuda:N (GPU N).")
    var device: String = "cpu"

    func validate() throws {
        guard device == "cpu" || device == "cuda" || (device.hasPrefix("cuda:") && Int(device.dropFirst(5)) != nil) else {
            throw ValidationError("--device must be cpu, cuda or cuda:N, found '\(device)'.")
        }
    }

    func backend() throws -> any Backend {
        if device == "cpu" { return CPUBackend() }
        return try CUDABackend(ordinal: Int(device.dropFirst(5)) ?? 0)
    }
}
