import CTREmbedding
import Foundation

/// HugeCTR's model files (API spec §4): `saveParamsToFiles` and the four loaders. Every file is
/// written atomically (`AtomicFile`) and the snapshot manifest last, so a crash never leaves a
/// model that looks complete but is not. Loaders check every size exactly and name the file,
/// what it should hold and what it holds.
///
/// ```swift
/// try model.saveParamsToFiles(prefix: "out/dcn", iter: 1000)
/// // out/dcn_dense_1000.model, out/dcn_opt_dense_1000.model, out/dcn0_sparse_1000.model/,
/// // out/dcn0_opt_sparse_1000.model, out/dcn_1000.snapshot.json
/// let fresh = try Model(solver, reader, optimizer)   // the same layers added, then compile()
/// try fresh.loadDenseWeights("out/dcn_dense_1000.model")
/// try fresh.loadSparseWeights(["out/dcn0_sparse_1000.model"])
/// ```
extension Model {
    /// Writes every model file (HugeCTR's `save_params_to_files`): dense weights, dense optimizer
    /// states, the BatchNorm statistics JSON (when a layer has them), each embedding's sparse model
    /// folder and optimizer states, then SwiftCTR's manifest `<prefix>_<iter>.snapshot.json`.
    public func saveParamsToFiles(prefix: String, iter: Int = 0) throws {
        try writeModelFiles(ModelFileNames(prefix: prefix, iteration: iter))
    }

    /// Loads dense weights (HugeCTR's `load_dense_weights`); the file must hold exactly this
    /// model's parameters. Unlike HugeCTR in training, it also restores the BatchNorm running
    /// statistics: bit for bit from the snapshot manifest beside the file when there is one, else
    /// from `<file>.ntp.json` (6 decimals) when that exists.
    public func loadDenseWeights(_ file: String) throws {
        let graph = try compiledForFiles("loadDenseWeights")
        let total = graph.parameters.reduce(0) { $0 + $1.value.count }
        let values: [Float] = try ModelFileReader.read(
            file, what: "dense weights", count: total, unit: "float32 parameters",
            fix: "This model has \(total) dense parameters in \(graph.layers.filter { !$0.parameters.isEmpty }.count) trainable layers; the file is truncated or was written by a model with other layers or sizes.")
        for replica in try running().replicas {
            var offset = 0
            for parameter in replica.parameters {
                let n = parameter.value.count
                backend.upload(Array(values[offset..<offset + n]), to: parameter.value)
                offset += n
            }
            try loadNonTrainable(besides: file, graph: replica)
        }
    }

    /// Loads the dense optimizer states (HugeCTR's `load_dense_optimizer_states`): each state kind
    /// for all parameters in turn (Adam m then v), the file exactly that long. The step counter is
    /// not in the file and keeps its value (`resume(from:)` restores it).
    public func loadDenseOptimizerStates(_ file: String) throws {
        let graph = try compiledForFiles("loadDenseOptimizerStates")
        let states = graph.optimizer.states
        let kinds = states.first?.count ?? 0, total = graph.parameters.reduce(0) { $0 + $1.value.count }
        let values: [Float] = try ModelFileReader.read(
            file, what: "dense optimizer states", count: kinds * total, unit: "float32 values",
            fix: "\(graph.optimizer.params.optimizerType.rawValue) keeps \(kinds) state value(s) per parameter and this model has \(total) dense parameters; the file is truncated or was written with another optimizer or model.")
        for replica in try running().replicas {
            var offset = 0
            for kind in 0..<kinds {
                for state in replica.optimizer.states {
                    let n = state[kind].count
                    backend.upload(Array(values[offset..<offset + n]), to: state[kind])
                    offset += n
                }
            }
        }
    }

    /// Loads one sparse model folder per embedding, in add order (HugeCTR's
    /// `load_sparse_weights(list)`): `key`, `emb_vector` and, for Localized and OneHot, `slot_id`.
    /// A hash table is rebuilt with key i at row i.
    public func loadSparseWeights(_ folders: [String]) throws {
        try eachEmbedding(folders, "loadSparseWeights", what: "sparse model folders", loadSparseModel)
    }

    /// Loads the sparse model folder of each named embedding (HugeCTR's
    /// `load_sparse_weights(dict)`); embeddings not named keep their rows.
    public func loadSparseWeights(_ folders: [String: String]) throws {
        try namedEmbeddings(folders, "loadSparseWeights", loadSparseModel)
    }

    /// Loads one sparse optimizer-states file per embedding, in add order (HugeCTR's
    /// `load_sparse_optimizer_states(list)`): each fp32 state over the table's full capacity. Load
    /// the sparse model of the same snapshot first: state row r belongs to table row r.
    public func loadSparseOptimizerStates(_ files: [String]) throws {
        try eachEmbedding(files, "loadSparseOptimizerStates", what: "sparse optimizer-states files", loadSparseStates)
    }

