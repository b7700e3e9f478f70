// HugeCTR's samples/bst/bst_avg_pooling.py (spec §7.9) in SwiftCTR: the model of
// Examples/json/bst.json, line for line as python/samples/bst.py builds it.
//
// Data: by default HugeCTR's Taobao Parquet files (./bst_data/train/_file_list.txt and
// ./bst_data/valid/_file_list.txt, int64 keys): 1 dense value (the history length, read by
// SequenceMask), 23 one-key slots (user, 10 history goods, target good, 10 history categories,
// target category). Without them, write a synthetic dataset of the same shape and pass its
// folder:
//
//     swift run swiftctr generate --out bst_data --dense-dim 1 --slot-sizes 1000$(printf ',5000%.0s' {1..11})$(printf ',100%.0s' {1..11})
//     swift run -c release bst-example bst_data
//
// `swiftctr generate` writes Norm files listed in train_list.txt and eval_list.txt; a folder
// argument switches to those, and to the key width its dataset.json records.
// Differences from the sample (Examples/json/README.md): workspaces 8, 8, 8, 4 and 4 MB (84, 72,
// 72, 30, 30). Generated dense values are N(0, 1) draws, not history lengths, so on such data
// the mask keeps few positions.
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
    let solver = CreateSolver(modelName: "bst",
                              lr: 1e-5,
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
                          source: ["./bst_data/train/_file_list.txt"],
                          evalSource: "./bst_data/valid/_file_list.txt",
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
                    denseDim: 1, denseName: "dense",
                    dataReaderSparseParamArray:
                        [DataReaderSparseParam("UserID", 1, true, 1),
                         DataReaderSparseParam("GoodID", 1, true, 10),
                         DataReaderSparseParam("Target_Good", 1, true, 1),
                         DataReaderSparseParam("CateID", 1, true, 10),
                         DataReaderSparseParam("Target_Cate", 1, true, 1)]))
    model.add(SparseEmbedding(embeddingType: .distributedSlotSparseEmbeddingHash,
                              workspaceSizePerGPUInMB: 8,
                              embeddingVecSize: 18,
                              combiner: "sum",
                              sparseEmbeddingName: "sparse_embedding_user",
                              bottomName: "UserID",
                              optimizer: optimizer))
    model.add(SparseEmbedding(embeddingType: .distributedSlotSparseEmbeddingHash,
                              workspaceSizePerGPUInMB: 8,
                              embeddingVecSize: 16,
                              combiner: "sum",
                              sparseEmbeddingName: "sparse_embedding_good",
                              bottomName: "GoodID",
                              optimizer: optimizer))
    model.add(SparseEmbedding(embeddingType: .distributedSlotSparseEmbeddingHash,
                              workspaceSizePerGPUInMB: 8,
                              embeddingVecSize: 16,
                              combiner: "sum",
                              sparseEmbeddingName: "sparse_embedding_item_good",
                              bottomName: "Target_Good",
                              optimizer: optimizer))
    model.add(SparseEmbedding(embeddingType: .distributedSlotSparseEmbeddingHash,
                              workspaceSizePerGPUInMB: 4,
                              embeddingVecSize: 16,
                              combiner: "sum",
                              sparseEmbeddingName: "sparse_embedding_cate",
                              bottomName: "CateID",
                              optimizer: optimizer))
    model.add(SparseEmbedding(embeddingType: .distributedSlotSparseEmbeddingHash,
                              workspaceSizePerGPUInMB: 4,
                              embeddingVecSize: 16,
                              combiner: "sum",
                              sparseEmbeddingName: "sparse_embedding_item_cate",
                              bottomName: "Target_Cate",
                              optimizer: optimizer))
    model.add(DenseLayer(.sequenceMask,
                         bottomNames: ["dense", "dense"],
                         topNames: ["sequence_mask"],
                         maxSequenceLenFrom: 10,
                         maxSequenceLenTo: 10))
    model.add(DenseLayer(.concat,
                         bottomNames: ["sparse_embedding_cate", "sparse_embedding_good"],
                         topNames: ["hist_emb_list"],
                         axis: 2))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["hist_emb_list"],
                         topNames: ["query_emb"],
                         numOutput: 32))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["hist_emb_list"],
                         topNames: ["key_emb"],
                         numOutput: 32))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["hist_emb_list"],
                         topNames: ["value_emb"],
                         numOutput: 32))
    model.add(DenseLayer(.multiHeadAttention,
                         bottomNames: ["query_emb", "key_emb", "value_emb", "sequence_mask"],
                         topNames: ["attention_out"],
                         numAttentionHeads: 4))
    model.add(DenseLayer(.add,
                         bottomNames: ["attention_out", "query_emb"],
                         topNames: ["attention_add_shortcut"]))
    model.add(DenseLayer(.layerNorm,
                         bottomNames: ["attention_add_shortcut"],
                         topNames: ["attention_layer_norm"]))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["attention_layer_norm"],
                         topNames: ["attention_ffn1"],
                         numOutput: 128))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["attention_ffn1"],
                         topNames: ["attention_ffn2"],
                         numOutput: 32))
    model.add(DenseLayer(.add,
                         bottomNames: ["attention_ffn2", "attention_layer_norm"],
                         topNames: ["attention_ffn_shortcut"]))
    model.add(DenseLayer(.layerNorm,
                         bottomNames: ["attention_ffn_shortcut"],
                         topNames: ["attention_ffn_layer_norm"]))
    model.add(DenseLayer(.reduceMean,
                         bottomNames: ["attention_ffn_layer_norm"],
                         topNames: ["reduce_attention_ffn_layer_norm"],
                         axis: 1))
    model.add(DenseLayer(.reshape,
                         bottomNames: ["reduce_attention_ffn_layer_norm"],
                         topNames: ["reshape_attention_out"],
                         leadingDim: 32))
    model.add(DenseLayer(.reshape,
                         bottomNames: ["sparse_embedding_user"],
                         topNames: ["reshape_user"],
                         leadingDim: 18))
    model.add(DenseLayer(.reshape,
                         bottomNames: ["sparse_embedding_item_good"],
                         topNames: ["reshape_item_good"],
                         leadingDim: 16))
    model.add(DenseLayer(.reshape,
                         bottomNames: ["sparse_embedding_item_cate"],
                         topNames: ["reshape_item_cate"],
                         leadingDim: 16))
    model.add(DenseLayer(.concat,
                         bottomNames: ["reshape_attention_out", "reshape_user",
                                       "reshape_item_good", "reshape_item_cate"],
                         topNames: ["dnn_input"]))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["dnn_input"],
                         topNames: ["fc_bst_i1"],
                         numOutput: 256))
    model.add(DenseLayer(.preluDice,
                         bottomNames: ["fc_bst_i1"],
                         topNames: ["dice_1"],
                         eps: 1e-8,
                         eluAlpha: 0.2))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["dice_1"],
                         topNames: ["fc_bst_i2"],
                         numOutput: 128))
    model.add(DenseLayer(.preluDice,
                         bottomNames: ["fc_bst_i2"],
                         topNames: ["dice_2"],
                         eps: 1e-8,
                         eluAlpha: 0.2))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["dice_2"],
                         topNames: ["fc_bst_i3"],
                         numOutput: 64))
    model.add(DenseLayer(.preluDice,
                         bottomNames: ["fc_bst_i3"],
                         topNames: ["dice_3"],
                         eps: 1e-8,
                         eluAlpha: 0.2))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["dice_3"],
                         topNames: ["fc_bst_i4"],
                         numOutput: 1))
    model.add(DenseLayer(.binaryCrossEntropyLoss,
                         bottomNames: ["fc_bst_i4", "label"],
                         topNames: ["loss"]))
    try model.compile()
    model.summary()
    try model.graphToJSON(graphConfigFile: graphOnly ?? "bst.json")
    if graphOnly != nil { exit(0) }
    try model.fit(maxIter: 88000, display: 1000, evalInterval: 1000,
                  snapshot: 1000000, snapshotPrefix: "bst")
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
