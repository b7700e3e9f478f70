import CTRCore
import CTRData
import Foundation
import SwiftCTR
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Crash safety of snapshots: `swiftctr train` writing a snapshot every iteration is SIGKILLed at
/// random moments, at least 20 times; after each kill the newest complete snapshot must load, and
/// the next run resumes from it. Every loss any run logs, and the final run's, must equal the
/// uninterrupted run's at the same iteration. `scripts/snapshot-kill.sh` runs a longer variant
/// (`SWIFTCTR_SNAPSHOT_KILLS`, default 20, sets the number of kills).
@Suite("Snapshots survive SIGKILL")
struct SnapshotKillTests {
    /// `swiftctr` beside the test binary (`swift build` and `swift test` put both there).
    static var binary: String {
        let tests = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        return tests.appendingPathComponent("swiftctr").path
    }

    /// The (iteration, loss) pairs of a `--metrics-out` file; a line cut by a kill is left out.
    static func losses(_ path: String) -> [Int: Double] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
        var losses: [Int: Double] = [:]
        for line in text.split(separator: "\n") {
            guard let record = try? JSONDecoder().decode(TrainingRecord.self, from: Data(line.utf8)),
                  record.evalAUC == nil else { continue }
            losses[record.iter] = record.loss
        }
        return losses
    }

    /// Starts `swiftctr train` on `data` for `iterations` iterations in `folder`.
    static func launch(_ folder: String, iterations: Int, extra: [String], metrics: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        process.arguments = ["train", "--data", "data", "--max-iter", "\(iterations)", "--batch-size", "32",
                             "--deep-width", "16", "--display", "1", "--eval-interval", "0", "--seed", "5",
                             "--metrics-out", metrics, "--plot", "curve.svg"] + extra
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    @Test("the newest complete snapshot always loads and resumes after SIGKILL")
    func killWhileSnapshotting() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary),
                     "\(Self.binary) is missing; build it with `swift build` before `swift test`.")
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let config = SyntheticConfig(numTrain: 3000, numEval: 200, slotSizes: [30, 20, 40, 25], denseDim: 13, seed: 3,
                                     trainFiles: 2, evalFiles: 1, i64Keys: false, check: .sum, minExpectedCount: 5)
        _ = try SyntheticGenerator.generate(config, into: folder + "/data")
        let wanted = Int(ProcessInfo.processInfo.environment["SWIFTCTR_SNAPSHOT_KILLS"] ?? "") ?? 20
        let iterations = max(400, 20 * wanted), prefix = folder + "/snap"
        let uninterrupted = try Self.launch(folder, iterations: iterations, extra: [], metrics: "reference.jsonl")
        uninterrupted.waitUntilExit()
        try #require(uninterrupted.terminationStatus == 0)
        let reference = Self.losses(folder + "/reference.jsonl")
        try #require(reference.count == iterations)

        var rng = CounterRNG(seed: 2026, stream: 1)
        var kills = 0, round = 0, newest: String?
        while kills < wanted && round < 3 * wanted {
            round += 1
            let metrics = "round\(round).jsonl"
            let process = try Self.launch(folder, iterations: iterations,
                                          extra: ["--snapshot", "1", "--snapshot-prefix", prefix] + (newest == nil ? [] : ["--resume", prefix]),
                                          metrics: metrics)
            Thread.sleep(forTimeInterval: rng.nextUniform(0.05, 0.35))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            if process.terminationReason == .uncaughtSignal { kills += 1 } else { #expect(process.terminationStatus == 0) }
            for (iteration, loss) in Self.losses(folder + "/" + metrics) {
                #expect(reference[iteration] == loss, "round \(round), iteration \(iteration)")
            }
            // Once a snapshot was complete there always is one, and it is never older.
            let found = try? Model.newestSnapshot(prefix: prefix)
            if newest != nil { #expect(found != nil, "round \(round) left no complete snapshot") }
            if let found, let before = newest {
                #expect(Self.iteration(found) >= Self.iteration(before))
            }
            newest = found ?? newest
        }
        #expect(kills >= wanted)
        let final = try Self.launch(folder, iterations: iterations,
                                    extra: ["--snapshot", "1", "--snapshot-prefix", prefix] + (newest == nil ? [] : ["--resume", prefix]),
                                    metrics: "final.jsonl")
        final.waitUntilExit()
        #expect(final.terminationStatus == 0)
        let resumed = Self.losses(folder + "/final.jsonl")
        // The last iteration was logged, unless a killed run had already written the last snapshot.
        #expect(resumed[iterations] != nil || newest.map(Self.iteration) == iterations - 1)
        for (iteration, loss) in resumed { #expect(reference[iteration] == loss, "final run, iteration \(iteration)") }
    }

    static func iteration(_ manifest: String) -> Int {
        Int(manifest.dropLast(".snapshot.json".count).split(separator: "_").last ?? "") ?? -1
    }
}
