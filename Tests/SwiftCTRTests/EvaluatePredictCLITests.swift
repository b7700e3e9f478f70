import CTRData
import Foundation
import SwiftCTR
import Testing

/// `swiftctr evaluate` and `swiftctr predict` run as processes (the `swiftctr` beside the test
/// binary) on a model that `swiftctr train` snapshotted: the outputs, and each way of giving the
/// model wrongly.
@Suite("swiftctr evaluate and predict")
struct EvaluatePredictCLITests {
    struct Run {
        var status: Int32
        var output: String
        var errors: String
    }

    static func swiftctr(_ arguments: [String], in folder: String) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: SnapshotKillTests.binary)
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        process.arguments = arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile(), err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, output: String(decoding: out, as: UTF8.self),
                   errors: String(decoding: err, as: UTF8.self))
    }

    /// A dataset in `folder/data` and a DCN (deep width 16) trained on it by `swiftctr train`
    /// for 5 iterations, snapshotted as `snap_4`.
    static func trainedModel(in folder: String) throws {
        let config = SyntheticConfig(numTrain: 600, numEval: 200, slotSizes: [30, 20, 40, 25], denseDim: 13, seed: 3,
                                     trainFiles: 2, evalFiles: 1, i64Keys: false, check: .sum, minExpectedCount: 5)
        _ = try SyntheticGenerator.generate(config, into: folder + "/data")
        let train = try swiftctr(["train", "--data", "data", "--max-iter", "5", "--batch-size", "32", "--deep-width", "16",
                                  "--eval-interval", "0", "--seed", "5", "--snapshot", "4", "--snapshot-prefix", "snap",
                                  "--plot", "curve.svg"], in: folder)
        try #require(train.status == 0, "\(train.errors)")
    }

    @Test("predict writes one probability per sample; the snapshot and its files give the same; evaluate reports AUC and logloss")
    func outputs() throws {
        try #require(FileManager.default.isExecutableFile(atPath: SnapshotKillTests.binary),
                     "\(SnapshotKillTests.binary) is missing; build it with `swift build` before `swift test`.")
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Self.trainedModel(in: folder)
        let common = ["--data", "data", "--deep-width", "16", "--batch-size", "64"]
        let fromSnapshot = try Self.swiftctr(["predict"] + common + ["--snapshot", "snap", "--out", "p.txt"], in: folder)
        #expect(fromSnapshot.status == 0, "\(fromSnapshot.errors)")
        #expect(fromSnapshot.output.contains("wrote 200 predictions to p.txt"))
        let lines = try String(contentsOfFile: folder + "/p.txt", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 200)
        #expect(lines.allSatisfy { Float(String($0)).map { $0 > 0 && $0 < 1 } == true })
        let fromFiles = try Self.swiftctr(["predict"] + common + ["--dense-model", "snap_dense_4.model",
                                                                  "--sparse-model", "snap0_sparse_4.model", "--out", "q.txt"], in: folder)
        #expect(fromFiles.status == 0, "\(fromFiles.errors)")
        #expect(try String(contentsOfFile: folder + "/q.txt", encoding: .utf8) == lines.joined(separator: "\n") + "\n")
        let evaluation = try Self.swiftctr(["evaluate"] + common + ["--snapshot", "snap_4.snapshot.json"], in: folder)
        #expect(evaluation.status == 0, "\(evaluation.errors)")
        #expect(evaluation.output.contains("samples 200"))
        #expect(evaluation.output.contains("label: AUC 0.") && evaluation.output.contains("logloss 0."))
    }

    @Test("each wrong way of giving the model is a clear error", arguments: [
        (["--out", "x.txt"], "no trained weights given"),
        (["--out", "x.txt", "--snapshot", "snap", "--dense-model", "snap_dense_4.model"], "not both"),
        (["--out", "x.txt", "--sparse-model", "snap0_sparse_4.model"], "--sparse-model needs --dense-model"),
        (["--out", "x.txt", "--dense-model", "snap_dense_4.model"], "0 sparse model folders given"),
        (["--out", "x.txt", "--snapshot", "elsewhere"], "no complete snapshot with prefix 'elsewhere'"),
        (["--out", "x.txt", "--snapshot", "snap", "--deep-width", "32"], "the dense weights file 'snap_dense_4.model' holds"),
        (["--out", "x.txt", "--snapshot", "snap", "--data", "nothing"], "'nothing' has no dataset.json"),
        (["--out", "x.txt", "--snapshot", "snap", "--file-list", "missing.txt"], "missing.txt"),
    ])
    func errors(_ arguments: [String], _ message: String) throws {
        try #require(FileManager.default.isExecutableFile(atPath: SnapshotKillTests.binary))
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Self.trainedModel(in: folder)
        // A later --data or --deep-width overrides the first.
        let run = try Self.swiftctr(["predict", "--data", "data", "--deep-width", "16"] + arguments, in: folder)
        #expect(run.status != 0)
        #expect(run.errors.contains(message), "\(run.errors)")
        #expect(!FileManager.default.fileExists(atPath: folder + "/x.txt"))
    }
}
