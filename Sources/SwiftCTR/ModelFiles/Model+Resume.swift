import Foundation

/// Exact resume from a snapshot (SwiftCTR's; HugeCTR has none): weights, optimizer states, step
/// counters, the learning-rate schedule, the data position and the hash-table rows come back,
/// so that on the CPU with a fixed seed the following iterations equal those of the run that was
/// never interrupted, bit for bit.
///
/// ```swift
/// try model.compile()                      // the same model and solver (seed) as the snapshot's
/// try model.resume(from: "out/dcn")        // the newest complete snapshot of prefix "out/dcn"
/// try model.fit(maxIter: 10_000, snapshot: 1000, snapshotPrefix: "out/dcn")   // continues at its iteration
/// ```
extension Model {
    /// Restores the snapshot `path` names: a manifest (`<prefix>_<iter>.snapshot.json`) or a
    /// snapshot prefix, whose newest complete snapshot is taken. The next `fit` continues where
    /// the snapshot's stood: its iteration count (so `maxIter` is the total, as for the run that
    /// was not interrupted), training and evaluation data, snapshots and display. Returns the path
    /// of the manifest restored.
    @discardableResult
    public func resume(from path: String) throws -> String {
        guard graph != nil else {
            throw SwiftCTRError(.config, "resume: the model is not compiled; add the snapshot's layers and call compile() first.")
        }
        let (manifestPath, names, manifest) = try Self.completeSnapshot(path)
        guard manifest.seed == String(seed) else {
            throw SwiftCTRError(.config, "resume: snapshot '\(manifestPath)' was trained with seed \(manifest.seed), this model has seed \(seed); dropout masks and new embedding rows would differ. Give the solver seed: \(manifest.seed).")
        }
        let runner = try running(), stores = runner.embeddingStores
        guard manifest.embeddingSteps.count == stores.count else {
            throw SwiftCTRError(.config, "resume: snapshot '\(manifestPath)' holds \(manifest.embeddingSteps.count) embeddings, this model has \(stores.count); resume into the model that wrote it.")
        }
        try loadDenseWeights(names.dense)
        try loadDenseOptimizerStates(names.denseOptimizer)
        let indices = Array(stores.indices)
        try loadSparseWeights(indices.map(names.sparse))
        try loadSparseOptimizerStates(indices.map(names.sparseOptimizer))
        for replica in runner.replicas { replica.optimizer.restore(step: manifest.denseOptimizerStep) }
        for (table, step) in zip(stores, manifest.embeddingSteps) { table.restore(step: step) }
        schedule.restore(step: manifest.schedulerStep)
        step = manifest.step
        resumePosition = manifest.position
        return manifestPath
    }

    /// The manifest of the newest complete snapshot of `prefix` (`<prefix>_<iter>.snapshot.json`
    /// with every file it lists present at its size). Throws when there is none, listing why each
    /// candidate is incomplete.
    public static func newestSnapshot(prefix: String) throws -> String {
        let folder = prefix.folderOfPath
        let listing = (try? FileManager.default.contentsOfDirectory(atPath: folder.isEmpty ? "." : folder)) ?? []
        let candidates = listing.compactMap { name -> (Int, String)? in
            let path = folder.isEmpty ? name : folder + "/" + name
            guard let names = ModelFileNames(manifest: path), names.prefix == prefix else { return nil }
            return (names.iteration, path)
        }.sorted { $0.0 > $1.0 }
        var problems: [String] = []
        for (_, path) in candidates {
            do {
                try SnapshotManifest.read(path).checkFiles(besides: path)
                return path
            } catch let error as SwiftCTRError {
                problems.append(error.message)
            }
        }
        throw SwiftCTRError(.io, "no complete snapshot with prefix '\(prefix)' (looked for \(prefix)_<iter>.snapshot.json)" + (problems.isEmpty ? "; give the snapshot_prefix of the run, or a .snapshot.json file." : ": " + problems.joined(separator: "; ")))
    }
}

extension SnapshotManifest {
    /// The manifest at `path`; throws naming the file when it is missing or not a manifest.
    static func read(_ path: String) throws -> SnapshotManifest {
        let data = try ModelFileReader.bytes(path, what: "snapshot manifest")
        let manifest: SnapshotManifest
        do {
            manifest = try JSONDecoder().decode(SnapshotManifest.self, from: data)
        } catch {
            throw SwiftCTRError(.data, "snapshot manifest '\(path)' is not a \(formatName) manifest (\(error)). It is damaged, or not written by SwiftCTR.")
        }
        guard manifest.format == formatName, manifest.version == currentVersion else {
            throw SwiftCTRError(.data, "snapshot manifest '\(path)' has format '\(manifest.format)' version \(manifest.version), expected '\(formatName)' version \(currentVersion).")
        }
        return manifest
    }

    /// Throws unless every listed file exists, beside the manifest at `path`, with its size.
    func checkFiles(besides path: String) throws {
        let folder = path.folderOfPath
        for file in files {
            let full = folder.isEmpty ? file.name : folder + "/" + file.name
            guard let size = (try? FileManager.default.attributesOfItem(atPath: full))?[.size] as? Int else {
                throw SwiftCTRError(.io, "snapshot '\(path)' is incomplete: its file '\(full)' is missing.")
            }
            guard size == file.bytes else {
                throw SwiftCTRError(.io, "snapshot '\(path)' is incomplete: '\(full)' holds \(size) bytes, the manifest says \(file.bytes).")
            }
        }
    }
}
