import Foundation
import SwiftCTR

/// `swiftctr train MODEL.json`: a graph JSON trains on `--data` (a `swiftctr generate` folder,
/// default `data/dcn-default`) with the command's solver options and Adam; a legacy full
/// configuration brings its solver, optimizer and reader, and `--data`, `--max-iter`,
/// `--eval-interval`, `--precision` (other than fp32) and `--cuda-graph off` override them.
extension Train {
    /// `sample`: a `--model NAME` sample, whose data is generated in its folder unless `--data` is given.
    func runJSON(_ file: String, sample: SampleModel? = nil) throws {
        try reportingErrors {
            var setup = try JSONModelSetup(file: file)
            let model: Model, fit: FitSettings
            var plotFile = plot, oracle: Double?, legacyFiles: LegacyConfig?, taskOracles: [Double] = []
            switch setup.config {
            case .graph(let graph):
                let directory = data ?? sample?.directory ?? "data/dcn-default"
                let (dataset, oracleAUC) = try prepareData(directory, generating: sample?.data ?? .default)
                try Self.check(graph.input, fits: dataset, directory: directory, file: file)
                let evalBatch = Self.evalBatch(min(10_000, dataset.numEval), workers: workerCount)
                let baselineRows = dataset.slotSizes.reduce(0, +) + dataset.itemVocabulary + SyntheticConfig.itemCategories
                let graph = baseline ? Recipes.linearBaseline(graph.input, rows: baselineRows,
                                                              combiner: dataset.meanCombiner ? "mean" : "sum") : graph
                var solver = Solver(modelName: graph.modelName, seed: seed, lr: lr ?? (baseline ? 0.01 : sample?.lr ?? 0.001),
                                    maxEvalBatches: max(1, dataset.numEval / evalBatch), batchsizeEval: evalBatch,
                                    batchsize: batchSize, i64InputKey: dataset.i64Keys, useCudaGraph: cudaGraph == "on")
                JSONModelSetup.apply(precision: precision, to: &solver)
                let backend = try place(&solver)
                let optimizer = baseline ? nil : sample?.optimizer
                model = try Model(solver, Self.reader(directory, dataset), optimizer ?? CreateOptimizer(optimizerType: .adam, updateType: .global),
                                  backend: backend)
                model.construct(graph)
                let iterations = maxIter ?? max(1, (sample?.passes ?? 1) * dataset.numTrain / batchSize)
                fit = FitSettings(maxIter: iterations, display: display, evalInterval: evalInterval ?? max(1, iterations / 4),
                                  snapshot: snapshot, snapshotPrefix: snapshotPrefix)
                (plotFile, oracle) = (plot ?? directory + "/training.svg", oracleAUC)
                taskOracles = try SyntheticGenerator.taskOracleAUCs(directory: directory)
            case .legacy(var legacy):
                if let data {
                    let (dataset, oracleAUC) = try prepareData(data)
                    try Self.check(legacy.graph.input, fits: dataset, directory: data, file: file)
                    legacy.reader = Self.reader(data, dataset)
                    legacy.solver.i64InputKey = dataset.i64Keys
                    (plotFile, oracle) = (plot ?? data + "/training.svg", oracleAUC)
                }
                if let maxIter { (legacy.solver.repeatDataset, legacy.fit.maxIter, legacy.fit.numEpochs) = (true, maxIter, 0) }
                if let evalInterval { legacy.fit.evalInterval = evalInterval }
                if precision != "fp32" { JSONModelSetup.apply(precision: precision, to: &legacy.solver) }
                if cudaGraph == "off" { legacy.solver.useCudaGraph = false }
                if snapshot > 0 { (legacy.fit.snapshot, legacy.fit.snapshotPrefix) = (snapshot, snapshotPrefix) }
                legacyFiles = legacy
                let backend = try setup.backend(deviceOptions.device, workers: workers, solver: &legacy.solver)
                model = try legacy.makeModel(backend: backend)
                fit = legacy.fit
            }
            setup.printWarnings()
            try model.compile()
            if let resume {
                print("resumed from \(try model.resume(from: resume))")
            } else {
                try legacyFiles?.loadModelFiles(into: model)
            }
            model.summary()
            print("device: \(model.backend.name)")
            let sink = try metricsOut.map { try MetricsSink(path: $0) }
            model.onRecord = { sink?.write($0) }
            let records = try model.fit(fit)
            if let plotFile {
                let svg = TrainingPlot.svg(records, title: "SwiftCTR \((file as NSString).lastPathComponent)", oracleAUC: oracle)
                do {
                    try svg.write(toFile: plotFile, atomically: true, encoding: .utf8)
                } catch {
                    throw SwiftCTRError(.io, "cannot write --plot file '\(plotFile)': \(error.localizedDescription)")
                }
                print("training curves: \(plotFile)")
            }
            guard let last = records.last(where: { $0.evalAUC != nil }), let auc = last.evalAUC else { return }
            let tasks = last.evalTaskAUCs ?? [:]
            guard tasks.count > 1 else {
                return print(String(format: "eval AUC %.4f", auc) + (oracle.map { String(format: "   oracle AUC %.4f", $0) } ?? ""))
            }
            // Label columns go to the label names in sorted order, so task k's oracle is column k's.
            print(String(format: "eval AUC %.4f (mean of %d tasks)", auc, tasks.count))
            for (k, name) in tasks.keys.sorted().enumerated() {
                print(String(format: "eval AUC %.4f", tasks[name]!) + (k < taskOracles.count ? String(format: "   oracle AUC %.4f", taskOracles[k]) : "")
                      + "   task \(name)")
            }
        }
    }

    /// The Norm file lists of a `swiftctr generate` folder.
    static func reader(_ directory: String, _ dataset: SyntheticConfig) -> DataReaderParams {
        DataReaderParams(dataReaderType: .norm, source: [directory + "/train_list.txt"], evalSource: directory + "/eval_list.txt",
                         checkType: dataset.check, numWorkers: 2)
    }

    /// Throws unless the model's Data layer reads what the generated files in `directory` hold.
    static func check(_ input: Input, fits dataset: SyntheticConfig, directory: String, file: String) throws {
        let slots = input.dataReaderSparseParamArray.reduce(0) { $0 + $1.slotNum }
        guard input.labelDim == dataset.labelDim, input.denseDim == dataset.denseDim, slots == dataset.totalSlots else {
            throw SwiftCTRError(.config, "the Data layer of '\(file)' reads \(input.labelDim) label column(s), \(input.denseDim) dense values and \(slots) slots per sample, but '\(directory)' holds \(dataset.labelDim) label(s), \(dataset.denseDim) dense values and \(dataset.totalSlots) slots. Write matching data with `swiftctr generate --out DIR --label-dim \(input.labelDim) --dense-dim \(input.denseDim) --slot-sizes …` (\(slots) slots in all, --sequence-length slots included) and pass --data DIR.")
        }
    }
}
