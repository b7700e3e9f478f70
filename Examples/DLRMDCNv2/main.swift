// MLPerf's DLRM-DCNv2 as HugeCTR's samples/dlrm/train.py builds it (spec §7.6) in SwiftCTR: the
// model of Examples/json/dlrm_dcnv2.json, line for line in the order train.py adds its layers.
//
// Data: a folder of Norm files with 13 dense values and 26 multi-hot slots of a fixed hotness
// (MLPerf's [3,2,1,2,6,1,1,1,1,7,3,8,1,6,9,5,1,1,1,12,100,27,10,3,1,1]), as
//
//     swift run -c release swiftctr train --model dlrm_dcnv2      # writes data/sample-dlrm-dcnv2
//     swift run -c release dlrm-dcnv2-example data/sample-dlrm-dcnv2
//
// or `swiftctr bench --models dlrmdcnv2` (data/bench-dlrmdcnv2-capN, the MLPerf table sizes capped)
// write. Differences from train.py (Examples/json/README.md): HugeCTR's embedding collection (one
// table per input, RawAsync multi-hot input) is one hash SparseEmbedding over one sparse input of
// 26 slots, each slot with its table's hotness; the workspace holds the generated data's rows; one
// device; no MLPerf schedule (warm-up and decay) or AUC target.
//
// With SWIFTCTR_EXAMPLE_GRAPH_ONLY=FILE set, it writes the graph JSON to FILE after compiling
// and exits before reading any data (scripts/examples-check.sh).
import Foundation
import SwiftCTR

let dataFolder = CommandLine.arguments.dropFirst().first ?? "data/sample-dlrm-dcnv2"
let graphOnly = ProcessInfo.processInfo.environment["SWIFTCTR_EXAMPLE_GRAPH_ONLY"]
let hotness = [3, 2, 1, 2, 6, 1, 1, 1, 1, 7, 3, 8, 1, 6, 9, 5, 1, 1, 1, 12, 100, 27, 10, 3, 1, 1]

do {
    let solver = CreateSolver(modelName: "dlrm_dcnv2",
                              lr: 0.005,
                              maxEvalBatches: 20,
                              batchsizeEval: 16384,
                              batchsize: 16384,
                              vvgpu: [[0]],
                              repeatDataset: true,
                              useMixedPrecision: false,
                              i64InputKey: true)
    let reader = DataReaderParams(dataReaderType: .norm,
                                  source: ["\(dataFolder)/train_list.txt"],
                                  evalSource: "\(dataFolder)/eval_list.txt",
                                  checkType: .sum)
    let optimizer = CreateOptimizer(optimizerType: .adaGrad,
                                    updateType: .global,
                                    epsilon: 1e-8,
                                    initialAccuValue: 0)
    let model = try Model(solver, reader, optimizer)
    model.add(Input(labelDim: 1, labelName: "label",
                    denseDim: 13, denseName: "dense",
                    dataReaderSparseParamArray:
                        [DataReaderSparseParam("data1", nnzPerSlot: hotness, isFixedLength: true, slotNum: 26)]))
    model.add(SparseEmbedding(embeddingType: .distributedSlotSparseEmbeddingHash,
                              workspaceSizePerGPUInMB: 300,
                              embeddingVecSize: 128,
                              combiner: "sum",
                              sparseEmbeddingName: "sparse_embedding1",
                              bottomName: "data1",
                              optimizer: optimizer))
    model.add(DenseLayer(.mlp,
                         bottomNames: ["dense"],
                         topNames: ["mlp1"],
                         numOutputs: [512, 256, 128],
                         activations: [.relu, .relu, .relu]))
    model.add(DenseLayer(.reshape,
                         bottomNames: ["sparse_embedding1"],
                         topNames: ["reshape1"],
                         leadingDim: 26 * 128))
    model.add(DenseLayer(.concat,
                         bottomNames: ["reshape1", "mlp1"],
                         topNames: ["concat1"]))
    model.add(DenseLayer(.multiCross,
                         bottomNames: ["concat1"],
                         topNames: ["interaction1"],
                         numLayers: 3,
                         projectionDim: 512))
    model.add(DenseLayer(.mlp,
                         bottomNames: ["interaction1"],
                         topNames: ["mlp2"],
                         numOutputs: [1024, 1024, 512, 256, 1],
                         activations: [.relu, .relu, .relu, .relu, .none]))
    model.add(DenseLayer(.binaryCrossEntropyLoss,
                         bottomNames: ["mlp2", "label"],
                         topNames: ["loss"]))
    try model.compile()
    model.summary()
    try model.graphToJSON(graphConfigFile: graphOnly ?? "dlrm_dcnv2.json")
    if graphOnly != nil { exit(0) }
    try model.fit(maxIter: 600, display: 50, evalInterval: 200,
                  snapshot: 10000000, snapshotPrefix: "dlrm_dcnv2")
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
