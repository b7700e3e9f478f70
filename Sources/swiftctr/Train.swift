import ArgumentParser
import Foundation
import SwiftCTR

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train the HugeCTR DCN sample model (default: on a generated dataset, no arguments needed), or a model given as HugeCTR JSON.")

    @Argument(help: "A HugeCTR JSON model to train instead of --model: graph JSON (graph_to_json's form; data from --data) or a legacy full configuration (its own solver, optimizer and reader).")
    var config: String?

    @Option(help: "Dataset folder written by `swiftctr generate` (default: generate or reuse data/dcn-default).")
    var data: String?

    @Option(help: "Training iterations (default: one pass over the training split).")
    var maxIter: Int?

    @Option(help: "Training batch size.")
    var batchSize: Int = 2048

    @Option(help: "Print a progress line every N iterations.")
    var display: Int = 50

    @Option(help: "Evaluate every N iterations (default: four times per run).")
    var evalInterval: Int?

    @Option(help: "Learning rate (default 0.001; with --model NAME the sample's own).")
    var lr: Float?

    @Option(help: "Model: dcn (HugeCTR's DCN sample) or dense-only (an MLP on the dense features).")
    var model: String = "dcn"

    @Flag(help: "With --model NAME: train a shallow baseline on NAME's data instead of NAME's graph: logistic regression, a weight per key summed per slot (averaged for data planted with the mean combiner) and the dense features taken linearly; Adam at lr 0.01 unless --lr, NAME's passes.")
    var baseline = false

    @Option(help: "Write one JSON line per display and evaluation point to this file.")
    var metricsOut: String?

    @Option(help: "Write the training curves (loss, eval AUC, oracle AUC) to this SVG file (default: training.svg in the dataset folder).")
    var plot: String?

    @Option(help: "Random seed.")
    var seed: UInt64 = 42

    @Option(help: "Precision on a GPU: fp32, tf32, bf16 or fp16 (mixed precision; fp16 scales the loss by 1024).")
    var precision = "fp32"

    @Option(help: "Replay each training step's dense part as a CUDA graph on a GPU (Solver's use_cuda_graph): on or off.")
    var cudaGraph = "on"

    @Option(help: "Width of the DCN's two deep InnerProduct layers (HugeCTR's sample: 1024).")
    var deepWidth = 1024

    @Option(help: "Write a snapshot (HugeCTR's model files and SwiftCTR's manifest) every N iterations; 0: none.")
    var snapshot = 0

    @Option(help: "Path prefix of the snapshot files: out/dcn writes out/dcn_dense_<iter>.model, out/dcn0_sparse_<iter>.model/, ….")
    var snapshotPrefix = ""

    @Option(help: "Continue from a snapshot: its prefix (the newest complete one) or its .snapshot.json file. --max-iter stays the total.")
    var resume: String?

    @Option(help: "Train data-parallel on N simulated workers on the CPU or on one GPU, exchanging through host memory (HugeCTR's vvgpu of N GPUs): each holds its shard of every embedding (Distributed: key mod N, Localized: slot mod N) and runs the dense network on batch-size/N samples; the results equal one worker's up to float rounding. --batch-size must be a multiple of N.")
    var workers = 1

    @OptionGroup var deviceOptions: DeviceOptions

    func validate() throws {
        guard ["fp32", "tf32", "bf16", "fp16"].contains(precision) else {
            throw ValidationError("--precision must be fp32, tf32, bf16 or fp16, found \(precision).")
        }
        guard ["on", "off"].contains(cudaGraph) else {
            throw ValidationError("--cuda-graph must be on or off, found \(cudaGraph).")
        }
        guard DefaultModel.kinds.contains(model) || SampleModel.named(model) != nil else {
            throw ValidationError("--model must be dcn, dense-only or a sample model (\(SampleModel.all.map(\.name).joined(separator: ", "))), found \(model). `swiftctr models` lists them.")
        }
        if baseline && SampleModel.named(model) == nil {
            throw ValidationError("--baseline trains a shallow model on a sample model's data: give --model NAME of `swiftctr models` (for the default data, --model dense-only is the baseline).")
        }
        if config != nil && !DefaultModel.kinds.contains(model) {
            throw ValidationError("give either a JSON model or --model \(model), not both.")
        }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be ≥ 1, found \(batchSize).") }
        if let maxIter, maxIter <= 0 { throw ValidationError("--max-iter must be ≥ 1, found \(maxIter).") }
        guard deepWidth > 0 else { throw ValidationError("--deep-width must be ≥ 1, found \(deepWidth).") }
        guard snapshot >= 0 else { throw ValidationError("--snapshot must be ≥ 0 (0: no snapshots), found \(snapshot).") }
        guard workers >= 1 else { throw ValidationError("--workers must be ≥ 1, found \(workers).") }
        if workers > 1, let gpus = deviceOptions.gpus, gpus.count > 1 {
            throw ValidationError("--workers \(workers) simulates workers on one device, and --device \(deviceOptions.device) gives \(gpus.count) GPUs, one worker each; give one of the two.")
        }
    }

    func run() throws {
        if let config { return try runJSON(config) }
        if let sample = SampleModel.named(model) {
            guard FileManager.default.fileExists(atPath: sample.file) else {
                FileHandle.standardError.write(Data("error: --model \(model) trains \(sample.file), which is not here; run swiftctr from the root of the SwiftCTR checkout (where Examples/ is), or pass the JSON file itself.\n".utf8))
                throw ExitCode.failure
            }
            return try runJSON(sample.file, sample: sample)
        }
        try reportingErrors {
            let directory = data ?? "data/dcn-default"
            let (config, oracle) = try prepareData(directory)
            let evalBatch = Self.evalBatch(10_000, workers: workerCount)
            let iterations = maxIter ?? max(1, config.numTrain / batchSize)
            let mixed = precision == "bf16" || precision == "fp16"
            var solver = Solver(seed: seed, lr: lr ?? 0.001, maxEvalBatches: max(1, config.numEval / evalBatch),
                                batchsizeEval: evalBatch, batchsize: batchSize, useMixedPrecision: mixed,
                                mixedPrecisionType: precision == "fp16" ? .float16 : .bfloat16,
                                enableTF32Compute: precision == "tf32", scaler: precision == "fp16" ? 1024 : 1,
                                i64InputKey: config.i64Keys, useCudaGraph: cudaGraph == "on")
            let backend = try place(&solver)
            let reader = DataReaderParams(dataReaderType: .norm, source: [directory + "/train_list.txt"],
                                          evalSource: directory + "/eval_list.txt", checkType: config.check, numWorkers: 2)
            let model = try Model(solver, reader, DefaultModel.optimizer, backend: backend)
            DefaultModel.add(self.model, to: model, dataset: config, deepWidth: deepWidth)
            try model.compile()
            model.summary()
            print("device: \(model.backend.name)\(model.deviceBackends.map { " and \($0.count - 1) more GPUs, over NCCL" } ?? "")")
            let sink = try metricsOut.map { try MetricsSink(path: $0) }
            model.onRecord = { sink?.write($0) }
            if let resume { print("resumed from \(try model.resume(from: resume))") }
            let records = try model.fit(maxIter: iterations, display: display, evalInterval: evalInterval ?? max(1, iterations / 4),
                                        snapshot: snapshot, snapshotPrefix: snapshotPrefix)
            if let plot = plot ?? Optional(directory + "/training.svg") {
                let svg = TrainingPlot.svg(records, title: "SwiftCTR \(self.model) on \(directory)", oracleAUC: oracle)
                do {
                    try svg.write(toFile: plot, atomically: true, encoding: .utf8)
                } catch {
                    throw SwiftCTRError(.io, "cannot write --plot file '\(plot)': \(error.localizedDescription)")
                }
                print("training curves: \(plot)")
            }
            guard let final = records.last(where: { $0.evalAUC != nil }), let auc = final.evalAUC else { return }
            print(String(format: "eval AUC %.4f   oracle AUC %.4f   gap %.4f", auc, oracle, oracle - auc))
            if let last = records.last, last.trainingThroughput > 0 {
                print(String(format: "training throughput %.0f samples/s (%d samples in %.1f s of training steps, evaluations excluded)",
                             last.trainingThroughput, last.trainingSamples, last.trainingSec))
            }
        }
    }

    /// The workers: one per GPU of `--device cuda:N,M,…`, else `--workers`.
    var workerCount: Int { deviceOptions.gpus.map { $0.count > 1 ? $0.count : workers } ?? workers }

    /// Puts the solver's workers on the devices: `--device cuda:N,M,…` lists them (vvgpu, and
    /// nil: `Model` makes a backend per GPU), else `--workers` simulated on the one device's backend.
    func place(_ solver: inout Solver) throws -> (any Backend)? {
        if let gpus = deviceOptions.gpus, gpus.count > 1 {
            (solver.vvgpu, solver.devices) = ([gpus], .cuda)
            return nil
        }
        solver.vvgpu = [Array(0..<workers)]
        return try deviceOptions.backend()
    }

    /// The evaluation batch: `size` rounded down to a multiple of the workers, each of which
    /// evaluates an equal share.
    static func evalBatch(_ size: Int, workers: Int) -> Int {
        max(workers, size / workers * workers)
    }

    /// Reuses the dataset in `directory`, or generates the default one there when it is missing.
    /// The dataset in `directory`, generated there from `config` when it has none and `--data`
    /// was not given.
    func prepareData(_ directory: String, generating config: SyntheticConfig = .default) throws -> (SyntheticConfig, Double) {
        if FileManager.default.fileExists(atPath: directory + "/dataset.json") {
            return try SyntheticGenerator.load(directory: directory)
        }
        guard data == nil else {
            throw SwiftCTRError(.io, "'\(directory)' has no dataset.json; write a dataset there with `swiftctr generate --out \(directory)`.")
        }
        let dataset = try generateDataset(config, into: directory)
        return (config, dataset.oracleAUC)
    }
}
