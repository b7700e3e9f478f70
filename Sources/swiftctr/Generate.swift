import ArgumentParser
import Foundation
import SwiftCTR

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a synthetic Criteo-shaped Norm dataset with a planted signal and its oracle AUC.")

    @Option(help: "Dataset folder to write.")
    var out: String

    @Option(help: "Training samples.")
    var train: Int = SyntheticConfig.default.numTrain

    @Option(help: "Evaluation samples.")
    var eval: Int = SyntheticConfig.default.numEval

    @Option(help: "Random seed.")
    var seed: UInt64 = SyntheticConfig.default.seed

    @Option(help: "Comma-separated cardinality of each slot (default: the DCN Criteo sizes ÷ 20).")
    var slotSizes: String?

    @Option(help: "Most keys per slot: one number for all slots or a comma-separated list (1 = one-hot).")
    var nnz: String = "1"

    @Option(help: "Training files.")
    var files: Int = SyntheticConfig.default.trainFiles

    @Option(help: "Spread (standard deviation) of the per-key part of the true logit.")
    var linearStd: Double = SyntheticConfig.default.linearStd

    @Option(help: "Spread of the pairwise factor-interaction part of the true logit.")
    var interactionStd: Double = SyntheticConfig.default.interactionStd

    @Option(help: "Keys expected fewer times than this in the training split carry no signal.")
    var minExpectedCount: Double = SyntheticConfig.default.minExpectedCount

    func run() throws {
        try reportingErrors {
            var config = SyntheticConfig.default
            config.numTrain = train
            config.numEval = eval
            config.seed = seed
            config.trainFiles = files
            config.linearStd = linearStd
            config.interactionStd = interactionStd
            config.minExpectedCount = minExpectedCount
            if let slotSizes { config.slotSizes = try parseList(slotSizes, "--slot-sizes") }
            let nnzList = try parseList(nnz, "--nnz")
            config.nnzPerSlot = nnzList.count == 1 ? Array(repeating: nnzList[0], count: config.slotSizes.count) : nnzList
            let dataset = try generateDataset(config, into: out)
            print("wrote \(dataset.directory): \(train) train + \(eval) eval samples, \(config.slotSizes.count) slots")
            print("oracle eval AUC \(String(format: "%.4f", dataset.oracleAUC)), dense-only part \(String(format: "%.4f", dataset.denseOnlyAUC))")
        }
    }
}

func parseList(_ text: String, _ option: String) throws -> [Int] {
    let items = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard !items.isEmpty, items.allSatisfy({ ($0 ?? 0) > 0 }) else {
        throw ValidationError("\(option) expects positive integers separated by commas, found '\(text)'.")
    }
    return items.map { $0! }
}

/// Generates with a progress line on standard error.
func generateDataset(_ config: SyntheticConfig, into directory: String) throws -> GeneratedDataset {
    FileHandle.standardError.write(Data("generating \(config.numTrain + config.numEval) samples into \(directory) …\n".utf8))
    return try SyntheticGenerator.generate(config, into: directory)
}
