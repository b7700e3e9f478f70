import ArgumentParser
import Foundation
import SwiftCTR

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a trained model's probabilities for every sample of Norm data files: one line per sample, in file order.",
        discussion: "A line holds each task's probabilities (one for BinaryCrossEntropyLoss), separated by spaces, tasks in the order of their label names. The model and weights are given as for `swiftctr evaluate`.")

    @OptionGroup var trained: TrainedModelOptions

    @Option(help: "The file to write.")
    var out: String

    @Option(help: "Read at most N batches (default: all the files).")
    var maxBatches: Int?

    func validate() throws {
        guard !out.isEmpty else { throw ValidationError("--out must name a file, found an empty string.") }
        if let maxBatches, maxBatches <= 0 { throw ValidationError("--max-batches must be ≥ 1, found \(maxBatches).") }
    }

    func run() throws {
        try reportingErrors {
            let (model, list) = try trained.load()
            let result = try model.predict(fileList: list, maxBatches: maxBatches)
            do {
                try Self.text(result).write(toFile: out, atomically: true, encoding: .utf8)
            } catch {
                throw SwiftCTRError(.io, "cannot write --out file '\(out)': \(error.localizedDescription). Check that its folder exists and is writable.")
            }
            print("wrote \(result.samples) predictions to \(out)")
        }
    }

    /// One line per sample: every task's probabilities in turn, each as the shortest text that
    /// reads back as the same float.
    static func text(_ result: Predictions) -> String {
        var text = ""
        for sample in 0..<result.samples {
            let values = result.tasks.flatMap { $0.probabilities[sample * $0.width..<(sample + 1) * $0.width] }
            text += values.map { "\($0)" }.joined(separator: " ") + "\n"
        }
        return text
    }
}
