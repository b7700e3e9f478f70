import Foundation

/// The paths of one saved model, named as HugeCTR's `save_params_to_files(prefix, iter)` names
/// them (API spec §4.1), plus SwiftCTR's own: the snapshot manifest, written last, and LazyGlobal
/// Adam's per-row steps.
///
/// ```swift
/// let names = ModelFileNames(prefix: "wdl", iteration: 2000)
/// names.dense        // "wdl_dense_2000.model"
/// names.sparse(1)    // "wdl1_sparse_2000.model" (no separator between prefix and index)
/// names.manifest     // "wdl_2000.snapshot.json"
/// ```
public struct ModelFileNames: Sendable, Equatable {
    public let prefix: String
    public let iteration: Int

    public init(prefix: String, iteration: Int) {
        self.prefix = prefix
        self.iteration = iteration
    }

    /// Dense weights: float32, trainable layers in graph order.
    public var dense: String { "\(prefix)_dense_\(iteration).model" }
    /// Dense optimizer states, state-major.
    public var denseOptimizer: String { "\(prefix)_opt_dense_\(iteration).model" }
    /// BatchNorm running statistics (only when a layer has them).
    public var nonTrainable: String { dense + ".ntp.json" }
    /// The sparse model folder of embedding `index` (add order).
    public func sparse(_ index: Int) -> String { "\(prefix)\(index)_sparse_\(iteration).model" }
    /// The sparse optimizer states of embedding `index`.
    public func sparseOptimizer(_ index: Int) -> String { "\(prefix)\(index)_opt_sparse_\(iteration).model" }
    /// SwiftCTR's: the int64 step of each row's last LazyGlobal Adam update (HugeCTR does not save it).
    public func sparseOptimizerSteps(_ index: Int) -> String { sparseOptimizer(index) + ".last_step" }
    /// SwiftCTR's: what a snapshot holds and where training stood; a snapshot is complete once it exists.
    public var manifest: String { "\(prefix)_\(iteration).snapshot.json" }

    /// Throws unless the folder the prefix names (its part up to the last `/`) exists.
    func checkFolder() throws {
        let folder = manifest.folderOfPath
        var isFolder: ObjCBool = false
        guard folder.isEmpty || FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) && isFolder.boolValue else {
            throw SwiftCTRError(.io, "the folder '\(folder)' of the model-file prefix '\(prefix)' does not exist; create it or change the prefix.")
        }
    }

    /// The names of the snapshot whose manifest is `path` (`<prefix>_<iteration>.snapshot.json`).
    init?(manifest path: String) {
        guard path.hasSuffix(".snapshot.json") else { return nil }
        let stem = path.dropLast(".snapshot.json".count)
        guard let underscore = stem.lastIndex(of: "_"), let iteration = Int(stem[stem.index(after: underscore)...]),
              iteration >= 0 else { return nil }
        self.init(prefix: String(stem[..<underscore]), iteration: iteration)
    }

    /// The names whose dense weights are `path` (`<prefix>_dense_<iteration>.model`).
    init?(dense path: String) {
        guard path.hasSuffix(".model"), let marker = path.range(of: "_dense_", options: .backwards),
              let iteration = Int(path[marker.upperBound..<path.index(path.endIndex, offsetBy: -".model".count)]),
              iteration >= 0 else { return nil }
        self.init(prefix: String(path[..<marker.lowerBound]), iteration: iteration)
    }
}

extension String {
    /// The part of a path before its last "/": "" when it has none, "/" for a name in the root.
    /// (Foundation's `NSString.deletingLastPathComponent` traps on some one-character paths.)
    var folderOfPath: String {
        guard let slash = lastIndex(of: "/") else { return "" }
        return slash == startIndex ? "/" : String(self[..<slash])
    }

    /// The part of a path after its last "/".
    var nameInPath: String { lastIndex(of: "/").map { String(self[index(after: $0)...]) } ?? self }
}
