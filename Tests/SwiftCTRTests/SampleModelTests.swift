import CTRData
import Foundation
import SwiftCTR
import Testing

/// `swiftctr models` and `swiftctr train --model NAME`: every sample graph of Examples/json has a
/// catalogue entry whose generated data fits its Data layer, and the CLI trains one.
@Suite("Sample models")
struct SampleModelTests {
    static let root = ReadmeExampleTests.root

    @Test func everySampleGraphHasAnEntryWhoseDataFitsItsInput() throws {
        let graphs = try FileManager.default.contentsOfDirectory(atPath: Self.root.appendingPathComponent("Examples/json").path)
            .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }
        // dcn is the built-in default model; the other two are a spec example and a legacy configuration.
        #expect(Set(SampleModel.all.map(\.name)) == Set(graphs).subtracting(["dcn", "dcn_legacy", "wdl_tiny"]))
        for sample in SampleModel.all {
            let graph = try GraphConfig(file: Self.root.appendingPathComponent(sample.file).path,
                                        modelOptimizer: CreateOptimizer(), includeDenseNetwork: true)
            let input = graph.input, data = sample.data, layout = data.layout
            #expect(input.labelDim == data.labelDim && input.denseDim == data.denseDim, "\(sample.name): labels and dense")
            #expect(input.dataReaderSparseParamArray.map(\.slotNum) == layout.sparse.map(\.slotNum), "\(sample.name): sparse inputs")
            let capacity = input.dataReaderSparseParamArray.flatMap(\.nnzPerSlot)
            let drawn = data.nnzPerSlot + Array(repeating: 1, count: data.totalSlots - data.slotSizes.count)
            #expect(zip(capacity, drawn).allSatisfy { $0 >= $1 }, "\(sample.name): at most \(capacity) keys per slot, data draws \(drawn)")
            try data.validate()
        }
    }

    @Test func trainsASampleOnDataOfItsShapeAndRefusesUnknownNames() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swiftctr-samples-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var data = try #require(SampleModel.named("gmf")).data
        (data.numTrain, data.numEval) = (4000, 1000)
        _ = try SyntheticGenerator.generate(data, into: folder)
        let run = try EvaluatePredictCLITests.swiftctr(["train", "--model", "gmf", "--data", folder, "--max-iter", "20",
                                                        "--batch-size", "128"], in: Self.root.path)
        #expect(run.status == 0, "\(run.errors)")
        #expect(run.output.contains("eval AUC") && run.output.contains("oracle AUC"), "\(run.output.suffix(400))")
        let shallow = try EvaluatePredictCLITests.swiftctr(["train", "--model", "gmf", "--baseline", "--data", folder,
                                                            "--max-iter", "20", "--batch-size", "128"], in: Self.root.path)
        #expect(shallow.status == 0 && shallow.output.contains("linear_data") && shallow.output.contains("eval AUC"),
                "\(shallow.errors)\(shallow.output.suffix(400))")
        let noSample = try EvaluatePredictCLITests.swiftctr(["train", "--baseline"], in: Self.root.path)
        #expect(noSample.status != 0 && noSample.errors.contains("--baseline trains a shallow model on a sample model's data"),
                "\(noSample.errors)")
        let listed = try EvaluatePredictCLITests.swiftctr(["models"], in: folder)
        #expect(listed.status == 0 && SampleModel.all.allSatisfy { listed.output.contains($0.file) })
        let unknown = try EvaluatePredictCLITests.swiftctr(["train", "--model", "nope"], in: Self.root.path)
        #expect(unknown.status != 0 && unknown.errors.contains("swiftctr models` lists them"), "\(unknown.errors)")
        let elsewhere = try EvaluatePredictCLITests.swiftctr(["train", "--model", "gmf", "--data", folder], in: folder)
        #expect(elsewhere.status != 0 && elsewhere.errors.contains("Examples/json/gmf.json, which is not here"), "\(elsewhere.errors)")
    }

    /// The shallow baseline of a two-task sample: a vector-1 table per sparse input, the inputs
    /// concatenated, and per label its own logit and loss.
    @Test func linearBaselineHasAWeightPerKeyAndALossPerLabel() throws {
        let mmoe = try #require(SampleModel.named("mmoe"))
        let input = try GraphConfig(file: Self.root.appendingPathComponent(mmoe.file).path, modelOptimizer: CreateOptimizer(),
                                    includeDenseNetwork: true).input
        let graph = Recipes.linearBaseline(input, rows: 100_000, combiner: "mean")
        #expect(graph.embeddings.map(\.bottomName) == input.dataReaderSparseParamArray.map(\.topName))
        #expect(graph.embeddings.allSatisfy { $0.embeddingVecSize == 1 && $0.combiner == "mean" && $0.workspaceSizePerGPUInMB == 2 })
        let losses = graph.layers.filter { $0.layerType == .binaryCrossEntropyLoss }
        #expect(losses.map { $0.bottomNames[1] } == input.labelNames && input.labelNames.count == 2)
        let logits = graph.layers.filter { $0.layerType == .innerProduct }
        #expect(logits.count == 2 && logits.allSatisfy { $0.numOutput == 1 })
    }
}
