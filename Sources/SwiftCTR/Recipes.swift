/// The sample models of HugeCTR's `samples/` folder, as layer lists over a given input.
public enum Recipes {
    /// The 26 Criteo slot cardinalities of HugeCTR's DCN sample (1.22 M rows).
    public static let criteoSlotSizes = [
        203931, 18598, 14092, 7012, 18977, 4, 6385, 1245, 49, 186213, 71328, 67288, 11, 2168, 7338, 61, 4, 932, 15,
        204515, 141526, 199433, 60919, 9137, 71, 34,
    ]

    /// HugeCTR's DCN sample (`samples/dcn`): embedding → Reshape → Concat with dense → MultiCross(6)
    /// beside FC(1024)-ReLU-Dropout ×2 → Concat → FC(1) → BCE. With `crossProjectionDim` k > 0 the
    /// cross network is DCN v2's low-rank one (`MultiCross` with `projection_dim = k`), e.g.
    /// `crossLayers: 3, crossProjectionDim: 128`.
    public static func dcn(sparseInput: DataReaderSparseParam, denseName: String = "dense", labelName: String = "label",
                           vecSize: Int = 16, workspaceMB: Int, crossLayers: Int = 6, crossProjectionDim: Int = 0,
                           deepWidth: Int = 1024, dropoutRate: Float = 0.5,
                           optimizer: OptimizerParams? = nil) -> (SparseEmbedding, [DenseLayer]) {
        let embedding = SparseEmbedding(embeddingType: .distributedSlotSparseEmbeddingHash,
                                        workspaceSizePerGPUInMB: workspaceMB, embeddingVecSize: vecSize, combiner: "sum",
                                        sparseEmbeddingName: "sparse_embedding1", bottomName: sparseInput.topName,
                                        optimizer: optimizer)
        let layers = [
            DenseLayer(.reshape, bottomNames: ["sparse_embedding1"], topNames: ["reshape1"],
                       leadingDim: sparseInput.slotNum * vecSize),
            DenseLayer(.concat, bottomNames: ["reshape1", denseName], topNames: ["concat1"]),
            DenseLayer(.multiCross, bottomNames: ["concat1"], topNames: ["multicross1"], numLayers: crossLayers,
                       projectionDim: crossProjectionDim),
            DenseLayer(.innerProduct, bottomNames: ["concat1"], topNames: ["fc1"], numOutput: deepWidth),
            DenseLayer(.relu, bottomNames: ["fc1"], topNames: ["relu1"]),
            DenseLayer(.dropout, bottomNames: ["relu1"], topNames: ["dropout1"], dropoutRate: dropoutRate),
            DenseLayer(.innerProduct, bottomNames: ["dropout1"], topNames: ["fc2"], numOutput: deepWidth),
            DenseLayer(.relu, bottomNames: ["fc2"], topNames: ["relu2"]),
            DenseLayer(.dropout, bottomNames: ["relu2"], topNames: ["dropout2"], dropoutRate: dropoutRate),
            DenseLayer(.concat, bottomNames: ["dropout2", "multicross1"], topNames: ["concat2"]),
            DenseLayer(.innerProduct, bottomNames: ["concat2"], topNames: ["fc3"], numOutput: 1),
            DenseLayer(.binaryCrossEntropyLoss, bottomNames: ["fc3", labelName], topNames: ["loss"]),
        ]
        return (embedding, layers)
    }

    /// The 26 table sizes of MLPerf's DLRM-DCNv2 (Criteo 1TB multi-hot, HugeCTR's `train.py`).
    public static let mlperfTableSizes = [
        40000000, 39060, 17295, 7424, 20265, 3, 7122, 1543, 63, 40000000, 3067956, 405282, 10, 2209, 11938, 155, 4, 976, 14,
        40000000, 40000000, 40000000, 590152, 12973, 108, 36,
    ]
    /// Keys per sample of each of those tables.
    public static let mlperfHotness = [3, 2, 1, 2, 6, 1, 1, 1, 1, 7, 3, 8, 1, 6, 9, 5, 1, 1, 1, 12, 100, 27, 10, 3, 1, 1]

