// HugeCTR's samples/ftrl/dlrm_train_ftrl.py (spec §7.10) in SwiftCTR: the model of
// Examples/json/ftrl.json, line for line as python/samples/ftrl.py builds it. A DLRM whose 26
// one-key slots each have their own table of vector size 128, trained with Ftrl: β 0.1, λ1 0,
// λ2 0 (the script's --beta 0.1 --lambda1 0 --lambda2 0; its defaults 0.9, 0.1, 0.1 leave the
// tables at 0 on generated data: with batch-mean gradients few |z| pass λ1 = 0.1).
//
// HugeCTR's script puts the tables in an embedding collection (`EmbeddingTableConfig` per slot,
// `max_vocabulary_size` = the slot's size), whose tables take Ftrl; SwiftCTR has no embedding
// collection, so each table is a hash `SparseEmbedding` sized from its slot (`slot_size_array`
// [size], no workspace) with its own Ftrl optimizer. Ftrl on embedding rows is SwiftCTR's
// (HugeCTR's hash embeddings have none) and runs on the CPU backend only. The dense layers keep
// SGD (the script's `--optimizer sgd`: Local, atomic); its `--optimizer ftrl` makes Ftrl the
// optimizer of the dense layers too.
//
// Data: by default HugeCTR's Criteo Parquet files (./criteo_data/train/_file_list.txt and
// ./criteo_data/val/_file_list.txt, int64 keys): 13 dense values and 26 one-key slots, one
// input per slot. Without them, write a synthetic dataset of the same shape and pass its folder:
//
//     swift run swiftctr generate --out ftrl_data --sparse-inputs $(printf '1,%.0s' {1..25})1
//     swift run -c release ftrl-example ftrl_data
//
// `swiftctr generate` writes Norm files listed in train_list.txt and eval_list.txt; a folder
// argument switches to those, and to the key width its dataset.json records.
// Differences from the sample (Examples/json/README.md): hash embeddings in place of the
// embedding collection, their slot sizes `swiftctr generate`'s default ones (the sample's
// divided by 20); Ftrl's β, λ1, λ2; SGD on the dense layers; one device (8 per node);
// AverageLoss is always reported with AUC (metrics_spec).
//
// With SWIFTCTR_EXAMPLE_GRAPH_ONLY=FILE set, it writes the graph JSON to FILE after compiling
// and exits before reading any data (scripts/examples-check.sh).
import Foundation
import SwiftCTR

let dataFolder = CommandLine.arguments.dropFirst().first
let graphOnly = ProcessInfo.processInfo.environment["SWIFTCTR_EXAMPLE_GRAPH_ONLY"]
let slotSizes = [10196, 929, 704, 350, 948, 2, 319, 62, 2, 9310, 3566, 3364, 2, 108, 366, 3, 2, 46, 2, 10225,
                 7076, 9971, 3045, 456, 3, 2]

do {
    var i64InputKey = true
    if let dataFolder, FileManager.default.fileExists(atPath: "\(dataFolder)/dataset.json") {
        i64InputKey = try SyntheticGenerator.load(directory: dataFolder).0.i64Keys
    }
    let solver = CreateSolver(lr: 0.5,
                              warmupSteps: 300,
                              maxEvalBatches: 70,
                              batchsizeEval: 65536,
                              batchsize: 65536,
                              vvgpu: [[0]],
                              repeatDataset: true,
                              i64InputKey: i64InputKey)
    // HugeCTR's reader, or the Norm files of a `swiftctr generate` folder.
    let reader = dataFolder.map {
        DataReaderParams(dataReaderType: .norm, source: ["\($0)/train_list.txt"],
                         evalSource: "\($0)/eval_list.txt", checkType: .sum)
    } ?? DataReaderParams(dataReaderType: .parquet,
                          source: ["./criteo_data/train/_file_list.txt"],
                          evalSource: "./criteo_data/val/_file_list.txt",
                          checkType: .none)
    let optimizer = CreateOptimizer(optimizerType: .sgd,
                                    updateType: .local,
                                    atomicUpdate: true)
    // The script's --beta, --lambda1, --lambda2 (defaults 0.9, 0.1, 0.1; see above).
    let ftrl = CreateOptimizer(optimizerType: .ftrl,
                               updateType: .global,
                               beta: 0.1,
                               lambda1: 0,
                               lambda2: 0)
    let model = try Model(solver, reader, optimizer)
    let numEmbedding = 26
    model.add(Input(labelDim: 1, labelName: "label",
                    denseDim: 13, denseName: "dense",
                    dataReaderSparseParamArray: (0..<numEmbedding).map { DataReaderSparseParam("data\($0)", 1, false, 1) }))
    for i in 0..<numEmbedding {
        model.add(SparseEmbedding(embeddingType: .distributedSlotSparseEmbeddingHash,
                                  workspaceSizePerGPUInMB: 0,
                                  embeddingVecSize: 128,
                                  combiner: "sum",
                                  sparseEmbeddingName: "emb_vec\(i)",
                                  bottomName: "data\(i)",
                                  slotSizeArray: [slotSizes[i]],
                                  optimizer: ftrl))
    }
    model.add(DenseLayer(.concat,
                         bottomNames: (0..<numEmbedding).map { "emb_vec\($0)" },
                         topNames: ["sparse_embedding1"]))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["dense"],
                         topNames: ["fc1"],
                         numOutput: 512))
    model.add(DenseLayer(.relu,
                         bottomNames: ["fc1"],
                         topNames: ["relu1"]))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["relu1"],
                         topNames: ["fc2"],
                         numOutput: 256))
    model.add(DenseLayer(.relu,
                         bottomNames: ["fc2"],
                         topNames: ["relu2"]))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["relu2"],
                         topNames: ["fc3"],
                         numOutput: 128))
    model.add(DenseLayer(.relu,
                         bottomNames: ["fc3"],
                         topNames: ["relu3"]))
    model.add(DenseLayer(.interaction,
                         bottomNames: ["relu3", "sparse_embedding1"],
                         topNames: ["interaction1"]))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["interaction1"],
                         topNames: ["fc4"],
                         numOutput: 1024))
    model.add(DenseLayer(.relu,
                         bottomNames: ["fc4"],
                         topNames: ["relu4"]))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["relu4"],
                         topNames: ["fc5"],
                         numOutput: 1024))
    model.add(DenseLayer(.relu,
                         bottomNames: ["fc5"],
                         topNames: ["relu5"]))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["relu5"],
                         topNames: ["fc6"],
                         numOutput: 512))
    model.add(DenseLayer(.relu,
                         bottomNames: ["fc6"],
                         topNames: ["relu6"]))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["relu6"],
                         topNames: ["fc7"],
                         numOutput: 256))
    model.add(DenseLayer(.relu,
                         bottomNames: ["fc7"],
                         topNames: ["relu7"]))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["relu7"],
                         topNames: ["fc8"],
                         numOutput: 1))
    model.add(DenseLayer(.binaryCrossEntropyLoss,
                         bottomNames: ["fc8", "label"],
                         topNames: ["loss"]))
    try model.compile()
    model.summary()
    try model.graphToJSON(graphConfigFile: graphOnly ?? "ftrl.json")
    if graphOnly != nil { exit(0) }
    try model.fit(maxIter: 1000, display: 100, evalInterval: 100,
                  snapshot: 10000000, snapshotPrefix: "dlrm")
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