    /// Loads the sparse optimizer-states file of each named embedding (HugeCTR's
    /// `load_sparse_optimizer_states(dict)`).
    public func loadSparseOptimizerStates(_ files: [String: String]) throws {
        try namedEmbeddings(files, "loadSparseOptimizerStates", loadSparseStates)
    }

    // MARK: writing

    /// Writes the files of `names` for the current state and `position`, the manifest last (after
    /// removing an older one of the same name, so that it never describes files of another run).
    /// Over MPI every process gathers the contents (the sharded tables' rows) and the process of
    /// worker 0 writes them; the others wait for it.
    func writeModelFiles(_ names: ModelFileNames) throws {
        let graph = try compiledForFiles("saveParamsToFiles")
        let writer = isFirstProcess
        defer { collective?.barrier() }
        try names.checkFolder()
        if writer { try AtomicFile.remove(names.manifest) }
        var files: [SnapshotManifest.File] = []
        func write(_ path: String, _ body: (AtomicFile.Sink) throws -> Void) throws {
            if writer { try AtomicFile.write(path, body) }
        }
        func written(_ path: String, inside folder: String? = nil) {
            let name = path.nameInPath
            let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
            files.append(.init(name: folder.map { $0.nameInPath + "/" + name } ?? name, bytes: size))
        }
        try write(names.dense) { sink in
            for parameter in graph.parameters { try sink.write(backend.floats(parameter.value)) }
        }
        written(names.dense)
        let states = graph.optimizer.states
        try write(names.denseOptimizer) { sink in
            for kind in 0..<(states.first?.count ?? 0) {
                for state in states { try sink.write(backend.floats(state[kind])) }
            }
        }
        written(names.denseOptimizer)
        let statistics = graph.layers.filter { !$0.nonTrainable.isEmpty }
        if !statistics.isEmpty {
            let layers = statistics.map { layer in
                (layer.type.rawValue, layer.nonTrainable.map { ($0.key, backend.floats($0.value)) })
            }
            try write(names.nonTrainable) { sink in try sink.write(NonTrainableParams.json(layers)) }
            written(names.nonTrainable)
        }
        let stores = try running().embeddingStores
        for (index, table) in stores.enumerated() {
            let model = table.sparseModel()
            var contents: [(name: String, body: (AtomicFile.Sink) throws -> Void)] = [
                ("key", { try $0.write(model.keys) }), ("emb_vector", { try $0.write(model.vectors) }),
            ]
            if let slots = model.slotIDs { contents.append(("slot_id", { try $0.write(slots) })) }
            let sparse = names.sparse(index)
            if writer { try AtomicFile.writeFolder(sparse, files: contents) }
            for file in contents { written(sparse + "/" + file.name, inside: sparse) }
            let states = table.floatStates()
            try write(names.sparseOptimizer(index)) { sink in
                for state in states { try sink.write(state) }
            }
            written(names.sparseOptimizer(index))
            if let steps = table.lastSteps() {
                try write(names.sparseOptimizerSteps(index)) { try $0.write(steps) }
                written(names.sparseOptimizerSteps(index))
            }
        }
        let manifest = SnapshotManifest(
            iteration: names.iteration, seed: String(seed), position: position, step: step,
            schedulerStep: schedule.step, denseOptimizerStep: graph.optimizer.step,
            embeddingSteps: stores.map(\.step), files: files,
            nonTrainable: statistics.map { $0.nonTrainable.map { backend.floats($0.value).map(\.bitPattern) } })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let text = try encoder.encode(manifest)
        try write(names.manifest) { try $0.write(Array(text) + [0x0A]) }
    }

    // MARK: reading

    private func compiledForFiles(_ method: String) throws -> CompiledGraph {
        guard let graph else {
            throw SwiftCTRError(.config, "\(method): the model is not compiled; add its layers and call compile() first.")
        }
        return graph
    }

    /// Runs `load` on each embedding, in add order, with its path from `paths` (one per embedding).
    private func eachEmbedding(_ paths: [String], _ method: String, what: String,
                               _ load: (String, any EmbeddingStore) throws -> Void) throws {
        _ = try compiledForFiles(method)
        let stores = try running().embeddingStores
        guard paths.count == stores.count else {
            throw SwiftCTRError(.config, "\(method): \(paths.count) \(what) given, but the model has \(stores.count) embeddings (\(stores.map(\.name).joined(separator: ", "))); give one per embedding in add order.")
        }
        for (path, table) in zip(paths, stores) { try load(path, table) }
    }

