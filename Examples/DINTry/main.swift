// HugeCTR's samples/din/din_try.py (spec §7.5) in SwiftCTR: the model of
// Examples/json/din_try.json, line for line as python/samples/din_try.py builds it. It is
// Examples/DIN's model with the other attention form: the softmax scores, reshaped to
// (1, 10) per sample, MatrixMultiply the history reshaped to (10, 36), giving the
// attention-weighted sum of the 10 history items (1, 36) in one product.
//
// Data: by default HugeCTR's Taobao Parquet files (./din_data/train/_file_list.txt and
// ./din_data/valid/_file_list.txt, int64 keys): no dense values, 23 one-key slots (user, 10
// history goods and the target good, 10 history categories and the target category). Without
// them, write a synthetic dataset of the same shape and pass its folder:
//
//     swift run swiftctr generate --out din_data --dense-dim 0 --slot-sizes 1000$(printf ',5000%.0s' {1..11})$(printf ',100%.0s' {1..11})
//     swift run -c release din-try-example din_data
//
// `swiftctr generate` writes Norm files listed in train_list.txt and eval_list.txt; a folder
// argument switches to those, and to the key width its dataset.json records.
// Differences from the sample (Examples/json/README.md): workspaces 8, 8 and 4 MB (84, 72, 30).
//
// With SWIFTCTR_EXAMPLE_GRAPH_ONLY=FILE set, it writes the graph JSON to FILE after compiling
// and exits before reading any data (scripts/examples-check.sh).
import Foundation
import SwiftCTR

let dataFolder = CommandLine.arguments.dropFirst().first
let graphOnly = ProcessInfo.processInfo.environment["SWIFTCTR_EXAMPLE_GRAPH_ONLY"]

