import ArgumentParser
import Foundation
import SwiftCTR

@main
struct SwiftCTRCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swiftctr",
        abstract: "Train HugeCTR-style CTR models (DCN, DLRM, Wide&Deep, …) on CPU or GPU.",
        subcommands: [Train.self, Models.self, Summary.self, Evaluate.self, Predict.self, Generate.self, Convert.self, Bench.self, SelfTest.self, Doctor.self],
        defaultSubcommand: Train.self)
}

/// Runs `body`, printing a SwiftCTR error as one clear line and exiting non-zero. Under mpirun
/// only the first process (rank 0) prints results; every process prints its errors.
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    if let rank = MPIRuntime.launcherRank, rank != 0 {
        let null = open("/dev/null", O_WRONLY)
        if null >= 0 { dup2(null, STDOUT_FILENO) }
    }
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
