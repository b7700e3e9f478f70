import CTREmbedding
import Foundation
@testable import SwiftCTR
import Testing

/// HugeCTR's model files (API spec §4) read back byte by byte, independently of the writer;
/// weights loaded into a fresh model; broken files.
@Suite("Model files")
struct ModelFileTests {
    /// A model trained 6 iterations (Adam states, BatchNorm statistics and inserted keys are then
    /// all non-trivial), saved under `<folder>/m` with iteration 6.
    static func trained(_ folder: String) throws -> (Model, GeneratedDataset, ModelFileNames) {
        let dataset = try MF.dataset(into: folder + "/data")
        let model = try MF.model(dataset)
        try model.fit(maxIter: 6, display: 0, evalInterval: 0, snapshot: 0)
        let names = ModelFileNames(prefix: folder + "/m", iteration: 6)
        try model.saveParamsToFiles(prefix: names.prefix, iter: 6)
        return (model, dataset, names)
    }

    @Test("file names follow save_params_to_files")
    func names() {
        let names = ModelFileNames(prefix: "wdl", iteration: 2000)
        #expect(names.dense == "wdl_dense_2000.model")
        #expect(names.denseOptimizer == "wdl_opt_dense_2000.model")
        #expect(names.nonTrainable == "wdl_dense_2000.model.ntp.json")
        #expect(names.sparse(0) == "wdl0_sparse_2000.model")
        #expect(names.sparseOptimizer(1) == "wdl1_opt_sparse_2000.model")
        #expect(ModelFileNames(prefix: "", iteration: 0).dense == "_dense_0.model")
        #expect(ModelFileNames(manifest: "out/a_b_12.snapshot.json") == ModelFileNames(prefix: "out/a_b", iteration: 12))
        #expect(ModelFileNames(dense: "out/x_dense_7.model") == ModelFileNames(prefix: "out/x", iteration: 7))
        #expect(ModelFileNames(manifest: "out/a.snapshot.json") == nil)
        #expect(["s", "a/b", "/s", "out/", "a/b/c"].map { [$0.folderOfPath, $0.nameInPath] }
            == [["", "s"], ["a", "b"], ["/", "s"], ["out", ""], ["a/b", "c"]])
    }

    @Test("every file has HugeCTR's layout")
    func layouts() throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (model, _, names) = try Self.trained(folder)
        let graph = try #require(model.graph)

        // Dense weights: float32, layers in graph order, tensors in declaration order.
        let dense = MF.float32s(try MF.bytes(names.dense))
        let total = MF.denseLayout.reduce(0) { $0 + $1.count }
        #expect(total == 747)
        #expect(dense.count == total)
        var offset = 0
        for (name, count) in MF.denseLayout {
            #expect(Array(dense[offset..<offset + count]) == MF.parameter(model, name), "\(name) at \(offset)")
            offset += count
        }
        // Dense optimizer states: Adam m for all parameters, then v.
        let states = MF.float32s(try MF.bytes(names.denseOptimizer))
        #expect(states.count == 2 * total)
        let byName = Dictionary(uniqueKeysWithValues: zip(graph.parameters.map(\.name), graph.optimizer.states))
        offset = 0
        for kind in 0..<2 {
            for (name, count) in MF.denseLayout {
                #expect(Array(states[offset..<offset + count]) == model.backend.floats(byName[name]![kind]), "state \(kind) of \(name)")
                offset += count
            }
        }
        #expect(states.contains { $0 != 0 })

        // Non-trainable parameters: BatchNorm mean and var with 6 decimals.
        let bn = try #require(graph.layers.first { $0.name == "bn1" })
        let mean = model.backend.floats(bn.nonTrainable[0].value), variance = model.backend.floats(bn.nonTrainable[1].value)
        #expect(mean.contains { $0 != 0 } && variance.contains { $0 != 1 })
        let fixed = { (values: [Float]) in values.map { String(format: "%f", $0) }.joined(separator: ", ") }
        let ntp = try String(contentsOfFile: names.nonTrainable, encoding: .utf8)
        #expect(ntp == "{\n  \"layers\": [\n    {\n      \"type\": \"BatchNorm\",\n      \"mean\": [\(fixed(mean))],\n      \"var\": [\(fixed(variance))]\n    }\n  ]\n}\n")
        #expect(ntp.contains(String(format: "%f", mean[0])) && !ntp.contains("e-"))

        // Sparse folders: key int64, emb_vector float32 [n][vec], slot_id uint64 for Localized only.
        for (index, embedding) in graph.embeddings.enumerated() {
            let table = embedding.table, path = names.sparse(index)
            let keys = MF.int64s(try MF.bytes(path + "/key"))
            let vectors = MF.float32s(try MF.bytes(path + "/emb_vector"))
            #expect(keys.count == table.size && keys.count > 5)
            #expect(Set(keys).count == keys.count)
            #expect(vectors.count == keys.count * table.vecSize)
            let rows = model.backend.floats(table.values)
            #expect(Array(rows[0..<vectors.count]) == vectors, "emb_vector row i is table row i")
            for (i, key) in keys.enumerated() {
                #expect(table.vector(for: key) == Array(vectors[i * table.vecSize..<(i + 1) * table.vecSize]))
            }
            let slotFile = path + "/slot_id"
            if index == 0 {
                #expect(!FileManager.default.fileExists(atPath: slotFile), "Distributed has no slot_id")
                #expect(keys.allSatisfy { $0 >= 0 && $0 < MF.data2Start })
            } else {
                let slots = MF.uint64s(try MF.bytes(slotFile))
                #expect(slots.count == keys.count)
                for (key, slot) in zip(keys, slots) { #expect(slot == (key < MF.data2Start + 10 ? 0 : 1), "key \(key)") }
                #expect(Set(slots) == [0, 1])
            }
            // Sparse optimizer states: m then v over the full capacity.
            let sparseStates = MF.float32s(try MF.bytes(names.sparseOptimizer(index)))
            let perState = table.capacity * table.vecSize
            #expect(sparseStates.count == 2 * perState)
            #expect(Array(sparseStates[0..<perState]) == model.backend.floats(table.states[0]))
            #expect(Array(sparseStates[perState...]) == model.backend.floats(table.states[1]))
        }
        #expect(FileManager.default.fileExists(atPath: names.sparseOptimizerSteps(1)), "LazyGlobal keeps its steps")
        #expect(!FileManager.default.fileExists(atPath: names.sparseOptimizerSteps(0)))

        // The manifest, written last, lists every file with its size; no temporary is left.
        let manifest = try SnapshotManifest.read(names.manifest)
        #expect(manifest.files.count == 11)
        try manifest.checkFiles(besides: names.manifest)
        #expect(try Model.newestSnapshot(prefix: names.prefix) == names.manifest)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.contains("swiftctr-") }
        #expect(leftovers.isEmpty)
    }

    @Test("weights saved and loaded into a fresh model give identical predictions")
    func identicalPredictions() throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (model, dataset, names) = try Self.trained(folder)
        let expected = try MF.predictions(model, dataset)
        let fresh = try MF.model(dataset, solver: MF.solver(seed: 1234))
        #expect(try MF.predictions(fresh, dataset) != expected)
        try fresh.loadDenseWeights(names.dense)
        try fresh.loadSparseWeights([names.sparse(0), names.sparse(1)])
        #expect(try MF.predictions(fresh, dataset) == expected)
        // Rows restart at 0 in file order: the tables are the same, row for row.
        for (a, b) in zip(model.graph!.embeddings, fresh.graph!.embeddings) {
            #expect(a.table.sparseModel() == b.table.sparseModel())
        }
        // Without the manifest the BatchNorm statistics come from the .ntp.json (6 decimals).
        try FileManager.default.removeItem(atPath: names.manifest)
        let other = try MF.model(dataset, solver: MF.solver(seed: 77))
        try other.loadDenseWeights(names.dense)
        let bn = other.graph!.layers.first { $0.name == "bn1" }!
        let saved = model.backend.floats(model.graph!.layers.first { $0.name == "bn1" }!.nonTrainable[0].value)
        #expect(other.backend.floats(bn.nonTrainable[0].value) == saved.map { Float(String(format: "%f", $0))! })
    }

    @Test("optimizer states load back into a fresh model")
    func optimizerStates() throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (model, dataset, names) = try Self.trained(folder)
        let fresh = try MF.model(dataset)
        try fresh.loadSparseWeights(["emb2": names.sparse(1)])
        try fresh.loadDenseOptimizerStates(names.denseOptimizer)
        try fresh.loadSparseOptimizerStates(["emb2": names.sparseOptimizer(1)])
        for (a, b) in zip(model.graph!.optimizer.states.joined(), fresh.graph!.optimizer.states.joined()) {
            #expect(model.backend.floats(a) == fresh.backend.floats(b))
        }
        let (a, b) = (model.graph!.embeddings[1].table, fresh.graph!.embeddings[1].table)
        #expect(model.backend.floats(a.states[0]) == fresh.backend.floats(b.states[0]))
        #expect(model.backend.int64s(a.states[2]) == fresh.backend.int64s(b.states[2]))
        #expect(fresh.backend.floats(fresh.graph!.embeddings[0].table.states[0]).allSatisfy { $0 == 0 }, "emb1 not named")
    }

    /// The message of the error `body` throws.
    private func message(_ body: () throws -> Void) -> String {
        do {
            try body()
        } catch let error as SwiftCTRError {
            return error.message
        } catch {
            return "\(error)"
        }
        return "no error"
    }

    @Test("broken model files each give their own clear error")
    func brokenFiles() throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (_, dataset, names) = try Self.trained(folder)
        let fresh = try MF.model(dataset)
        let fm = FileManager.default
        func copy(_ path: String, _ suffix: String) throws -> String {
            try? fm.removeItem(atPath: path + suffix)
            try fm.copyItem(atPath: path, toPath: path + suffix)
            return path + suffix
        }
        func truncate(_ path: String, by bytes: Int) throws {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            try data.prefix(data.count - bytes).write(to: URL(fileURLWithPath: path))
        }
        var messages: [String] = []
        func expectError(_ fragments: [String], _ body: () throws -> Void) {
            let text = message(body)
            for fragment in fragments { #expect(text.contains(fragment), "'\(fragment)' not in: \(text)") }
            messages.append(text)
        }

        // 1. A truncated dense file.
        let shortDense = try copy(names.dense, ".short")
        try truncate(shortDense, by: 6)
        expectError(["dense weights file", "holds 2982 bytes", "expected 2988 bytes (747 float32 parameters", "747 dense parameters"]) {
            try fresh.loadDenseWeights(shortDense)
        }
        // 2. Dense optimizer states of another optimizer (one state instead of Adam's two).
        let oneState = try copy(names.denseOptimizer, ".one")
        try truncate(oneState, by: 747 * 4)
        expectError(["dense optimizer states file", "747 float32 values", "expected 5976 bytes", "Adam keeps 2 state"]) {
            try fresh.loadDenseOptimizerStates(oneState)
        }
        // 3. Vectors of the wrong size: emb2's folder (vector 3) for emb1 (vector 4).
        expectError(["'key' holds", "vectors of size 4"]) {
            try fresh.loadSparseWeights([names.sparse(1), names.sparse(1)])
        }
        // 4. More keys than the table holds (emb1 has 60 rows).
        let many = folder + "/many_sparse.model"
        try fm.createDirectory(atPath: many, withIntermediateDirectories: true)
        try (0..<61).map { Int64($0) }.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: many + "/key")) }
        try [Float](repeating: 0.5, count: 61 * 4).withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: many + "/emb_vector")) }
        expectError(["61 keys do not fit the table's 60 rows", "workspace_size_per_gpu_in_mb"]) {
            try fresh.loadSparseWeights(["emb1": many])
        }
        // 5. A missing key file.
        let noKey = try copy(names.sparse(0), ".nokey")
        try fm.removeItem(atPath: noKey + "/key")
        expectError(["sparse model key file", "nokey/key' does not exist"]) { try fresh.loadSparseWeights(["emb1": noKey]) }
        // 6. A Localized folder without slot_id.
        let noSlots = try copy(names.sparse(1), ".noslot")
        try fm.removeItem(atPath: noSlots + "/slot_id")
        expectError(["needs the 'slot_id' file, which is missing"]) { try fresh.loadSparseWeights(["emb2": noSlots]) }
        // 7. slot_id shorter than key.
        let fewSlots = try copy(names.sparse(1), ".fewslots")
        try truncate(fewSlots + "/slot_id", by: 8)
        expectError(["slot ids; each key needs one"]) { try fresh.loadSparseWeights(["emb2": fewSlots]) }
        // 8. A key file cut inside a key.
        let cutKey = try copy(names.sparse(0), ".cutkey")
        try truncate(cutKey + "/key", by: 3)
        expectError(["not a multiple of 8"]) { try fresh.loadSparseWeights(["emb1": cutKey]) }
        // 9. A key twice.
        let twice = folder + "/twice_sparse.model"
        try fm.createDirectory(atPath: twice, withIntermediateDirectories: true)
        try [Int64(3), 5, 3].withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: twice + "/key")) }
        try [Float](repeating: 0.5, count: 12).withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: twice + "/emb_vector")) }
        expectError(["key 3 appears twice", "positions 0 and 2"]) { try fresh.loadSparseWeights(["emb1": twice]) }
        // 10. Truncated sparse optimizer states.
        let shortStates = try copy(names.sparseOptimizer(0), ".short")
        try truncate(shortStates, by: 4)
        expectError(["sparse optimizer states file", "2 state(s) of 60 rows × 4"]) {
            try fresh.loadSparseOptimizerStates(["emb1": shortStates])
        }
        // 11. A damaged .ntp.json.
        let badDense = try copy(names.dense, ".ntp")
        try "{\"layers\": [{\"type\": \"BatchNorm\", \"mean\": [1, 2]}]}".write(toFile: badDense + ".ntp.json", atomically: true, encoding: .utf8)
        expectError(["non-trainable parameters file", "\"mean\" holds 2 entries, expected 16 numbers"]) { try fresh.loadDenseWeights(badDense) }
        // 12. One folder for two embeddings; an embedding that does not exist.
        expectError(["1 sparse model folders given, but the model has 2 embeddings"]) {
            try fresh.loadSparseWeights([names.sparse(0)])
        }
        expectError(["no embedding named 'emb3'"]) { try fresh.loadSparseWeights(["emb3": names.sparse(0)]) }
        // 13. A snapshot whose file was cut after the manifest was written.
        try truncate(names.sparseOptimizer(1), by: 4)
        expectError(["no complete snapshot with prefix", "is incomplete", "the manifest says"]) {
            try fresh.resume(from: names.prefix)
        }
        #expect(Set(messages).count == messages.count, "every error has its own message")
    }
}
