import CTRData
import Foundation
@testable import SwiftCTR

/// The small model and data of the model-file tests: two sparse inputs (3 and 2 slots of a
/// 5-slot planted-signal dataset), a Distributed embedding (vector 4) and a Localized one (vector
/// 3, LazyGlobal Adam), then InnerProduct, BatchNorm, ReLU, Dropout, MultiCross v1 and v2, and a
/// final InnerProduct over their concatenation.
enum MF {
    static let slotSizes = [20, 15, 25, 10, 30]
    /// Keys of data2's two slots lie in the global ranges 60..<70 and 70..<100.
    static let data2Start: Int64 = 60

    /// A fresh folder under the temporary directory; the caller removes it.
    static func scratch(_ name: String = #function) -> String {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("swiftctr-modelfiles-\(name.filter(\.isLetter))-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    static func dataset(into folder: String) throws -> GeneratedDataset {
        let config = SyntheticConfig(numTrain: 600, numEval: 256, slotSizes: slotSizes, nnzPerSlot: [2, 1, 1, 2, 1],
                                     denseDim: 4, seed: 5, trainFiles: 2, evalFiles: 1, i64Keys: false, check: .sum,
                                     interactionPairs: 3, minExpectedCount: 1)
        return try SyntheticGenerator.generate(config, into: folder)
    }

    static let data1 = DataReaderSparseParam("data1", nnzPerSlot: [2, 1, 1], isFixedLength: false, slotNum: 3)
    static let data2 = DataReaderSparseParam("data2", nnzPerSlot: [2, 1], isFixedLength: false, slotNum: 2)

    static let input = Input(labelDim: 1, labelName: "label", denseDim: 4, denseName: "dense",
                             dataReaderSparseParamArray: [data1, data2])

    static func solver(seed: UInt64 = 9, repeatDataset: Bool = true) -> Solver {
        Solver(seed: seed, lr: 0.01, warmupSteps: 4, decayStart: 8, decaySteps: 20, decayPower: 2, endLR: 0.001,
               maxEvalBatches: 2, batchsizeEval: 64, batchsize: 64, repeatDataset: repeatDataset)
    }

    /// The model, compiled, on the CPU.
    static func model(_ dataset: GeneratedDataset, solver: Solver = MF.solver(), reader: DataReaderParams? = nil) throws -> Model {
        let reader = reader ?? DataReaderParams(dataReaderType: .norm, source: [dataset.trainList], evalSource: dataset.evalList,
                                                checkType: .sum)
        let model = try Model(solver, reader, CreateOptimizer(optimizerType: .adam, updateType: .global))
        model.printsProgress = false
        model.add(input)
        model.add(SparseEmbedding(embeddingType: .distributedSlotSparseEmbeddingHash, embeddingVecSize: 4, combiner: "sum",
                                  sparseEmbeddingName: "emb1", bottomName: "data1", slotSizeArray: [20, 15, 25]))
        model.add(SparseEmbedding(embeddingType: .localizedSlotSparseEmbeddingHash, embeddingVecSize: 3, combiner: "mean",
                                  sparseEmbeddingName: "emb2", bottomName: "data2", slotSizeArray: [10, 30],
                                  optimizer: CreateOptimizer(optimizerType: .adam, updateType: .lazyGlobal)))
        let layers = [
            DenseLayer(.reshape, bottomNames: ["emb1"], topNames: ["r1"], leadingDim: 12),
            DenseLayer(.reshape, bottomNames: ["emb2"], topNames: ["r2"], leadingDim: 6),
            DenseLayer(.concat, bottomNames: ["r1", "r2", "dense"], topNames: ["concat1"]),
            DenseLayer(.innerProduct, bottomNames: ["concat1"], topNames: ["fc1"], numOutput: 16),
            DenseLayer(.batchNorm, bottomNames: ["fc1"], topNames: ["bn1"], factor: 0.3),
            DenseLayer(.relu, bottomNames: ["bn1"], topNames: ["relu1"]),
            DenseLayer(.dropout, bottomNames: ["relu1"], topNames: ["dropout1"], dropoutRate: 0.25),
            DenseLayer(.multiCross, bottomNames: ["concat1"], topNames: ["mc1"], numLayers: 2),
            DenseLayer(.multiCross, bottomNames: ["concat1"], topNames: ["mc2"], numLayers: 1, projectionDim: 4),
            DenseLayer(.concat, bottomNames: ["dropout1", "mc1", "mc2"], topNames: ["concat2"]),
            DenseLayer(.innerProduct, bottomNames: ["concat2"], topNames: ["fc2"], numOutput: 1),
            DenseLayer(.binaryCrossEntropyLoss, bottomNames: ["fc2", "label"], topNames: ["loss"]),
        ]
        layers.forEach(model.add)
        try model.compile()
        return model
    }

    /// The dense-weights layout of spec §4.2 for this model: each tensor's parameter name and
    /// element count, layers in graph order, tensors in declaration order (concat1 is 22 wide).
    static let denseLayout: [(name: String, count: Int)] = [
        ("fc1.weight", 22 * 16), ("fc1.bias", 16),
        ("bn1.gamma", 16), ("bn1.beta", 16),
        ("mc1.0.weight", 22), ("mc1.0.bias", 22), ("mc1.1.weight", 22), ("mc1.1.bias", 22),
        ("mc2.0.u", 22 * 4), ("mc2.0.v", 4 * 22), ("mc2.0.bias", 22),
        ("fc2.weight", (16 + 22 + 22) * 1), ("fc2.bias", 1),
    ]

    // MARK: byte-level reading, independent of the writer

    static func bytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func uint64(_ b: [UInt8], _ i: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(b[8 * i + $1]) << (8 * UInt64($1)) }
    }

    static func float32s(_ b: [UInt8]) -> [Float] {
        stride(from: 0, to: b.count, by: 4).map { o in
            Float(bitPattern: UInt32(b[o]) | UInt32(b[o + 1]) << 8 | UInt32(b[o + 2]) << 16 | UInt32(b[o + 3]) << 24)
        }
    }

    static func int64s(_ b: [UInt8]) -> [Int64] { (0..<b.count / 8).map { Int64(bitPattern: uint64(b, $0)) } }
    static func uint64s(_ b: [UInt8]) -> [UInt64] { (0..<b.count / 8).map { uint64(b, $0) } }

    // MARK: model internals

    static func parameter(_ model: Model, _ name: String) -> [Float] {
        model.backend.floats(model.graph!.parameters.first { $0.name == name }!.value)
    }

    /// The predictions of the first evaluation batch of `dataset`, in evaluation mode.
    static func predictions(_ model: Model, _ dataset: GeneratedDataset) throws -> [Float] {
        let reader = try BatchReader(fileList: dataset.evalList, layout: input.layout, i64Keys: false,
                                     check: .sum, batchSize: 64, repeat: false)
        defer { reader.stop() }
        let batch = try reader.next()!
        _ = try model.graph!.evaluate(batch: batch)
        return model.backend.floats(model.graph!.losses[0].predictions, count: batch.count)
    }
}
