/// The trained weights of a snapshot, for evaluation and prediction.
///
/// ```swift
/// try model.compile()                                   // the layers that wrote the snapshot
/// let manifest = try model.loadWeights(fromSnapshot: "out/dcn")   // the newest complete one
/// ```
extension Model {
    /// Loads the dense weights (with the BatchNorm statistics) and every embedding's sparse model
    /// of the snapshot `path` names: a manifest (`<prefix>_<iter>.snapshot.json`) or a prefix,
    /// whose newest complete snapshot is taken. Optimizer states, step counters and the data
    /// position stay as they are (`resume(from:)` restores them too, for training on). Returns
    /// the manifest's path.
    @discardableResult
    public func loadWeights(fromSnapshot path: String) throws -> String {
        guard graph != nil else {
            throw SwiftCTRError(.config, "loadWeights(fromSnapshot:): the model is not compiled; add the snapshot's layers and call compile() first.")
        }
        let (manifestPath, names, _) = try Self.completeSnapshot(path)
        try loadDenseWeights(names.dense)
        try loadSparseWeights(try running().embeddingStores.indices.map(names.sparse))
        return manifestPath
    }

    /// The snapshot `path` names (a manifest, or the newest complete one of a prefix): its
    /// manifest's path, file names and contents, checked complete.
    static func completeSnapshot(_ path: String) throws -> (path: String, names: ModelFileNames, manifest: SnapshotManifest) {
        let manifestPath = path.hasSuffix(".snapshot.json") ? path : try newestSnapshot(prefix: path)
        guard let names = ModelFileNames(manifest: manifestPath) else {
            throw SwiftCTRError(.config, "'\(manifestPath)' is not named <prefix>_<iter>.snapshot.json; give the manifest a snapshot wrote, or its prefix.")
        }
        let manifest = try SnapshotManifest.read(manifestPath)
        try manifest.checkFiles(besides: manifestPath)
        return (manifestPath, names, manifest)
    }
}
