import ArgumentParser
import Foundation
import SwiftCTR

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure DCN-16 / DCN-128 / DCN-16 v2 / DLRM-DCNv2 training throughput on generated data, with PyTorch beside it when installed.")

    @Option(help: "Comma-separated models: dcn16, dcn128, dcn16v2 (DCN-16 with a 3-layer DCN v2 cross network, projection_dim 128), dlrmdcnv2 (MLPerf's DLRM-DCNv2: 26 multi-hot tables, AdaGrad).")
    var models: String = "dcn16,dcn128"

    @Option(help: "Batch size (default: 4096 on the CPU, 65536 on a GPU).")
    var batchSize: Int?

    @Option(help: "Dataset folder of the DCN models (default: generate data/bench, the full DCN slot sizes).")
    var data: String?

    @Option(help: "dlrmdcnv2: rows of its largest tables (MLPerf's 40 M-row tables are capped to this many so that the tables and their AdaGrad states fit one GPU).")
    var tableCap: Int = 10_000_000

    @Option(help: "Samples to generate and load for the benchmark.")
    var samples: Int = 1 << 20

    @Option(help: "Untimed warm-up steps.")
    var warmup: Int = 10

    @Option(help: "Timed windows (the median is reported).")
    var windows: Int = 5

    @Option(help: "Steps per timed window.")
    var steps: Int = 20

    @Option(help: "Run bench/dcn_pytorch.py on the same data (needs python3 with torch): auto, yes or no.")
    var peer: String = "auto"

    @Option(help: "Comma-separated PyTorch variants for bench/dcn_pytorch.py's --variants (default: the script's own list).")
    var peerVariants: String?

    @Option(help: "Comma-separated precisions to measure on a GPU: fp32, tf32, bf16 and fp16 (mixed precision; fp16 with loss scaling by 1024).")
    var precisions: String = "fp32,tf32,bf16"

    @Flag(help: "Also print the time per layer and phase of a step (GPU: timed with events).")
    var profile = false

    @Flag(help: "With --profile on a GPU: also time every kernel and GEMM of each phase (GEMMs with their TFLOPS).")
    var profileKernels = false

    @Option(help: "Replay each training step's dense part as a CUDA graph on a GPU (Solver's use_cuda_graph): on or off.")
    var cudaGraph = "on"

    @Option(help: "Write the results as JSON to this file.")
    var json: String?

    @Flag(help: "Measure the data path instead: each format's reader alone (samples/s, GB/s), then the first model trained from files beside the same model trained from batches in memory.")
    var reader = false

    @Flag(help: "With --reader: measure the readers alone, without training.")
    var readerOnly = false

    @Option(help: "Comma-separated formats for --reader.")
    var formats: String = "norm"

    @Option(help: "Reader threads for --reader (default: one per core).")
    var readerWorkers: Int?

    @Option(help: "Keys per slot of the generated bench data: 1 is one-hot, n > 1 draws 1...n keys per slot (data in data/bench-nnzN).")
    var nnz: Int = 1

    @OptionGroup var deviceOptions: DeviceOptions

    func validate() throws {
        guard ["on", "off"].contains(cudaGraph) else {
            throw ValidationError("--cuda-graph must be on or off, found \(cudaGraph).")
        }
        _ = try benchModels()
        _ = try readerFormats()
        guard nnz >= 1 else { throw ValidationError("--nnz must be at least 1, found \(nnz).") }
    }

    /// The models `--models` names, in its order.
    func benchModels() throws -> [BenchModel] {
        try models.split(separator: ",").map { name in
            guard let model = BenchModel.all.first(where: { $0.name == name }) else {
                throw ValidationError("--models: unknown model '\(name)'; use \(BenchModel.all.map(\.name).joined(separator: ", ")).")
            }
            return model
        }
    }

    func run() throws {
        try reportingErrors {
            let backend = try deviceOptions.backend()
            let batch = batchSize ?? (deviceOptions.device == "cpu" ? 4096 : 65536)
            print("device: \(backend.name)")
            var results: [BenchResult] = []
            let selected = try benchModels()
            if reader {
                let (directory, config, batches) = try benchData(for: selected[0], batch: batch)
                results = try measureDataPath(config: config, directory: directory, batches: batches, batch: batch, backend: backend)
            }
            var loaded: (directory: String, config: SyntheticConfig, batches: [Batch])?
            for model in selected where !reader {
                if loaded?.directory != dataDirectory(model) { loaded = nil; loaded = try benchData(for: model, batch: batch) }
                let (directory, config, batches) = loaded!
                let variants = backend is CUDABackend ? precisions.split(separator: ",").map(String.init) : ["fp32"]
                for variant in variants {
                    guard let precision = CUDABackend.GEMMPrecision(rawValue: variant) else {
                        throw ValidationError("--precisions: unknown precision '\(variant)'; use fp32, tf32, bf16 or fp16.")
                    }
                    (backend as? CUDABackend)?.gemmPrecision = precision
                    results.append(try measure(model, variant: variant, config: config, directory: directory,
                                               batches: batches, batch: batch, backend: backend))
                    print(results.last!.line)
                }
            }
            loaded = nil
            (backend as? CUDABackend)?.releaseCachedMemory()  // the PyTorch reference needs the GPU's memory
            if peer != "no" && !reader { results += runPeer(batch: batch, models: selected) }
            print(BenchResult.table(results))
            if let json {
                let data = try JSONEncoder().encode(results)
                try data.write(to: URL(fileURLWithPath: json))
            }
        }
    }

    /// The folder of `model`'s data: the DCN models share one, DLRM-DCNv2 has its own per table cap.
    func dataDirectory(_ model: BenchModel) -> String {
        switch model.kind {
        case .dcn: data ?? (nnz == 1 ? "data/bench" : "data/bench-nnz\(nnz)")
        case .dlrmDCNv2: "data/bench-dlrmdcnv2-cap\(tableCap)"
        }
    }

    /// `model`'s data folder (generated there when missing), its config and its batches, loaded.
    private func benchData(for model: BenchModel, batch: Int) throws -> (String, SyntheticConfig, [Batch]) {
        let directory = dataDirectory(model)
        let config: SyntheticConfig
        if FileManager.default.fileExists(atPath: directory + "/dataset.json") {
            config = try SyntheticGenerator.load(directory: directory).0
        } else {
            var generated = SyntheticConfig.default
            (generated.numTrain, generated.numEval, generated.trainFiles) = (samples, 65536, 16)
            switch model.kind {
            case .dcn:
                generated.slotSizes = Recipes.criteoSlotSizes
                generated.nnzPerSlot = Array(repeating: nnz, count: generated.slotSizes.count)
            case .dlrmDCNv2:
                generated.slotSizes = Recipes.mlperfTableSizes.map { min($0, tableCap) }
                (generated.nnzPerSlot, generated.fixedHotness) = (Recipes.mlperfHotness, true)
            }
            _ = try generateDataset(generated, into: directory)
            config = generated
        }
        let keys = zip(config.nnzPerSlot, config.slotSizes).map { "\($0.0)×\($0.1)" }
        print("data: \(directory) (\(config.slotSizes.reduce(0, +)) rows in \(config.slotSizes.count) slots; keys per slot × rows: \(keys.joined(separator: " ")))")
        return (directory, config, try loadBatches(directory, config, batch: batch))
    }

    private func loadBatches(_ directory: String, _ config: SyntheticConfig, batch: Int) throws -> [Batch] {
        let reader = try BatchReader(fileList: directory + "/train_list.txt", layout: config.layout, i64Keys: config.i64Keys,
                                     check: config.check, batchSize: batch, repeat: false, numWorkers: 4)
        var batches: [Batch] = []
        while let b = try reader.next(), batches.count * batch < samples {
            if b.count == batch { batches.append(b) }
        }
        guard !batches.isEmpty else {
            throw SwiftCTRError(.data, "'\(directory)' holds fewer than one batch of \(batch) samples; lower --batch-size or raise --samples.")
        }
        return batches
    }

    /// The bench model `benchModel` in precision `variant`, compiled, reading `reader`.
    func makeModel(_ benchModel: BenchModel, variant: String, config: SyntheticConfig, reader: DataReaderParams,
                   batch: Int, backend: any Backend) throws -> Model {
        // fp16 as HugeCTR runs it: static loss scaling by 1024.
        var solver = Solver(seed: 1, batchsizeEval: batch, batchsize: batch, useMixedPrecision: variant == "bf16" || variant == "fp16",
                            mixedPrecisionType: variant == "fp16" ? .float16 : .bfloat16, enableTF32Compute: variant == "tf32",
                            scaler: variant == "fp16" ? 1024 : 1, i64InputKey: config.i64Keys,
                            useCudaGraph: cudaGraph == "on")
        // DLRM-DCNv2: AdaGrad everywhere, as MLPerf's HugeCTR submission (lr 0.005, ε 1e-8).
        let optimizer = benchModel.kind == .dcn ? CreateOptimizer(optimizerType: .adam)
            : CreateOptimizer(optimizerType: .adaGrad, updateType: .global, epsilon: 1e-8)
        if benchModel.kind == .dlrmDCNv2 { solver.lr = 0.005 }
        let model = try Model(solver, reader, optimizer, backend: backend)
        let fixed = config.fixedHotness || config.nnzPerSlot.allSatisfy { $0 == 1 }
        let sparse = DataReaderSparseParam("data1", nnzPerSlot: config.nnzPerSlot, isFixedLength: fixed, slotNum: config.slotSizes.count)
        model.add(Input(labelDim: 1, labelName: "label", denseDim: config.denseDim, denseName: "dense",
                        dataReaderSparseParamArray: [sparse]))
        let rows = config.slotSizes.reduce(0, +), vec = benchModel.vec
        // The table and its optimizer states: Adam keeps two per row, AdaGrad one.
        let workspaceMB = (rows * vec * 4 * (1 + optimizer.stateCopies) + (1 << 20) - 1) >> 20
        let (embedding, layers) = switch benchModel.kind {
        case .dcn: Recipes.dcn(sparseInput: sparse, vecSize: vec, workspaceMB: workspaceMB,
                               crossLayers: benchModel.crossLayers, crossProjectionDim: benchModel.projection)
        case .dlrmDCNv2: Recipes.dlrmDCNv2(sparseInput: sparse, vecSize: vec, workspaceMB: workspaceMB,
                                           crossLayers: benchModel.crossLayers, projectionDim: benchModel.projection)
        }
        model.add(embedding)
        layers.forEach(model.add)
        try model.compile()
        return model
    }

    /// The median samples/s of `windows` windows of `steps` calls of `step`, after `warmup` calls.
    func timeSteps(batch: Int, backend: any Backend, _ step: () throws -> Void) throws -> Double {
        for _ in 0..<warmup { try step() }
        var rates: [Double] = []
        for _ in 0..<windows {
            backend.synchronize()
            let start = ContinuousClock.now
            for _ in 0..<steps { try step() }
            backend.synchronize()
            try backend.check()
            rates.append(Double(steps * batch) / (ContinuousClock.now - start).inSeconds)
        }
        return rates.sorted()[rates.count / 2]
    }

    func measure(_ benchModel: BenchModel, variant: String, config: SyntheticConfig, directory: String,
                         batches: [Batch], batch: Int, backend: any Backend) throws -> BenchResult {
        let reader = DataReaderParams(dataReaderType: .norm, source: [directory + "/train_list.txt"],
                                      evalSource: directory + "/eval_list.txt", checkType: config.check)
        let model = try makeModel(benchModel, variant: variant, config: config, reader: reader, batch: batch, backend: backend)
        var i = 0
        let allocationsBefore = (backend as? CUDABackend)?.driverAllocations ?? 0
        let median = try timeSteps(batch: batch, backend: backend) {
            try model.train(batch: batches[i % batches.count])
            i += 1
        }
        if let gpu = backend as? CUDABackend {
            print("  CUDA graphs: \(gpu.graphStatus); device allocations during the timed steps: \(gpu.driverAllocations - allocationsBefore)")
        }
        if profile {
            model.profiling = true
            let staged = (backend as? CUDABackend)?.stagingSeconds ?? 0
            (backend as? CUDABackend)?.kernelMarks = profileKernels
            for _ in 0..<steps {
                try model.train(batch: batches[i % batches.count])
                i += 1
            }
            (backend as? CUDABackend)?.kernelMarks = false
            printProfile(model.profile, calls: model.profileCalls, steps: steps)
            if let gpu = backend as? CUDABackend {
                print(String(format: "  host: copy uploads to pinned memory: %.3f ms/step", 1000 * (gpu.stagingSeconds - staged) / Double(steps)))
            }
            let device = model.profile.filter { !$0.phase.hasPrefix("host") }.reduce(0) { $0 + $1.seconds }
            print(String(format: "  device total: %.3f ms/step", 1000 * device / Double(steps)))
            if backend is CUDABackend { printEmbeddingBandwidth(model.profile, batch: batches[0], vec: benchModel.vec, slots: config.slotSizes.count,
                                                                         device: backend.name) }
        }
        return BenchResult(engine: "SwiftCTR", model: benchModel.name, variant: variant, device: backend.name, batch: batch,
                           samplesPerSec: median, msPerStep: 1000 * Double(batch) / median, loss: Double(model.currentLoss),
                           peakMemoryBytes: (backend as? CUDABackend)?.reservedBytes ?? peakResidentBytes(),
                           note: "batches preloaded in host memory; their upload is timed; memory: device pool (GPU) or peak RSS (CPU)")
    }

    /// Each phase's time per step; with kernel marks, a phase's total (its own span and its
    /// kernels') and then its kernels indented, slowest first, with calls per step and, for a
    /// GEMM, its rate (2·m·n·k FLOPs per call).
    func printProfile(_ profile: [(phase: String, seconds: Double)], calls: [String: Int], steps: Int) {
        let perStep = { (seconds: Double) in 1000 * seconds / Double(steps) }
        let kernels = Dictionary(grouping: profile.filter { $0.phase.contains(" · ") }) {
            String($0.phase.prefix { $0 != "·" }.dropLast())
        }
        for (phase, time) in profile where !phase.contains(" · ") {
            let own = kernels[phase] ?? []
            let total = own.reduce(time) { $0 + $1.seconds }
            print(String(format: "  %@: %.3f ms/step", phase, perStep(total)))
            for (label, seconds) in own.sorted(by: { $0.seconds > $1.seconds }) {
                let name = String(label.dropFirst(phase.count + 3)), n = (calls[label] ?? steps) / max(steps, 1)
                var line = String(format: "      %@ ×%d: %.3f ms", name, n, perStep(seconds))
                let dims = name.split(separator: " ").dropFirst(2).first?.split(separator: "×").compactMap { Double($0) }
                if name.hasPrefix("gemm "), let dims, dims.count == 3, seconds > 0 {
                    let flops = 2 * dims[0] * dims[1] * dims[2] * Double(n) * Double(steps)
                    line += String(format: " (%.0f TFLOPS)", flops / seconds / 1e12)
                }
                print(line)
            }
        }
    }

    /// The embedding phases' memory traffic over their profiled time, against the card's HBM
    /// bandwidth (H200 4.8 TB/s, H100 3.35 TB/s; other cards get no percentage):
    /// forward reads each key, its row index and its fp32 row and writes the pooled vectors (the
    /// hash lookup's probes not counted); backward sorts the keys by row (their row indices, row
    /// slots, segments and sorted places: 48 bytes a key), reads each key's pooled gradient and
    /// zeroes and writes one summed gradient per distinct row; the update reads those and reads and writes each distinct row and
    /// its one optimizer state (AdaGrad). Rows read again are often served by the L2 cache, so
    /// these are the bytes the kernels ask for, not all of them DRAM traffic.
    func printEmbeddingBandwidth(_ profile: [(phase: String, seconds: Double)], batch: Batch, vec: Int, slots: Int,
                                 device: String) {
        let peak = device.contains("H200") ? ("H200", 4.8e12) : device.contains("H100") ? ("H100", 3.35e12) : nil
        let keys = batch.sparse.reduce(0) { $0 + $1.keys.count }
        var distinct = Set<Int64>(minimumCapacity: keys)
        for sparse in batch.sparse { for key in sparse.keys { distinct.insert(key) } }
        let row = Double(vec * 4), pooled = Double(batch.count * slots) * row, unique = Double(distinct.count)
        let traffic = [("embedding forward", Double(keys) * (16 + row) + pooled), ("embedding backward", Double(keys) * (48 + row) + unique * (8 + 2 * row)),
                       ("embedding update", unique * (8 + 5 * row))]
        print("  embedding: \(keys) keys, \(distinct.count) distinct rows per batch")
        for (name, bytes) in traffic {
            let seconds = profile.filter { $0.phase == name || $0.phase.hasPrefix(name + " · ") }
                .reduce(0) { $0 + $1.seconds } / Double(steps)
            guard seconds > 0 else { continue }
            let share = peak.map { String(format: ", %.0f%% of the %@'s %.2f TB/s", 100 * bytes / seconds / $0.1, $0.0, $0.1 / 1e12) }
            print(String(format: "  embedding %@: %.2f GB in %.3f ms, %.2f TB/s", name.replacingOccurrences(of: "embedding ", with: ""),
                         bytes / 1e9, seconds * 1000, bytes / seconds / 1e12) + (share ?? ""))
        }
    }

    /// Runs the PyTorch reference on the same files and reads its JSON.
    private func runPeer(batch: Int, models: [BenchModel]) -> [BenchResult] {
        var results: [BenchResult] = []
        for model in models {
            let (name, script, directory) = (model.name, model.peerScript, dataDirectory(model))
            guard FileManager.default.fileExists(atPath: script) else {
                if peer == "yes" { print("PyTorch reference: no \(script) here; run swiftctr bench from the repository's root") }
                continue
            }
            let out = FileManager.default.temporaryDirectory.appendingPathComponent("swiftctr-peer-\(name).json").path
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", script, directory] + model.peerArguments
                + ["--batch", "\(batch)", "--json", out, "--device", deviceOptions.device == "cpu" ? "cpu" : "cuda"]
                + (peerVariants.map { ["--variants", $0] } ?? [])
            do {
                try process.run()
                process.waitUntilExit()
                guard process.terminationStatus == 0, let data = FileManager.default.contents(atPath: out) else {
                    if peer == "yes" { print("PyTorch reference failed (exit \(process.terminationStatus))") }
                    continue
                }
                let rows = try JSONDecoder().decode([PeerRow].self, from: data)
                for row in rows where row.samples_per_sec == nil {
                    print("PyTorch \(name) \(row.variant): no result (\(row.note ?? "failed"))")
                }
                results += rows.filter { $0.samples_per_sec != nil }.map {
                    BenchResult(engine: "PyTorch \($0.torch_version ?? "")", model: name, variant: $0.variant,
                                device: $0.gpu_name ?? $0.device ?? "", batch: $0.batch ?? batch,
                                samplesPerSec: $0.samples_per_sec ?? 0, msPerStep: $0.ms_per_step ?? 0,
                                loss: $0.loss ?? 0, peakMemoryBytes: $0.peak_mem_bytes ?? 0, note: $0.note ?? "")
                }
            } catch {
                if peer == "yes" { print("PyTorch reference could not start: \(error)") }
            }
        }
        return results
    }
}

