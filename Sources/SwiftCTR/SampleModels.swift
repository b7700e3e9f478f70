import CTRData

/// HugeCTR's sample models (API spec §7) as `swiftctr train --model NAME` trains them: the graph
/// JSON under `Examples/json/` on generated data of the model's input shape, with a planted signal.
public struct SampleModel: Sendable {
    public let name: String
    /// The HugeCTR script the graph follows.
    public let script: String
    /// The input shape, in words.
    public let shape: String
    /// The generated data the model reads (its dense width, slots and sparse inputs).
    public let data: SyntheticConfig
    /// Where the data goes (models of one shape share it).
    public let directory: String
    /// The sample's learning rate and model optimizer, where they are not `swiftctr train`'s
    /// defaults (0.001, Adam Global).
    public var lr: Float = 0.001
    public var optimizer = CreateOptimizer(optimizerType: .adam, updateType: .global)
    /// Passes over the training data (`swiftctr train` makes one by default).
    public var passes = 1

    public var file: String { "Examples/json/\(name).json" }

    static func config(_ change: (inout SyntheticConfig) -> Void) -> SyntheticConfig {
        var config = SyntheticConfig.default
        (config.numTrain, config.numEval) = (500_000, 100_000)
        change(&config)
        return config
    }

    /// One-hot Criteo-shaped data: what `swiftctr train` trains DCN on by default.
    public static let criteoShape = "13 dense, 26 slots (1 key; ≤ 2 read)"
    /// DIN and BST: a user slot, 10 history items and the target, and their categories.
    static func sequence(_ config: inout SyntheticConfig) {
        (config.slotSizes, config.nnzPerSlot, config.sequenceLength, config.itemVocabulary, config.sequenceCategories) =
            ([20000], [1], 10, 5000, true)
    }

