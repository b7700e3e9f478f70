import ArgumentParser
import Foundation
import SwiftCTR

/// What `swiftctr evaluate` and `swiftctr predict` share: the model (a HugeCTR JSON or the
/// default one of `swiftctr train`), its trained files, and the data to read.
struct TrainedModelOptions: ParsableArguments {
    @Argument(help: "A HugeCTR JSON model: graph JSON (its data from --data) or a legacy full configuration (its own reader; --data overrides it). Default: the model `swiftctr train` trains (--model).")
    var config: String?

    @Option(help: "Dataset folder written by `swiftctr generate` (default: data/dcn-default); its eval_list.txt is read.")
    var data: String?

    @Option(help: "A Norm file list to read instead of the dataset's (or legacy configuration's) evaluation list.")
    var fileList: String?

    @Option(help: "Take the weights from a snapshot: its prefix (the newest complete one) or its .snapshot.json file.")
    var snapshot: String?

    @Option(help: "Dense weights file (<prefix>_dense_<iter>.model); its .ntp.json BatchNorm statistics are read when present.")
    var denseModel: String?

    @Option(help: "Sparse model folder (<prefix><i>_sparse_<iter>.model), once per embedding in add order.")
    var sparseModel: [String] = []

    @Option(help: "Batch size for reading (default: 2048, or a legacy configuration's batchsize_eval).")
    var batchSize: Int?

    @Option(help: "The model without a JSON file, as `swiftctr train --model` trained it: dcn or dense-only.")
    var model = "dcn"

    @Option(help: "Width of the default DCN's deep layers, as `swiftctr train --deep-width` trained it.")
    var deepWidth = 1024

    @OptionGroup var deviceOptions: DeviceOptions

    func validate() throws {
        if snapshot != nil && (denseModel != nil || !sparseModel.isEmpty) {
            throw ValidationError("give the weights either as --snapshot or as --dense-model and --sparse-model, not both.")
        }
        if !sparseModel.isEmpty && denseModel == nil {
            throw ValidationError("--sparse-model needs --dense-model too: a model is its dense weights and its embeddings.")
        }
        if let batchSize, batchSize <= 0 { throw ValidationError("--batch-size must be ≥ 1, found \(batchSize).") }
        guard DefaultModel.kinds.contains(model) else { throw ValidationError("--model must be dcn or dense-only, found \(model).") }
        guard deepWidth > 0 else { throw ValidationError("--deep-width must be ≥ 1, found \(deepWidth).") }
    }

    /// The compiled model with its trained weights, and the file list to read.
    func load() throws -> (model: Model, fileList: String) {
        let model: Model, evalList: String
        var legacyFiles: LegacyConfig?
        if let config {
            var setup = try JSONModelSetup(file: config)
            switch setup.config {
            case .graph(let graph):
                let (directory, dataset) = try self.dataset()
                try Train.check(graph.input, fits: dataset, directory: directory, file: config)
                model = try Model(solver(modelName: graph.modelName, dataset: dataset), Train.reader(directory, dataset),
                                  DefaultModel.optimizer, backend: try deviceOptions.backend())
                model.construct(graph)
                evalList = directory + "/eval_list.txt"
            case .legacy(var legacy):
                if data != nil {
                    let (directory, dataset) = try self.dataset()
                    try Train.check(legacy.graph.input, fits: dataset, directory: directory, file: config)
                    legacy.reader = Train.reader(directory, dataset)
                    legacy.solver.i64InputKey = dataset.i64Keys
                }
                if let batchSize { (legacy.solver.batchsize, legacy.solver.batchsizeEval) = (batchSize, batchSize) }
                let backend = try setup.backend(deviceOptions.device, solver: &legacy.solver)
                model = try legacy.makeModel(backend: backend)
                evalList = legacy.reader.evalSource
                legacyFiles = legacy
            }
            setup.printWarnings()
        } else {
            let (directory, dataset) = try self.dataset()
            model = try Model(solver(modelName: "", dataset: dataset), Train.reader(directory, dataset), DefaultModel.optimizer,
                              backend: try deviceOptions.backend())
            DefaultModel.add(self.model, to: model, dataset: dataset, deepWidth: deepWidth)
            evalList = directory + "/eval_list.txt"
        }
        model.printsProgress = false
        try model.compile()
        try loadWeights(into: model, legacy: legacyFiles)
        return (model, fileList ?? evalList)
    }

    /// The trained weights from the options, else those a legacy configuration names.
    private func loadWeights(into model: Model, legacy: LegacyConfig?) throws {
        if let snapshot {
            print("weights: \(try model.loadWeights(fromSnapshot: snapshot))")
        } else if let denseModel {
            try model.loadDenseWeights(denseModel)
            do {
                try model.loadSparseWeights(sparseModel)
            } catch let error as SwiftCTRError where error.message.hasPrefix("loadSparseWeights: \(sparseModel.count) sparse") {
                throw SwiftCTRError(error.kind, error.message + " (--sparse-model, once per embedding)")
            }
            print("weights: \(denseModel)" + sparseModel.map { ", \($0)" }.joined())
        } else if let legacy, legacy.modelFiles["dense_model_file"] != nil {
            try legacy.loadModelFiles(into: model)
            print("weights: the model files of \(config ?? "the configuration")")
        } else {
            throw SwiftCTRError(.config, "no trained weights given; a model with its initial random weights predicts nothing useful. Pass --snapshot PREFIX (what `swiftctr train --snapshot N --snapshot-prefix PREFIX` wrote), or --dense-model FILE with --sparse-model DIR once per embedding.")
        }
    }

    /// The `swiftctr generate` folder of `--data` (default data/dcn-default) and its settings.
    private func dataset() throws -> (String, SyntheticConfig) {
        let directory = data ?? "data/dcn-default"
        guard FileManager.default.fileExists(atPath: directory + "/dataset.json") else {
            throw SwiftCTRError(.io, "'\(directory)' has no dataset.json; pass --data DIR, the `swiftctr generate` folder the model was trained on.")
        }
        return (directory, try SyntheticGenerator.load(directory: directory).0)
    }

    private func solver(modelName: String, dataset: SyntheticConfig) -> Solver {
        let batch = batchSize ?? 2048
        return Solver(modelName: modelName, seed: 42, batchsizeEval: batch, batchsize: batch, i64InputKey: dataset.i64Keys)
    }
}