/// A model `swiftctr bench` measures: HugeCTR's DCN sample (`Recipes.dcn`) with embedding vectors
/// of `vec`, and `crossLayers` cross layers, DCN v2 low-rank ones of rank `projection` when it is > 0.
/// `dlrmdcnv2` is MLPerf's DLRM-DCNv2 (`Recipes.dlrmDCNv2`) on multi-hot data of the MLPerf table
/// sizes (capped) and hotness.
struct BenchModel {
    enum Kind { case dcn, dlrmDCNv2 }
    var name: String, vec: Int, crossLayers: Int, projection: Int
    var kind = Kind.dcn

    static let all = [
        BenchModel(name: "dcn16", vec: 16, crossLayers: 6, projection: 0),
        BenchModel(name: "dcn128", vec: 128, crossLayers: 6, projection: 0),
        BenchModel(name: "dcn16v2", vec: 16, crossLayers: 3, projection: 128),
        BenchModel(name: "dlrmdcnv2", vec: 128, crossLayers: 3, projection: 512, kind: .dlrmDCNv2),
    ]

    /// The PyTorch reference of the same model.
    var peerScript: String { kind == .dcn ? "bench/dcn_pytorch.py" : "bench/dlrm_dcnv2_pytorch.py" }

    /// The same model's options for its PyTorch reference.
    var peerArguments: [String] {
        guard kind == .dcn else { return [] }
        return ["--vec", "\(vec)"]
            + (projection > 0 ? ["--cross", "v2", "--cross-layers", "\(crossLayers)", "--projection", "\(projection)"] : [])
    }
}

