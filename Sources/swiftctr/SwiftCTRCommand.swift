import ArgumentParser
import Foundation
import SwiftCTR

@main
struct SwiftCTRCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swiftctr",
        abstract: "Train HugeCTR-style CTR models (DCN, DLRM, Wide&Deep, …) on CPU or GPU.",
        subcommands: [Train.self, Generate.self, Bench.self, SelfTest.self, Doctor.self],
        defaultSubcommand: Train.self)
}

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

/// Runs `body`, printing a SwiftCTR error as one clear line and exiting non-zero.
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as SwiftCTRError {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode.failure
    } catch let error as DataError {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode.failure
    } catch let error as CUDAError {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode.failure
    }
}

struct SelfTest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "selftest",
        abstract: "Run every kernel of a device backend against the CPU backend on random inputs.")

    @OptionGroup var deviceOptions: DeviceOptions

    func run() throws {
        try reportingErrors {
            let backend = try deviceOptions.backend()
            let results = BackendSelfTest.run(device: backend)
            print(BackendSelfTest.report(results, device: backend.name), terminator: "")
            if results.contains(where: { !$0.passed }) { throw ExitCode.failure }
        }
    }
}
