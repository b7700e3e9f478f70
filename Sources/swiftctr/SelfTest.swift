import ArgumentParser
import SwiftCTR

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
