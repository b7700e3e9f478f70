/// Where a `fit` stands in its data: iterations done, the epoch (epoch mode) and the batches taken
/// from the training reader in it, and the batches taken from the evaluation reader.
struct DataPosition: Codable, Equatable, Sendable {
    var iteration = 0
    var epoch = 0
    var trainBatches = 0
    var evalBatches = 0
}

/// SwiftCTR's snapshot manifest, `<prefix>_<iter>.snapshot.json` (not a HugeCTR file): written
/// after every other file of the snapshot, so a snapshot is complete exactly when its manifest
/// exists and the files it lists have the sizes it gives. It also holds what HugeCTR's files do
/// not, for an exact resume: the step counters (the model's, which drives dropout masks, the
/// learning-rate schedule's, the dense optimizer's and each embedding's Adam t), the data
/// position, the seed and the BatchNorm running statistics bit for bit (the `.ntp.json` keeps 6
/// decimals).
///
/// ```json
/// {"format": "SwiftCTR snapshot", "version": 1, "iteration": 1000, "seed": "42",
///  "position": {"iteration": 1001, "epoch": 0, "trainBatches": 1001, "evalBatches": 0},
///  "step": 1001, "schedulerStep": 1001, "denseOptimizerStep": 1001, "embeddingSteps": [1001],
///  "files": [{"name": "dcn_dense_1000.model", "bytes": 1234}, …], "nonTrainable": []}
/// ```
struct SnapshotManifest: Codable, Equatable {
    static let formatName = "SwiftCTR snapshot"
    static let currentVersion = 1

    struct File: Codable, Equatable {
        /// Relative to the manifest's folder; files of a sparse folder as `folder/file`.
        var name: String
        var bytes: Int
    }

    var format = formatName
    var version = currentVersion
    /// HugeCTR's file suffix (`iter` of `save_params_to_files`).
    var iteration: Int
    /// A decimal string: JSON numbers lose integers beyond 2^53.
    var seed: String
    var position: DataPosition
    var step: Int
    var schedulerStep: Int
    var denseOptimizerStep: Int
    var embeddingSteps: [Int]
    var files: [File]
    /// Per layer with non-trainable parameters, per key ("mean", "var"): the fp32 bit patterns.
    var nonTrainable: [[[UInt32]]]
}
