import ArgumentParser
import Foundation
import SwiftCTR

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a trained model on Norm data files: each task's AUC (exact) and logloss.",
        discussion: "The model is a HugeCTR JSON or the default DCN of `swiftctr train`; its weights come from --snapshot or --dense-model/--sparse-model.")

    @OptionGroup var trained: TrainedModelOptions

    @Option(help: "Read at most N batches (default: all the files).")
    var maxBatches: Int?

    func validate() throws {
        if let maxBatches, maxBatches <= 0 { throw ValidationError("--max-batches must be ≥ 1, found \(maxBatches).") }
    }

    func run() throws {
        try reportingErrors {
            let (model, list) = try trained.load()
            print(Self.report(try model.predict(fileList: list, maxBatches: maxBatches)))
        }
    }

    /// One line per task: its label, AUC and logloss; after them the mean AUC of several tasks.
    static func report(_ result: Predictions) -> String {
        var lines = ["samples \(result.samples)"]
        for task in result.tasks {
            lines.append(String(format: "%@: AUC %.6f   logloss %.6f", task.label, task.auc, task.logLoss))
        }
        if result.tasks.count > 1 {
            lines.append(String(format: "mean AUC %.6f", result.tasks.reduce(0) { $0 + $1.auc } / Double(result.tasks.count)))
        }
        return lines.joined(separator: "\n")
    }
}
