import CTRData
import Foundation
@testable import SwiftCTR
import Testing

/// Snapshots in `fit` and exact resume: on the CPU with a fixed seed, a run resumed from a
/// snapshot continues exactly as the run that was never interrupted (losses compared with `==`).
@Suite("Snapshots and resume")
struct ResumeTests {
    /// Each display point's (iteration, loss, lr) and each evaluation's (iteration, AUC, loss).
    static func curve(_ records: [TrainingRecord], after iteration: Int) -> [[Double]] {
        records.filter { $0.iter > iteration }.map { r in
            r.evalAUC.map { [Double(r.iter), $0, r.evalLoss ?? -1] } ?? [Double(r.iter), r.loss, r.lr]
        }
    }

    /// The bytes of every file of snapshot `names`, by name without its prefix (manifest left out).
    static func contents(_ names: ModelFileNames) throws -> [String: Data] {
        let folder = names.prefix.folderOfPath
        let stem = names.prefix.nameInPath
        var files: [String: Data] = [:]
        for file in try SnapshotManifest.read(names.manifest).files {
            files[String(file.name.dropFirst(stem.count))] = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + file.name))
        }
        return files
    }

    @Test("fit writes snapshots as HugeCTR names them: suffix N after N + 1 iterations")
    func snapshotNames() throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let dataset = try MF.dataset(into: folder + "/data")
        let model = try MF.model(dataset)
        try model.fit(maxIter: 9, display: 0, evalInterval: 0, snapshot: 4, snapshotPrefix: folder + "/s")
        let manifests = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".snapshot.json") }
        #expect(manifests.sorted() == ["s_4.snapshot.json", "s_8.snapshot.json"])
        let manifest = try SnapshotManifest.read(folder + "/s_8.snapshot.json")
        #expect(manifest.position.iteration == 9 && manifest.step == 9 && manifest.schedulerStep == 9)
        #expect(manifest.denseOptimizerStep == 9 && manifest.embeddingSteps == [9, 9])
        #expect(manifest.position.trainBatches == 9)
        #expect(try Model.newestSnapshot(prefix: folder + "/s") == folder + "/s_8.snapshot.json")
    }

    @Test("repeat mode: the resumed run equals the uninterrupted one bit for bit")
    func resumeRepeating() throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let dataset = try MF.dataset(into: folder + "/data")
        // 14 iterations of 64 samples cycle through the 600 samples of two files read by two workers.
        let full = try MF.model(dataset)
        let reference = try full.fit(maxIter: 14, display: 1, evalInterval: 5, snapshot: 4, snapshotPrefix: folder + "/a")
        let resumed = try MF.model(dataset)
        try resumed.resume(from: folder + "/a_8.snapshot.json")
        let records = try resumed.fit(maxIter: 14, display: 1, evalInterval: 5, snapshot: 4, snapshotPrefix: folder + "/b")
        let expected = Self.curve(reference, after: 9)
        #expect(expected.count == 6, "iterations 10…14 and the evaluation at 10")
        #expect(Self.curve(records, after: 0) == expected)
        // The snapshot both runs then wrote is the same, byte for byte.
        let a = try Self.contents(ModelFileNames(prefix: folder + "/a", iteration: 12))
        let b = try Self.contents(ModelFileNames(prefix: folder + "/b", iteration: 12))
        #expect(a.count == 11 && a == b)
        #expect(full.currentLoss == resumed.currentLoss)
    }

    @Test("epoch mode: the resumed run continues in the same epoch and batch")
    func resumeEpochs() throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let dataset = try MF.dataset(into: folder + "/data")
        // Each epoch: two workers of 300 samples, 4 full batches and a dropped partial one each.
        let solver = MF.solver(repeatDataset: false)
        let full = try MF.model(dataset, solver: solver)
        let reference = try full.fit(numEpochs: 2, display: 1, evalInterval: 6, snapshot: 5, snapshotPrefix: folder + "/a")
        #expect(reference.filter { $0.evalAUC == nil }.count == 16)
        let manifest = try SnapshotManifest.read(folder + "/a_10.snapshot.json")
        #expect(manifest.position == DataPosition(iteration: 11, epoch: 1, trainBatches: 3, evalBatches: 2))
        let resumed = try MF.model(dataset, solver: solver)
        try resumed.resume(from: folder + "/a")   // the newest: a_15 (after iteration 16)
        #expect(try resumed.fit(numEpochs: 2, display: 1, evalInterval: 6).isEmpty)
        let again = try MF.model(dataset, solver: solver)
        try again.resume(from: folder + "/a_10.snapshot.json")
        let records = try again.fit(numEpochs: 2, display: 1, evalInterval: 6)
        #expect(Self.curve(records, after: 0) == Self.curve(reference, after: 11))
        #expect(records.count == 6, "iterations 12…16 and the evaluation at 12")
    }

    @Test("resume refuses another seed and an uncompiled model")
    func resumeErrors() throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let dataset = try MF.dataset(into: folder + "/data")
        let model = try MF.model(dataset)
        try model.fit(maxIter: 3, display: 0, evalInterval: 0, snapshot: 1, snapshotPrefix: folder + "/s")
        let other = try MF.model(dataset, solver: MF.solver(seed: 10))
        let seed = #expect(throws: SwiftCTRError.self) { try other.resume(from: folder + "/s") }
        #expect(seed?.message.contains("trained with seed 9, this model has seed 10") == true)
        let none = #expect(throws: SwiftCTRError.self) { try other.resume(from: folder + "/none") }
        #expect(none?.message.contains("no complete snapshot with prefix") == true)
        let uncompiled = try Model(MF.solver(), DataReaderParams(dataReaderType: .norm, source: [dataset.trainList],
                                                                   evalSource: dataset.evalList, checkType: .sum),
                                   CreateOptimizer())
        let notCompiled = #expect(throws: SwiftCTRError.self) { try uncompiled.resume(from: folder + "/s") }
        #expect(notCompiled?.message.contains("not compiled") == true)
    }

    @Test("a reader started at batch n hands out what a reader that skipped n batches would",
          arguments: [true, false])
    func readerStart(repeats: Bool) throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let dataset = try MF.dataset(into: folder + "/data")
        func reader(_ start: Int) throws -> BatchReader {
            try BatchReader(fileList: dataset.trainList, layout: MF.input.layout, i64Keys: false, check: .sum,
                            batchSize: 64, repeat: repeats, numWorkers: 2, startingAt: start)
        }
        let whole = try reader(0)
        var batches: [Batch] = []
        while batches.count < 24, let batch = try whole.next() { batches.append(batch) }
        whole.stop()
        #expect(batches.count == (repeats ? 24 : 10))
        for start in [1, 4, 5, 9, 10, 13] where start <= batches.count {
            let late = try reader(start)
            defer { late.stop() }
            for expected in batches[start...] {
                let batch = try #require(try late.next())
                #expect(batch.labels == expected.labels && batch.dense == expected.dense)
                #expect(batch.sparse.map(\.keys) == expected.sparse.map(\.keys))
            }
            if !repeats { #expect(try late.next() == nil) }
        }
    }
}