/// One line of `swiftctr bench`.
struct BenchResult: Codable {
    var engine: String, model: String, variant: String, device: String
    var batch: Int
    var samplesPerSec: Double, msPerStep: Double, loss: Double
    var peakMemoryBytes: Int
    var note: String

    var line: String {
        String(format: "%@ %@ %@: %.0f samples/s, %.2f ms/step, loss %.4f", engine, model, variant, samplesPerSec, msPerStep, loss)
    }

    static func table(_ results: [BenchResult]) -> String {
        let best = Dictionary(grouping: results.filter { $0.engine.hasPrefix("PyTorch") }, by: \.model)
            .mapValues { $0.map(\.samplesPerSec).max() ?? 0 }
        var text = "| engine | model | variant | batch | samples/s | ms/step | vs best PyTorch |\n|---|---|---|---|---|---|---|\n"
        for r in results {
            let ratio = best[r.model].map { $0 > 0 ? String(format: "%.2f×", r.samplesPerSec / $0) : "-" } ?? "-"
            text += String(format: "| %@ | %@ | %@ | %d | %.0f | %.2f | %@ |\n", r.engine, r.model, r.variant, r.batch,
                           r.samplesPerSec, r.msPerStep, ratio)
        }
        return text
    }
}

/// The fields of bench/dcn_pytorch.py's JSON that the report uses.
struct PeerRow: Codable {
    var variant: String
    var samples_per_sec: Double?
    var ms_per_step: Double?
    var peak_mem_bytes: Int?
    var loss: Double?
    var batch: Int?
    var device: String?
    var torch_version: String?
    var gpu_name: String?
    var note: String?
}

/// Peak resident memory of this process (VmHWM), in bytes.
func peakResidentBytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
    }
    return 0
}