    public static let all: [SampleModel] = [
        SampleModel(name: "dcn_v2", script: "DCN v2 of model_test.py", shape: criteoShape, data: .default, directory: "data/dcn-default"),
        SampleModel(name: "deepfm", script: "samples/deepfm/deepfm.py", shape: criteoShape, data: .default, directory: "data/dcn-default"),
        SampleModel(name: "dlrm", script: "samples/dlrm/dlrm_kaggle_fp32.py (OneHot)", shape: criteoShape + ", keys offset per slot",
                    data: .default, directory: "data/dcn-default", lr: 0.5,
                    optimizer: CreateOptimizer(optimizerType: .sgd, updateType: .local, atomicUpdate: true), passes: 3),
        // MLPerf's table sizes capped at 3,000 rows with their hotness; AdaGrad as MLPerf trains it.
        SampleModel(name: "dlrm_dcnv2", script: "samples/dlrm/train.py (MLPerf DLRM-DCNv2)",
                    shape: "13 dense, 26 multi-hot slots of MLPerf's hotness (214 keys)",
                    data: config {
                        $0.slotSizes = Recipes.mlperfTableSizes.map { min($0, 3000) }
                        ($0.nnzPerSlot, $0.fixedHotness, $0.numTrain) = (Recipes.mlperfHotness, true, 1_000_000)
                    }, directory: "data/sample-dlrm-dcnv2", lr: 0.005,
                    optimizer: CreateOptimizer(optimizerType: .adaGrad, updateType: .global, epsilon: 1e-8)),
        // The ftrl sample's 26 one-key slots, one input and table each, its Ftrl on the tables
        // (in the graph) and SGD on the dense layers at its lr 0.5 (its `--optimizer sgd`).
        SampleModel(name: "ftrl", script: "samples/ftrl/dlrm_train_ftrl.py (hash tables in place of the embedding collection)",
                    shape: "13 dense, 26 one-key slots, one input each",
                    data: config { $0.sparseInputs = Array(repeating: 1, count: 26) }, directory: "data/sample-ftrl", lr: 0.5,
                    optimizer: CreateOptimizer(optimizerType: .sgd, updateType: .local, atomicUpdate: true), passes: 3),
        SampleModel(name: "wdl", script: "samples/wdl/wdl.py", shape: "13 dense; wide: 1 slot (≤ 8 keys); deep: 26 slots (≤ 2)",
                    data: config {
                        $0.slotSizes = [20000] + SyntheticConfig.default.slotSizes
                        ($0.nnzPerSlot, $0.sparseInputs) = ([8] + Array(repeating: 2, count: 26), [1, 26])
                    }, directory: "data/sample-wdl"),
        SampleModel(name: "criteo", script: "samples/criteo/criteo.py", shape: "no dense, 1 slot (≤ 26 keys)",
                    data: config { ($0.denseDim, $0.slotSizes, $0.nnzPerSlot) = (0, [60000], [26]) }, directory: "data/sample-criteo"),
        SampleModel(name: "criteo_multi_slots", script: "samples/criteo_multi_slots/criteo.py", shape: "no dense, 10 slots (≤ 5 keys)",
                    data: config {
                        ($0.denseDim, $0.slotSizes, $0.nnzPerSlot) = (0, Array(repeating: 6000, count: 10), Array(repeating: 5, count: 10))
                        // The sample pools a slot's keys with the mean combiner; fresh samples, as repeated passes overfit.
                        ($0.meanCombiner, $0.numTrain) = (true, 1_500_000)
                    }, directory: "data/sample-criteo-multi-slots"),
        SampleModel(name: "din", script: "samples/din/din_parquet.py", shape: "no dense; user, 10 goods + target, their 11 categories",
                    data: config { sequence(&$0); ($0.denseDim, $0.sparseInputs) = (0, [1, 11, 11]) }, directory: "data/sample-din"),
        // din_try.py's lr 1e-5 is for 88,000 steps of 64; one pass at batch 2048 trains at din's 0.001.
        SampleModel(name: "din_try", script: "samples/din/din_try.py (MatrixMultiply attention)",
                    shape: "no dense; user, 10 goods + target, their 11 categories",
                    data: config { sequence(&$0); ($0.denseDim, $0.sparseInputs) = (0, [1, 11, 11]) }, directory: "data/sample-din"),
        SampleModel(name: "bst", script: "samples/bst/bst_avg_pooling.py", shape: "1 dense; user, 10 goods, target, 10 categories, target category",
                    data: config { sequence(&$0); ($0.denseDim, $0.sparseInputs) = (1, [1, 10, 1, 10, 1]) }, directory: "data/sample-bst"),
        // The NCF samples' Adam (β1 0.25, β2 0.5; ε 1e-3 for GMF) at their lr 0.0045; GMF's
        // one product layer learns slower than the MLPs and takes 10 quick passes.
        SampleModel(name: "gmf", script: "samples/ncf/gmf.py", shape: userItem, data: config(userItems), directory: "data/sample-ncf",
                    lr: 0.0045, optimizer: CreateOptimizer(optimizerType: .adam, updateType: .global, beta1: 0.25, beta2: 0.5, epsilon: 1e-3),
                    passes: 10),
        SampleModel(name: "ncf", script: "samples/ncf/ncf.py", shape: userItem, data: config(userItems), directory: "data/sample-ncf",
                    lr: 0.0045, optimizer: CreateOptimizer(optimizerType: .adam, updateType: .global, beta1: 0.25, beta2: 0.5), passes: 3),
        SampleModel(name: "neumf", script: "samples/ncf/neumf.py", shape: userItem, data: config(userItems), directory: "data/sample-ncf",
                    lr: 0.0045, optimizer: CreateOptimizer(optimizerType: .adam, updateType: .global, beta1: 0.25, beta2: 0.5), passes: 3),
        SampleModel(name: "mmoe", script: "samples/mmoe/mmoe_parquet.py", shape: "2 labels, no dense, 32 slots (1 key)",
                    data: config(multiTask), directory: "data/sample-mmoe", lr: 1, optimizer: multiTaskSGD, passes: 3),
        SampleModel(name: "shared_bottom", script: "samples/mmoe/shared_bottom_parquet.py", shape: "2 labels, no dense, 32 slots (1 key)",
                    data: config(multiTask), directory: "data/sample-mmoe", lr: 1, optimizer: multiTaskSGD, passes: 3),
    ]

    static let userItem = "1 dense, user and item (1 key each)"

    /// GMF, NCF, NeuMF: users and items whose pair interaction carries most of the signal; the
    /// vocabulary fits the samples' workspaces (NCF's 16 MB hold 21,845 rows of 64 floats with Adam)
    /// and small enough that every user and item is drawn dozens of times.
    static func userItems(_ config: inout SyntheticConfig) {
        (config.denseDim, config.slotSizes, config.nnzPerSlot) = (1, [3000, 1500], [1, 1])
        // The samples read the dense value but no layer uses it: it carries no signal.
        (config.numTrain, config.linearStd, config.interactionStd, config.denseStd) = (1_000_000, 0.8, 1.2, 0)
    }

    /// MMoE and shared-bottom: the embeddings' SGD (Local, atomic) for the dense layers too, at
    /// lr 1 (Adam at lr 0.01 stopped 0.04 short of the oracle).
    static let multiTaskSGD = CreateOptimizer(optimizerType: .sgd, updateType: .local, atomicUpdate: true)

    static func multiTask(_ config: inout SyntheticConfig) {
        let sizes = SyntheticConfig.default.slotSizes
        (config.labelDim, config.denseDim) = (2, 0)
        config.slotSizes = (0..<32).map { sizes[$0 % sizes.count] }
        config.nnzPerSlot = Array(repeating: 1, count: 32)
    }

    public static func named(_ name: String) -> SampleModel? { all.first { $0.name == name } }
}