    /// Runs `load` on each embedding `paths` names, with its path.
    private func namedEmbeddings(_ paths: [String: String], _ method: String,
                                 _ load: (String, any EmbeddingStore) throws -> Void) throws {
        _ = try compiledForFiles(method)
        let stores = try running().embeddingStores
        for (name, path) in paths.sorted(by: { $0.key < $1.key }) {
            guard let table = stores.first(where: { $0.name == name }) else {
                throw SwiftCTRError(.config, "\(method): the model has no embedding named '\(name)'; its embeddings are \(stores.map(\.name)).")
            }
            try load(path, table)
        }
    }

    /// The BatchNorm statistics for the weights in `file`: exact from the snapshot manifest that
    /// lists it, else from its `.ntp.json`, else unchanged.
    private func loadNonTrainable(besides file: String, graph: CompiledGraph) throws {
        let layers = graph.layers.filter { !$0.nonTrainable.isEmpty }
        guard !layers.isEmpty else { return }
        if let names = ModelFileNames(dense: file), let manifest = try? SnapshotManifest.read(names.manifest),
           manifest.files.contains(where: { $0.name == file.nameInPath }),
           manifest.nonTrainable.count == layers.count {
            for (layer, keys) in zip(layers, manifest.nonTrainable) {
                for (entry, bits) in zip(layer.nonTrainable, keys) where bits.count == entry.value.count {
                    backend.upload(bits.map(Float.init(bitPattern:)), to: entry.value)
                }
            }
            return
        }
        let path = file + ".ntp.json"
        guard FileManager.default.fileExists(atPath: path) else { return }
        let values = try NonTrainableParams.read(path, expected: layers.map { layer in
            (layer.type.rawValue, layer.nonTrainable.map(\.key), layer.nonTrainable.first!.value.count)
        })
        for (layer, keys) in zip(layers, values) {
            for (entry, numbers) in zip(layer.nonTrainable, keys) { backend.upload(numbers, to: entry.value) }
        }
    }

    private func loadSparseModel(_ folder: String, into table: any EmbeddingStore) throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw SwiftCTRError(.io, "the sparse model folder '\(folder)' for embedding '\(table.name)' does not exist\(FileManager.default.fileExists(atPath: folder) ? " (it is a file)" : ""). Give the <prefix><i>_sparse_<iter>.model folder that save_params_to_files wrote.")
        }
        var keys: [Int64] = try ModelFileReader.readAll(folder + "/key", what: "sparse model key", multiple: 1,
                                                        unit: "int64 keys")
        let vectors: [Float] = try ModelFileReader.readAll(folder + "/emb_vector", what: "sparse model emb_vector",
                                                           multiple: table.vecSize,
                                                           unit: "float32 vectors of embedding_vec_size \(table.vecSize)")
        guard vectors.count == keys.count * table.vecSize else {
            throw SwiftCTRError(.data, "sparse model '\(folder)': 'key' holds \(keys.count) keys but 'emb_vector' holds \(vectors.count / table.vecSize) vectors of size \(table.vecSize); each key needs one vector. A file is truncated, or the folder belongs to an embedding of another embedding_vec_size.")
        }
        var slots: [UInt64]?
        if table.savesSlotIDs {
            let path = folder + "/slot_id"
            guard FileManager.default.fileExists(atPath: path) else {
                throw SwiftCTRError(.io, "sparse model '\(folder)': embedding '\(table.name)' is Localized or OneHot and needs the 'slot_id' file, which is missing. The folder was written for a Distributed embedding, or is incomplete.")
            }
            let ids: [UInt64] = try ModelFileReader.readAll(path, what: "sparse model slot_id", multiple: 1, unit: "uint64 slot ids")
            guard ids.count == keys.count else {
                throw SwiftCTRError(.data, "sparse model '\(folder)': 'key' holds \(keys.count) keys but 'slot_id' holds \(ids.count) slot ids; each key needs one. A file is truncated.")
            }
            slots = ids
        }
        if !solver.i64InputKey {
            keys = keys.map { Int64(UInt32(truncatingIfNeeded: $0)) }
        }
        try table.load(SparseModel(keys: keys, vectors: vectors, slotIDs: slots), source: folder)
    }

    private func loadSparseStates(_ file: String, into table: any EmbeddingStore) throws {
        let count = table.optimizer.floatStateCount, rows = table.stateRows
        let perState = rows * table.vecSize
        let values: [Float] = try ModelFileReader.read(
            file, what: "sparse optimizer states", count: count * perState, unit: "float32 values",
            fix: "Embedding '\(table.name)' keeps \(count) state(s) of \(rows) rows × \(table.vecSize); the file is truncated or was written with another optimizer or workspace size.")
        var last: [Int64]?
        if count < table.optimizer.stateCount, FileManager.default.fileExists(atPath: file + ".last_step") {
            last = try ModelFileReader.read(file + ".last_step", what: "LazyGlobal last-step", count: rows, unit: "int64 steps")
        }
        table.loadStates((0..<count).map { Array(values[$0 * perState..<($0 + 1) * perState]) }, lastSteps: last)
    }
}
