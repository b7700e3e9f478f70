import SwiftCTR

let solver = CreateSolver(lr: 0.001, maxEvalBatches: 20, batchsizeEval: 10000, batchsize: 2048, i64InputKey: true)
let reader = DataReaderParams(dataReaderType: .norm, source: ["data/dcn-default/train_list.txt"],
                              evalSource: "data/dcn-default/eval_list.txt", checkType: .sum)
let optimizer = CreateOptimizer(optimizerType: .adam, updateType: .global)
let model = try Model(solver, reader, optimizer)
model.add(Input(labelDim: 1, labelName: "label", denseDim: 13, denseName: "dense",
                dataReaderSparseParamArray: [DataReaderSparseParam("data1", 1, true, 26)]))
model.add(SparseEmbedding(embeddingType: .distributedSlotSparseEmbeddingHash, workspaceSizePerGPUInMB: 16,
                          embeddingVecSize: 16, combiner: "sum", sparseEmbeddingName: "emb", bottomName: "data1"))
model.add(DenseLayer(.reshape, bottomNames: ["emb"], topNames: ["flat"], leadingDim: 416))
model.add(DenseLayer(.concat, bottomNames: ["flat", "dense"], topNames: ["all"]))
model.add(DenseLayer(.multiCross, bottomNames: ["all"], topNames: ["cross"], numLayers: 3))
model.add(DenseLayer(.innerProduct, bottomNames: ["all"], topNames: ["fc1"], numOutput: 256))
model.add(DenseLayer(.relu, bottomNames: ["fc1"], topNames: ["relu1"]))
model.add(DenseLayer(.concat, bottomNames: ["relu1", "cross"], topNames: ["both"]))
model.add(DenseLayer(.innerProduct, bottomNames: ["both"], topNames: ["logit"], numOutput: 1))
model.add(DenseLayer(.binaryCrossEntropyLoss, bottomNames: ["logit", "label"], topNames: ["loss"]))
try model.compile()
model.summary()
try model.fit(maxIter: 1000, display: 100, evalInterval: 500)