do {
    var i64InputKey = true
    if let dataFolder, FileManager.default.fileExists(atPath: "\(dataFolder)/dataset.json") {
        i64InputKey = try SyntheticGenerator.load(directory: dataFolder).0.i64Keys
    }
    let solver = CreateSolver(lr: 0.00001,
                              maxEvalBatches: 1,
                              batchsizeEval: 4096,
                              batchsize: 64,
                              vvgpu: [[0]],
                              repeatDataset: true,
                              i64InputKey: i64InputKey)
    // HugeCTR's reader, or the Norm files of a `swiftctr generate` folder.
    let reader = dataFolder.map {
        DataReaderParams(dataReaderType: .norm, source: ["\($0)/train_list.txt"],
                         evalSource: "\($0)/eval_list.txt", checkType: .sum)
    } ?? DataReaderParams(dataReaderType: .parquet,
                          source: ["./din_data/train/_file_list.txt"],
                          evalSource: "./din_data/valid/_file_list.txt",
                          checkType: .none,
                          numWorkers: 1,
                          slotSizeArray: [192403] + Array(repeating: 0, count: 10)
                               + [63001] + Array(repeating: 0, count: 10) + [801])
    let optimizer = CreateOptimizer(optimizerType: .adam,
                                    updateType: .global,
                                    beta1: 0.9,
                                    beta2: 0.999,
                                    epsilon: 1e-9)
    let model = try Model(solver, reader, optimizer)
    model.add(Input(labelDim: 1, labelName: "label",
                    denseDim: 0, denseName: "dense",
                    dataReaderSparseParamArray:
                        [DataReaderSparseParam("UserID", 1, true, 1),
                         DataReaderSparseParam("GoodID", 1, true, 11),
                         DataReaderSparseParam("CateID", 1, true, 11)]))
    model.add(SparseEmbedding(embeddingType: .distributedSlotSparseEmbeddingHash,
                              workspaceSizePerGPUInMB: 8,
                              embeddingVecSize: 18,
                              combiner: "sum",
                              sparseEmbeddingName: "sparse_embedding_user",
                              bottomName: "UserID",
                              optimizer: optimizer))
    model.add(SparseEmbedding(embeddingType: .distributedSlotSparseEmbeddingHash,
                              workspaceSizePerGPUInMB: 8,
                              embeddingVecSize: 18,
                              combiner: "sum",
                              sparseEmbeddingName: "sparse_embedding_good",
                              bottomName: "GoodID",
                              optimizer: optimizer))
    model.add(SparseEmbedding(embeddingType: .distributedSlotSparseEmbeddingHash,
                              workspaceSizePerGPUInMB: 4,
                              embeddingVecSize: 18,
                              combiner: "sum",
                              sparseEmbeddingName: "sparse_embedding_cate",
                              bottomName: "CateID",
                              optimizer: optimizer))
    model.add(DenseLayer(.fusedReshapeConcat,
                         bottomNames: ["sparse_embedding_good", "sparse_embedding_cate"],
                         topNames: ["FusedReshapeConcat_item_his_em", "FusedReshapeConcat_item"]))
    model.add(DenseLayer(.scale,
                         bottomNames: ["FusedReshapeConcat_item"],
                         topNames: ["Scale_item"],
                         factor: 10.0,
                         axis: 1))
    model.add(DenseLayer(.sub,
                         bottomNames: ["Scale_item", "FusedReshapeConcat_item_his_em"],
                         topNames: ["sub_ih"]))
    model.add(DenseLayer(.elementwiseMultiply,
                         bottomNames: ["Scale_item", "FusedReshapeConcat_item_his_em"],
                         topNames: ["ElementwiseMul_i"]))
    model.add(DenseLayer(.concat,
                         bottomNames: ["Scale_item", "FusedReshapeConcat_item_his_em", "sub_ih",
                                       "ElementwiseMul_i"],
                         topNames: ["concat_i_h"]))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["concat_i_h"],
                         topNames: ["fc_att_i2"],
                         numOutput: 40))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["fc_att_i2"],
                         topNames: ["fc_att_i3"],
                         numOutput: 1))
    model.add(DenseLayer(.reshape,
                         bottomNames: ["fc_att_i3"],
                         topNames: ["reshape_score"],
                         leadingDim: 10,
                         timeStep: 1))
    model.add(DenseLayer(.softmax,
                         bottomNames: ["reshape_score"],
                         topNames: ["softmax_att_i"]))
    model.add(DenseLayer(.reshape,
                         bottomNames: ["FusedReshapeConcat_item_his_em"],
                         topNames: ["reshape_item_his"],
                         leadingDim: 36,
                         timeStep: 10))
    model.add(DenseLayer(.matrixMultiply,
                         bottomNames: ["softmax_att_i", "reshape_item_his"],
                         topNames: ["MatrixMultiply_ih"]))
    model.add(DenseLayer(.reshape,
                         bottomNames: ["MatrixMultiply_ih"],
                         topNames: ["reshape_reduce_ih"],
                         leadingDim: 36))
    model.add(DenseLayer(.reshape,
                         bottomNames: ["FusedReshapeConcat_item_his_em"],
                         topNames: ["reshape_his"],
                         leadingDim: 36,
                         timeStep: 10))
    model.add(DenseLayer(.reduceMean,
                         bottomNames: ["reshape_his"],
                         topNames: ["reduce_item_his"],
                         axis: 1))
    model.add(DenseLayer(.reshape,
                         bottomNames: ["reduce_item_his"],
                         topNames: ["reshape_reduce_item_his"],
                         leadingDim: 36))
    model.add(DenseLayer(.reshape,
                         bottomNames: ["sparse_embedding_user"],
                         topNames: ["reshape_user"],
                         leadingDim: 18))
    model.add(DenseLayer(.concat,
                         bottomNames: ["reshape_user", "reshape_reduce_item_his", "reshape_reduce_ih",
                                       "FusedReshapeConcat_item"],
                         topNames: ["concat_din_i"]))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["concat_din_i"],
                         topNames: ["fc_din_i1"],
                         numOutput: 200))
    model.add(DenseLayer(.preluDice,
                         bottomNames: ["fc_din_i1"],
                         topNames: ["dice_1"],
                         eps: 1e-8,
                         eluAlpha: 0.2))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["dice_1"],
                         topNames: ["fc_din_i2"],
                         numOutput: 80))
    model.add(DenseLayer(.preluDice,
                         bottomNames: ["fc_din_i2"],
                         topNames: ["dice_2"],
                         eps: 1e-8,
                         eluAlpha: 0.2))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["dice_2"],
                         topNames: ["fc3"],
                         numOutput: 1))
    model.add(DenseLayer(.binaryCrossEntropyLoss,
                         bottomNames: ["fc3", "label"],
                         topNames: ["loss"]))
    try model.compile()
    model.summary()
    try model.graphToJSON(graphConfigFile: graphOnly ?? "din_try.json")
    if graphOnly != nil { exit(0) }
    try model.fit(maxIter: 88000, display: 1000, evalInterval: 1000,
                  snapshot: 1000000, snapshotPrefix: "din")
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
