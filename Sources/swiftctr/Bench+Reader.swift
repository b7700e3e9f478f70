import ArgumentParser
import Foundation
import SwiftCTR

/// `swiftctr bench --reader`: the data path on its own and under training.
extension Bench {
    /// Each format's reader alone over the training files, then the first model and precision
    /// trained from those files beside the same model trained from `batches` in memory.
    func measureDataPath(config: SyntheticConfig, directory: String, batches: [Batch], batch: Int,
                         backend: any Backend) throws -> [BenchResult] {
        let workers = readerWorkers ?? ProcessInfo.processInfo.activeProcessorCount
        var results: [BenchResult] = []
        for format in try readerFormats() {
            let reader = try readerParams(format, directory: directory, config: config, workers: workers)
            let (rate, bytesPerSec) = try readAlone(reader, config: config, batch: batch, workers: workers)
            print(String(format: "reader %@ alone, %d workers: %.0f samples/s, %.2f GB/s", format.rawValue, workers, rate, bytesPerSec / 1e9))
            results.append(BenchResult(engine: "SwiftCTR", model: "reader", variant: "\(format.rawValue), \(workers) workers",
                                       device: "host", batch: batch, samplesPerSec: rate, msPerStep: 1000 * Double(batch) / rate,
                                       loss: 0, peakMemoryBytes: peakResidentBytes(),
                                       note: String(format: "%.2f GB/s of files", bytesPerSec / 1e9)))
        }
        let benchModel = try benchModels()[0]
        let variant = backend is CUDABackend ? String(precisions.split(separator: ",")[0]) : "fp32"
        (backend as? CUDABackend)?.gemmPrecision = CUDABackend.GEMMPrecision(rawValue: variant) ?? .bf16
        let memory = try measure(benchModel, variant: variant, config: config, directory: directory, batches: batches,
                                 batch: batch, backend: backend)
        print(memory.line + " (from memory)")
        results.append(memory)
        for format in try readerFormats() {
            let reader = try readerParams(format, directory: directory, config: config, workers: workers)
            let model = try makeModel(benchModel, variant: variant, config: config, reader: reader, batch: batch, backend: backend)
            try model.startDataReading()
            let rate = try timeSteps(batch: batch, backend: backend) { try model.train() }
            let result = BenchResult(engine: "SwiftCTR", model: benchModel.name, variant: "\(variant), from \(format.rawValue) files",
                                     device: backend.name, batch: batch, samplesPerSec: rate, msPerStep: 1000 * Double(batch) / rate,
                                     loss: Double(model.currentLoss), peakMemoryBytes: (backend as? CUDABackend)?.reservedBytes ?? peakResidentBytes(),
                                     note: String(format: "%d reader workers; %.0f%% of training from memory", workers, 100 * rate / memory.samplesPerSec))
            print(result.line + String(format: " (%.0f%% of from memory)", 100 * rate / memory.samplesPerSec))
            results.append(result)
        }
        return results
    }

    /// The formats `--formats` names.
    func readerFormats() throws -> [DataReaderType] {
        try formats.split(separator: ",").map { name in
            guard let type = DataReaderType.allCases.first(where: { $0.rawValue.lowercased() == name.lowercased() }),
                  Self.benchFormats.contains(type) else {
                throw ValidationError("--formats: unknown or unavailable format '\(name)'; use \(Self.benchFormats.map { $0.rawValue.lowercased() }.joined(separator: ", ")).")
            }
            return type
        }
    }

    static let benchFormats: [DataReaderType] = [.norm]

    /// The reader of the bench data in `format`.
    private func readerParams(_ format: DataReaderType, directory: String, config: SyntheticConfig, workers: Int) throws -> DataReaderParams {
        DataReaderParams(dataReaderType: format, source: [directory + "/train_list.txt"], evalSource: directory + "/eval_list.txt",
                         checkType: config.check, numSamples: config.numTrain, evalNumSamples: config.numEval, numWorkers: workers)
    }

    /// Samples/s and bytes/s of reading the training data once, the median of three passes.
    private func readAlone(_ params: DataReaderParams, config: SyntheticConfig, batch: Int, workers: Int) throws -> (Double, Double) {
        let source = params.source[0]
        let files = params.dataReaderType == .raw ? [source] : try FileList.read(source)
        let bytes = files.reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int) ?? 0) }
        var rates: [(Double, Double)] = []
        for _ in 0..<3 {
            let reader = try params.format(numSamples: params.numSamples)
                .open(source: source, layout: config.layout, i64Keys: config.i64Keys, batchSize: batch, repeat: false,
                      numWorkers: workers)
            let start = ContinuousClock.now
            var samples = 0
            while let b = try reader.next() { samples += b.count }
            let seconds = (ContinuousClock.now - start).inSeconds
            reader.stop()
            rates.append((Double(samples) / seconds, Double(bytes) / seconds))
        }
        return rates.sorted { $0.0 < $1.0 }[1]
    }
}