    /// MLPerf's DLRM-DCNv2 as HugeCTR's `train.py` builds it: the tables' sum-pooled vectors
    /// (`vecSize` 128) beside the bottom `MLP([512, 256, 128])` of the dense features →
    /// `Concat([sparse, mlp1])` → `MultiCross(3, projection_dim 512)` → `MLP([1024, 1024, 512, 256, 1])`
    /// with no activation on the last layer → BCE. HugeCTR's embedding collection is a hash
    /// embedding here, one slot per table.
    public static func dlrmDCNv2(sparseInput: DataReaderSparseParam, denseName: String = "dense", labelName: String = "label",
                                 vecSize: Int = 128, workspaceMB: Int, crossLayers: Int = 3, projectionDim: Int = 512,
                                 optimizer: OptimizerParams? = nil) -> (SparseEmbedding, [DenseLayer]) {
        let embedding = SparseEmbedding(embeddingType: .distributedSlotSparseEmbeddingHash,
                                        workspaceSizePerGPUInMB: workspaceMB, embeddingVecSize: vecSize, combiner: "sum",
                                        sparseEmbeddingName: "sparse_embedding1", bottomName: sparseInput.topName,
                                        optimizer: optimizer)
        let layers = [
            DenseLayer(.mlp, bottomNames: [denseName], topNames: ["mlp1"], numOutputs: [512, 256, 128]),
            DenseLayer(.reshape, bottomNames: ["sparse_embedding1"], topNames: ["reshape1"],
                       leadingDim: sparseInput.slotNum * vecSize),
            DenseLayer(.concat, bottomNames: ["reshape1", "mlp1"], topNames: ["concat1"]),
            DenseLayer(.multiCross, bottomNames: ["concat1"], topNames: ["multicross1"], numLayers: crossLayers,
                       projectionDim: projectionDim),
            DenseLayer(.mlp, bottomNames: ["multicross1"], topNames: ["mlp2"], numOutputs: [1024, 1024, 512, 256, 1],
                       activations: [.relu, .relu, .relu, .relu, .none]),
            DenseLayer(.binaryCrossEntropyLoss, bottomNames: ["mlp2", labelName], topNames: ["loss"]),
        ]
        return (embedding, layers)
    }

    /// A shallow baseline over `input`'s data: logistic regression, one weight per key (a hash
    /// `SparseEmbedding` of vector size 1 per sparse input, `combiner` over a slot's keys), the
    /// dense features taken linearly, and per label an InnerProduct of all of it into
    /// BinaryCrossEntropyLoss (MultiCrossEntropyLoss for a label of several dimensions).
    /// `rows` bounds the distinct keys of each input (it sizes the workspaces).
    public static func linearBaseline(_ input: Input, rows: Int, combiner: String = "sum") -> GraphConfig {
        // Vector size 1 with up to two optimizer states: 12 bytes a row, and a quarter to spare.
        let workspaceMB = max(1, (rows * 12 * 5 / 4) >> 20 + 1)
        var embeddings: [SparseEmbedding] = [], layers: [DenseLayer] = [], features: [String] = []
        for sparse in input.dataReaderSparseParamArray {
            let name = "linear_\(sparse.topName)"
            embeddings.append(SparseEmbedding(embeddingType: .distributedSlotSparseEmbeddingHash, workspaceSizePerGPUInMB: workspaceMB,
                                              embeddingVecSize: 1, combiner: combiner, sparseEmbeddingName: name,
                                              bottomName: sparse.topName))
            layers.append(DenseLayer(.reshape, bottomNames: [name], topNames: [name + "_flat"], leadingDim: sparse.slotNum))
            features.append(name + "_flat")
        }
        if input.denseDim > 0 { features.append(input.denseName) }
        if features.count > 1 { layers.append(DenseLayer(.concat, bottomNames: features, topNames: ["linear_features"])) }
        for (label, dim) in zip(input.labelNames, input.labelDims) {
            layers.append(DenseLayer(.innerProduct, bottomNames: [features.count > 1 ? "linear_features" : features[0]],
                                     topNames: ["logit_\(label)"], numOutput: dim))
            layers.append(DenseLayer(dim == 1 ? .binaryCrossEntropyLoss : .multiCrossEntropyLoss,
                                     bottomNames: ["logit_\(label)", label], topNames: ["loss_\(label)"]))
        }
        return GraphConfig(modelName: "linear_baseline", input: input, embeddings: embeddings, layers: layers)
    }

    /// A baseline that sees the dense features only: FC(256)-ReLU-FC(128)-ReLU-FC(1) → BCE.
    public static func denseOnly(denseName: String = "dense", labelName: String = "label") -> [DenseLayer] {
        [
            DenseLayer(.innerProduct, bottomNames: [denseName], topNames: ["fc1"], numOutput: 256),
            DenseLayer(.relu, bottomNames: ["fc1"], topNames: ["relu1"]),
            DenseLayer(.innerProduct, bottomNames: ["relu1"], topNames: ["fc2"], numOutput: 128),
            DenseLayer(.relu, bottomNames: ["fc2"], topNames: ["relu2"]),
            DenseLayer(.innerProduct, bottomNames: ["relu2"], topNames: ["fc3"], numOutput: 1),
            DenseLayer(.binaryCrossEntropyLoss, bottomNames: ["fc3", labelName], topNames: ["loss"]),
        ]
    }
}
