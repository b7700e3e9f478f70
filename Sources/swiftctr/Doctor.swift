import ArgumentParser
import CTRCUDA
import SwiftCTR

/// `swiftctr doctor`: what this machine can train on.
struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the CPU backend and every CUDA library and GPU SwiftCTR can find, or why not.")

    func run() throws {
        print("CPU: \(CPUBackend().name)")
        print(CUDAReport.text())
    }
}
