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
        var readers: [(DataReaderType, DataReaderParams)] = []
        for format in try readerFormats() {
            guard format != .raw || config.nnzPerSlot.allSatisfy({ $0 == 1 }) else {
                print("reader Raw: skipped, Raw files hold one key per slot and this data has up to \(config.nnzPerSlot.max()!)")
                continue
            }
            readers.append((format, try readerParams(format, directory: directory, config: config, workers: workers)))
        }
        for (format, reader) in readers {
            let (rate, bytesPerSec) = try readAlone(reader, config: config, batch: batch, workers: workers,
                                                    pool: backend.hostBufferPool)
            print(String(format: "reader %@ alone, %d workers: %.0f samples/s, %.2f GB/s", format.rawValue, workers, rate, bytesPerSec / 1e9))
            results.append(BenchResult(engine: "SwiftCTR", model: "reader", variant: "\(format.rawValue), \(workers) workers",
                                       device: "host", batch: batch, samplesPerSec: rate, msPerStep: 1000 * Double(batch) / rate,
                                       loss: 0, peakMemoryBytes: peakResidentBytes(),
                                       note: String(format: "%.2f GB/s of files", bytesPerSec / 1e9)))
        }
        if readerOnly { return results }
        let benchModel = try benchModels()[0]
        let variant = backend is CUDABackend ? String(precisions.split(separator: ",")[0]) : "fp32"
        (backend as? CUDABackend)?.gemmPrecision = CUDABackend.GEMMPrecision(rawValue: variant) ?? .bf16
        let memory = try measure(benchModel, variant: variant, config: config, directory: directory, batches: batches,
                                 batch: batch, backend: backend)
        print(memory.line + " (from memory)")
        results.append(memory)
        for (format, reader) in readers {
            let model = try makeModel(benchModel, variant: variant, config: config, reader: reader, batch: batch, backend: backend)
            try model.startDataReading()
            let rate = try timeSteps(batch: batch, backend: backend) { try model.train() }
            let steps = Double(warmup + windows * self.steps)
            print(String(format: "  waited for the %@ reader: %.3f ms/step", format.rawValue, 1000 * model.readerWaitSeconds / steps))
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

    static let benchFormats: [DataReaderType] = [.norm, .raw, .parquet]

    /// The reader of the bench data in `format`: the Norm files in `directory`, the same samples
    /// as Raw (float label and dense, so they equal the Norm values) in `directory-raw` and as
    /// Parquet (snappy) in `directory-parquet`, generated there from the same config when missing.
    private func readerParams(_ format: DataReaderType, directory: String, config: SyntheticConfig, workers: Int) throws -> DataReaderParams {
        var copy = config
        let folder: String, train: String, eval: String
        switch format {
        case .raw, .rawAsync:
            (copy.format, copy.floatLabelDense) = (.raw, true)
            folder = directory + "-raw"
            (train, eval) = (folder + "/train_data.bin", folder + "/eval_data.bin")
        case .parquet:
            copy.format = .parquet
            folder = directory + "-parquet"
            (train, eval) = (folder + "/train/_file_list.txt", folder + "/eval/_file_list.txt")
        case .norm:
            copy.format = .norm
            folder = directory
            (train, eval) = (folder + "/train_list.txt", folder + "/eval_list.txt")
        }
        if !FileManager.default.fileExists(atPath: folder + "/dataset.json") { _ = try generateDataset(copy, into: folder) }
        return DataReaderParams(dataReaderType: format, source: [train], evalSource: eval, checkType: config.check,
                                numSamples: config.numTrain, evalNumSamples: config.numEval, floatLabelDense: format == .raw,
                                numWorkers: workers, slotSizeArray: format == .parquet ? config.slotSizeArray : [])
    }

    /// Samples/s and bytes/s of the reader in steady state, the median of three windows: the
    /// training data repeated, the first batches of each worker (thread start, first reads) untimed.
    private func readAlone(_ params: DataReaderParams, config: SyntheticConfig, batch: Int, workers: Int,
                           pool: (any HostBufferPool)?) throws -> (Double, Double) {
        let source = params.source[0]
        let files = params.dataReaderType == .raw ? [source] : try FileList.read(source)
        let bytes = files.reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int) ?? 0) }
        let bytesPerSample = Double(bytes) / Double(config.numTrain)
        let reader = try params.format(numSamples: params.numSamples)
            .open(source: source, layout: config.layout, i64Keys: config.i64Keys, batchSize: batch, repeat: true, numWorkers: workers,
                  pool: pool)
        defer { reader.stop() }
        let perWindow = max(4 * workers, 32)
        for _ in 0 ..< 2 * workers { _ = try reader.next() }
        var rates: [Double] = []
        for _ in 0 ..< 3 {
            let start = ContinuousClock.now
            var samples = 0
            for _ in 0 ..< perWindow { samples += try reader.next()?.count ?? 0 }
            rates.append(Double(samples) / (ContinuousClock.now - start).inSeconds)
        }
        let rate = rates.sorted()[1]
        return (rate, rate * bytesPerSample)
    }
}
