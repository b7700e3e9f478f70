/// A model definition: the `Input`, the sparse embeddings and the dense layers, in the order a
/// `Model` takes them.
///
/// ```swift
/// let model = try SmallModels.DIN.model().compiled(batchSize: 64, seed: 1, lr: 0.01, backend: CPUBackend())
/// let losses = try SmallModel.trainingLosses(model, batches: SmallModels.DIN.batches(8, size: 64, seed: 1))
/// ```
public struct SmallModel: Sendable {
    public var input: Input
    public var embeddings: [SparseEmbedding]
    public var layers: [DenseLayer]
    /// For a multi-task model: `compile(lossNames:lossWeights:)`'s arguments.
    public var lossWeights: (names: [String], weights: [Float])?

    public init(input: Input, embeddings: [SparseEmbedding], layers: [DenseLayer],
                lossWeights: (names: [String], weights: [Float])? = nil) {
        self.input = input
        self.embeddings = embeddings
        self.layers = layers
        self.lossWeights = lossWeights
    }

    /// Adds the input, then the embeddings, then the layers.
    public func add(to model: Model) {
        model.add(input)
        embeddings.forEach(model.add)
        layers.forEach(model.add)
    }

    /// A compiled `Model` of this definition for batches of up to `batchSize` given to
    /// `train(batch:)` (it has no files to read), trained with Adam at `lr`.
    public func compiled(batchSize: Int, seed: UInt64, lr: Float = 0.001, backend: any Backend) throws -> Model {
        let reader = DataReaderParams(dataReaderType: .norm, source: ["in memory"], evalSource: "in memory",
                                      checkType: .none)
        let model = try Model(Solver(seed: seed, lr: lr, batchsizeEval: batchSize, batchsize: batchSize), reader,
                              CreateOptimizer(optimizerType: .adam), backend: backend)
        model.printsProgress = false
        add(to: model)
        if let lossWeights {
            try model.compile(lossNames: lossWeights.names, lossWeights: lossWeights.weights)
        } else {
            try model.compile()
        }
        return model
    }

    /// Trains `model` one step on each of `batches` and returns the losses.
    public static func trainingLosses(_ model: Model, batches: [Batch]) throws -> [Float] {
        try batches.map { batch in
            try model.train(batch: batch)
            return model.currentLoss
        }
    }
}

/// HugeCTR's DeepFM, DIN and BST samples (spec §7.3, §7.5, §7.9) at toy sizes, each with batches
/// built in memory whose labels follow a planted rule the model can learn in a few dozen steps:
/// end-to-end checks of the layers these models use, small enough for a debug-build test.
///
/// ```swift
/// let deepFM = SmallModels.DeepFM.model()
/// let batches = SmallModels.DeepFM.batches(8, size: 64, seed: 3)
/// ```
public enum SmallModels {
    /// One hash embedding of `name` over the sparse input `bottom`.
    static func embedding(_ name: String, _ bottom: String, vec: Int) -> SparseEmbedding {
        SparseEmbedding(embeddingType: .distributedSlotSparseEmbeddingHash, workspaceSizePerGPUInMB: 1,
                        embeddingVecSize: vec, combiner: "sum", sparseEmbeddingName: name, bottomName: bottom)
    }

    /// DeepFM (`samples/deepfm`): one embedding of `latent + 1` per slot, split into the FM
    /// latent vectors and a first-order weight; the dense features get both through WeightMultiply.
    ///
    /// Layers: Reshape(latent + 1) → Slice [(0, latent), (latent, latent + 1)] → Reshape(slots·latent),
    /// Reshape(slots); WeightMultiply(dense, [denseDim, latent]) and (dense, [denseDim, 1]);
    /// Concat(latent vectors, dense latents) → FC ReLU Dropout ×3 → FC(1); FmOrder2(concat, latent)
    /// → ReduceSum; Concat(first-order weights, dense weights) → ReduceSum; Add of the three → BCE.
    ///
    /// Data: `slots` one-hot slots of `keysPerSlot` values v (key `s·keysPerSlot + v`), `denseDim`
    /// N(0, 1) features x. Label 1 when x₀ − x₁/2 + (v₀ even ? ½ : −½) + Σ_{s<t} pair(v_s, v_t) > 0,
    /// with pair +1 when v_s ≡ v_t (mod 3) and −½ otherwise (mean 0): an order-2 term the FM
    /// part can represent, a first-order term, and a dense term.
    public enum DeepFM {
        public static let slots = 4, keysPerSlot = 12, denseDim = 3, latent = 4
        public static let sparseInput = DataReaderSparseParam("data1", 1, true, slots)

        public static func model(hidden: Int = 32, dropoutRate: Float = 0.5) -> SmallModel {
            let vec = latent + 1
            let input = Input(labelDim: 1, labelName: "label", denseDim: denseDim, denseName: "dense",
                              dataReaderSparseParamArray: [sparseInput])
            var layers = [
                DenseLayer(.reshape, bottomNames: ["sparse_embedding1"], topNames: ["reshape1"], leadingDim: vec),
                DenseLayer(.slice, bottomNames: ["reshape1"], topNames: ["slice11", "slice12"],
                           ranges: [[0, latent], [latent, vec]]),
                DenseLayer(.reshape, bottomNames: ["slice11"], topNames: ["reshape2"], leadingDim: slots * latent),
                DenseLayer(.reshape, bottomNames: ["slice12"], topNames: ["reshape3"], leadingDim: slots),
                DenseLayer(.weightMultiply, bottomNames: ["dense"], topNames: ["weight_multiply1"],
                           weightDims: [denseDim, latent]),
                DenseLayer(.weightMultiply, bottomNames: ["dense"], topNames: ["weight_multiply2"], weightDims: [denseDim, 1]),
                DenseLayer(.concat, bottomNames: ["reshape2", "weight_multiply1"], topNames: ["concat1"]),
            ]
            var last = "concat1"
            for i in 1...3 {
                layers += [
                    DenseLayer(.innerProduct, bottomNames: [last], topNames: ["fc\(i)"], numOutput: hidden),
                    DenseLayer(.relu, bottomNames: ["fc\(i)"], topNames: ["relu\(i)"]),
                    DenseLayer(.dropout, bottomNames: ["relu\(i)"], topNames: ["dropout\(i)"], dropoutRate: dropoutRate),
                ]
                last = "dropout\(i)"
            }
            layers += [
                DenseLayer(.innerProduct, bottomNames: [last], topNames: ["fc4"], numOutput: 1),
                DenseLayer(.fmOrder2, bottomNames: ["concat1"], topNames: ["fmorder2"], outDim: latent),
                DenseLayer(.reduceSum, bottomNames: ["fmorder2"], topNames: ["reducesum1"], axis: 1),
                DenseLayer(.concat, bottomNames: ["reshape3", "weight_multiply2"], topNames: ["concat2"]),
                DenseLayer(.reduceSum, bottomNames: ["concat2"], topNames: ["reducesum2"], axis: 1),
                DenseLayer(.add, bottomNames: ["fc4", "reducesum1", "reducesum2"], topNames: ["add1"]),
                DenseLayer(.binaryCrossEntropyLoss, bottomNames: ["add1", "label"], topNames: ["loss"]),
            ]
            return SmallModel(input: input, embeddings: [embedding("sparse_embedding1", "data1", vec: vec)], layers: layers)
        }

        /// `count` batches of `size` samples following the rule above.
        public static func batches(_ count: Int, size: Int, seed: UInt64) -> [Batch] {
            SampleCollector.batches(count, size: size, seed: seed, stream: "SmallModels.DeepFM") { rng, samples in
                let x = (0..<denseDim).map { _ in Float(rng.nextNormal()) }
                let v = (0..<slots).map { _ in rng.nextInt(below: keysPerSlot) }
                var logit = x[0] - x[1] / 2 + (v[0] % 2 == 0 ? 0.5 : -0.5)
                for s in 0..<slots {
                    for t in s + 1..<slots { logit += v[s] % 3 == v[t] % 3 ? 1 : -0.5 }
                }
                samples.add(label: logit > 0 ? 1 : 0, dense: x,
                            sparse: [v.enumerated().map { [Int64($0.offset * keysPerSlot + $0.element)] }])
            }
        }
    }

    /// DIN (`samples/din`, the `din_try.py` attention with MatrixMultiply): a user, `history`
    /// behaviour goods plus the target good in the last slot, and their categories.
    ///
    /// Layers: FusedReshapeConcat(good, cate) → history rows and the target item; Reshape the
    /// history to (B, T, 2·vec); Scale(item, axis 1, T) → Reshape (B, T, 2·vec); Sub and
    /// ElementwiseMultiply of the two; Concat (axis 2) of [item, history, sub, product] → FC(16) →
    /// PReLU_Dice → FC(1) → Reshape (B, 1, T) → Softmax over the sequence → MatrixMultiply with the
    /// history (the attention-weighted sum) → Reshape; ReduceMean of the history over the
    /// sequence → Reshape; Reshape of the user; Concat [user, mean, attention, item] → FC(32)
    /// PReLU_Dice(α 0.2, ε 1e-8) FC(16) PReLU_Dice FC(1) → BCE. HugeCTR's attention is FC(40) →
    /// FC(1) on rows of (B·T, 144); here it runs on 3D tensors with a Dice between the two FCs,
    /// as DIN's paper has it.
    ///
    /// Data: see `BehaviourData`: label 1 when the target's category is the one most of the
    /// history has.
    public enum DIN {
        public static let history = 10, vec = 8
        public static let sparseInputs = [DataReaderSparseParam("UserID", 1, true, 1),
                                          DataReaderSparseParam("GoodID", 1, true, history + 1),
                                          DataReaderSparseParam("CateID", 1, true, history + 1)]

        public static func model() -> SmallModel {
            let input = Input(labelDim: 1, labelName: "label", denseDim: 0, denseName: "dense",
                              dataReaderSparseParamArray: sparseInputs)
            let embeddings = [embedding("sparse_embedding_user", "UserID", vec: vec),
                              embedding("sparse_embedding_good", "GoodID", vec: vec),
                              embedding("sparse_embedding_cate", "CateID", vec: vec)]
            let item = 2 * vec
            let layers = [
                DenseLayer(.fusedReshapeConcat, bottomNames: ["sparse_embedding_good", "sparse_embedding_cate"],
                           topNames: ["FusedReshapeConcat_item_his_em", "FusedReshapeConcat_item"]),
                DenseLayer(.reshape, bottomNames: ["FusedReshapeConcat_item_his_em"], topNames: ["item_his"],
                           leadingDim: item, timeStep: history),
                DenseLayer(.scale, bottomNames: ["FusedReshapeConcat_item"], topNames: ["Scale_item"],
                           factor: Float(history), axis: 1),
                DenseLayer(.reshape, bottomNames: ["Scale_item"], topNames: ["Scale_item_3d"], leadingDim: item,
                           timeStep: history),
                DenseLayer(.sub, bottomNames: ["Scale_item_3d", "item_his"], topNames: ["sub_ih"]),
                DenseLayer(.elementwiseMultiply, bottomNames: ["Scale_item_3d", "item_his"], topNames: ["ElementwiseMul_i"]),
                DenseLayer(.concat, bottomNames: ["Scale_item_3d", "item_his", "sub_ih", "ElementwiseMul_i"],
                           topNames: ["concat_i_h"], axis: 2),
                DenseLayer(.innerProduct, bottomNames: ["concat_i_h"], topNames: ["fc_att_i2"], numOutput: 16),
                DenseLayer(.preluDice, bottomNames: ["fc_att_i2"], topNames: ["dice_att_i2"], eps: 1e-8, eluAlpha: 0.2),
                DenseLayer(.innerProduct, bottomNames: ["dice_att_i2"], topNames: ["fc_att_i3"], numOutput: 1),
                DenseLayer(.reshape, bottomNames: ["fc_att_i3"], topNames: ["reshape_score"], leadingDim: history,
                           timeStep: 1),
                DenseLayer(.softmax, bottomNames: ["reshape_score"], topNames: ["softmax_att_i"]),
                DenseLayer(.matrixMultiply, bottomNames: ["softmax_att_i", "item_his"], topNames: ["MatrixMultiply_ih"]),
                DenseLayer(.reshape, bottomNames: ["MatrixMultiply_ih"], topNames: ["reshape_attention"], leadingDim: item),
                DenseLayer(.reduceMean, bottomNames: ["item_his"], topNames: ["reduce_item_his"], axis: 1),
                DenseLayer(.reshape, bottomNames: ["reduce_item_his"], topNames: ["reshape_item_his"], leadingDim: item),
                DenseLayer(.reshape, bottomNames: ["sparse_embedding_user"], topNames: ["reshape_user"], leadingDim: vec),
                DenseLayer(.concat, bottomNames: ["reshape_user", "reshape_item_his", "reshape_attention",
                                                  "FusedReshapeConcat_item"], topNames: ["concat_din_i"]),
                DenseLayer(.innerProduct, bottomNames: ["concat_din_i"], topNames: ["fc_din_i1"], numOutput: 32),
                DenseLayer(.preluDice, bottomNames: ["fc_din_i1"], topNames: ["dice_1"], eps: 1e-8, eluAlpha: 0.2),
                DenseLayer(.innerProduct, bottomNames: ["dice_1"], topNames: ["fc_din_i2"], numOutput: 16),
                DenseLayer(.preluDice, bottomNames: ["fc_din_i2"], topNames: ["dice_2"], eps: 1e-8, eluAlpha: 0.2),
                DenseLayer(.innerProduct, bottomNames: ["dice_2"], topNames: ["fc_din_i3"], numOutput: 1),
                DenseLayer(.binaryCrossEntropyLoss, bottomNames: ["fc_din_i3", "label"], topNames: ["loss"]),
            ]
            return SmallModel(input: input, embeddings: embeddings, layers: layers)
        }

        /// `count` batches of `size` samples, every history full.
        public static func batches(_ count: Int, size: Int, seed: UInt64) -> [Batch] {
            SampleCollector.batches(count, size: size, seed: seed, stream: "SmallModels.DIN") { rng, samples in
                let s = BehaviourData.sample(&rng, length: history)
                let goods = s.history + [s.target]
                samples.add(label: s.label, dense: [],
                            sparse: [[[Int64(s.user)]], goods.map { [Int64($0)] },
                                     goods.map { [Int64(BehaviourData.category($0))] }])
            }
        }
    }

    /// BST (`samples/bst`, `bst_avg_pooling.py`): a user, a behaviour sequence of up to `history`
    /// goods and their categories (the length in the one dense column), the target good and its
    /// category.
    ///
    /// Layers: SequenceMask(dense, dense) → (B, 1, T, T); Concat (axis 2) of the category and good
    /// sequences → FC(16) ×3 (query, key, value) → MultiHeadAttention(4 heads, the mask) → Add
    /// the query → LayerNorm → FC(32) → FC(16) → Add → LayerNorm → ReduceMean over the sequence →
    /// Reshape(16); Reshape of the user, target good and target category; Concat → FC(32)
    /// PReLU_Dice FC(16) PReLU_Dice FC(8) PReLU_Dice FC(1) → BCE.
    ///
    /// Data: see `BehaviourData`; a sequence of length L in 3…T has its first L slots filled and
    /// the rest empty (no key: a zero vector), and the label looks at those L goods only.
    public enum BST {
        public static let history = 8, vec = 8
        public static let sparseInputs = [DataReaderSparseParam("UserID", 1, true, 1),
                                          DataReaderSparseParam("GoodID", 1, true, history),
                                          DataReaderSparseParam("Target_Good", 1, true, 1),
                                          DataReaderSparseParam("CateID", 1, true, history),
                                          DataReaderSparseParam("Target_Cate", 1, true, 1)]

        public static func model() -> SmallModel {
            let input = Input(labelDim: 1, labelName: "label", denseDim: 1, denseName: "dense",
                              dataReaderSparseParamArray: sparseInputs)
            let embeddings = [embedding("sparse_embedding_user", "UserID", vec: vec),
                              embedding("sparse_embedding_good", "GoodID", vec: vec),
                              embedding("sparse_embedding_target_good", "Target_Good", vec: vec),
                              embedding("sparse_embedding_cate", "CateID", vec: vec),
                              embedding("sparse_embedding_target_cate", "Target_Cate", vec: vec)]
            let width = 2 * vec
            var layers = [
                DenseLayer(.sequenceMask, bottomNames: ["dense", "dense"], topNames: ["sequence_mask"],
                           maxSequenceLenFrom: history, maxSequenceLenTo: history),
                DenseLayer(.concat, bottomNames: ["sparse_embedding_cate", "sparse_embedding_good"],
                           topNames: ["concat_seq"], axis: 2),
                DenseLayer(.innerProduct, bottomNames: ["concat_seq"], topNames: ["query"], numOutput: width),
                DenseLayer(.innerProduct, bottomNames: ["concat_seq"], topNames: ["key"], numOutput: width),
                DenseLayer(.innerProduct, bottomNames: ["concat_seq"], topNames: ["value"], numOutput: width),
                DenseLayer(.multiHeadAttention, bottomNames: ["query", "key", "value", "sequence_mask"],
                           topNames: ["attention_out"], numAttentionHeads: 4),
                DenseLayer(.add, bottomNames: ["attention_out", "query"], topNames: ["attention_add"]),
                DenseLayer(.layerNorm, bottomNames: ["attention_add"], topNames: ["attention_ln"]),
                DenseLayer(.innerProduct, bottomNames: ["attention_ln"], topNames: ["ffn1"], numOutput: 2 * width),
                DenseLayer(.innerProduct, bottomNames: ["ffn1"], topNames: ["ffn2"], numOutput: width),
                DenseLayer(.add, bottomNames: ["ffn2", "attention_ln"], topNames: ["ffn_add"]),
                DenseLayer(.layerNorm, bottomNames: ["ffn_add"], topNames: ["ffn_ln"]),
                DenseLayer(.reduceMean, bottomNames: ["ffn_ln"], topNames: ["reduce_mean"], axis: 1),
                DenseLayer(.reshape, bottomNames: ["reduce_mean"], topNames: ["reshape_sequence"], leadingDim: width),
                DenseLayer(.reshape, bottomNames: ["sparse_embedding_user"], topNames: ["reshape_user"], leadingDim: vec),
                DenseLayer(.reshape, bottomNames: ["sparse_embedding_target_good"], topNames: ["reshape_target_good"],
                           leadingDim: vec),
                DenseLayer(.reshape, bottomNames: ["sparse_embedding_target_cate"], topNames: ["reshape_target_cate"],
                           leadingDim: vec),
                DenseLayer(.concat, bottomNames: ["reshape_user", "reshape_sequence", "reshape_target_good",
                                                  "reshape_target_cate"], topNames: ["concat_all"]),
            ]
            var last = "concat_all"
            for (i, width) in [32, 16, 8].enumerated() {
                layers += [
                    DenseLayer(.innerProduct, bottomNames: [last], topNames: ["fc\(i + 1)"], numOutput: width),
                    DenseLayer(.preluDice, bottomNames: ["fc\(i + 1)"], topNames: ["dice\(i + 1)"], eps: 1e-8, eluAlpha: 0.2),
                ]
                last = "dice\(i + 1)"
            }
            layers += [
                DenseLayer(.innerProduct, bottomNames: [last], topNames: ["fc4"], numOutput: 1),
                DenseLayer(.binaryCrossEntropyLoss, bottomNames: ["fc4", "label"], topNames: ["loss"]),
            ]
            return SmallModel(input: input, embeddings: embeddings, layers: layers)
        }

        /// `count` batches of `size` samples with sequence lengths in 3…`history`.
        public static func batches(_ count: Int, size: Int, seed: UInt64) -> [Batch] {
            SampleCollector.batches(count, size: size, seed: seed, stream: "SmallModels.BST") { rng, samples in
                let length = 3 + rng.nextInt(below: history - 2)
                let s = BehaviourData.sample(&rng, length: length)
                let padding = [[Int64]](repeating: [], count: history - length)
                samples.add(label: s.label, dense: [Float(length)],
                            sparse: [[[Int64(s.user)]], s.history.map { [Int64($0)] } + padding,
                                     [[Int64(s.target)]],
                                     s.history.map { [Int64(BehaviourData.category($0))] } + padding,
                                     [[Int64(BehaviourData.category(s.target))]]])
            }
        }
    }
}

/// The behaviour data of the DIN and BST models: `users` users, `goods` goods in `categories`
/// categories (good g is in category g mod `categories`). A user prefers the category u mod
/// `categories`: each history good is from it with probability ¾, else any good. The target is
/// from the history's majority category (ties: the lowest) or, as often, from another one;
/// the label says which.
enum BehaviourData {
    static let users = 12, goods = 24, categories = 3

    static func category(_ good: Int) -> Int { good % categories }

    static func sample(_ rng: inout CounterRNG, length: Int) -> (user: Int, history: [Int], target: Int, label: Float) {
        let user = rng.nextInt(below: users), preferred = user % categories
        func good(in category: Int) -> Int { category + categories * rng.nextInt(below: goods / categories) }
        let history = (0..<length).map { _ in rng.nextUniform() < 0.75 ? good(in: preferred) : rng.nextInt(below: goods) }
        var counts = [Int](repeating: 0, count: categories)
        for g in history { counts[category(g)] += 1 }
        let majority = counts.indices.max { counts[$0] < counts[$1] || (counts[$0] == counts[$1] && $0 > $1) }!
        let positive = rng.nextUniform() < 0.5
        let targetCategory = positive ? majority : (majority + 1 + rng.nextInt(below: categories - 1)) % categories
        return (user, history, good(in: targetCategory), positive ? 1 : 0)
    }
}

extension SmallModels {
    /// A shared-bottom two-task model (the MMoE sample's shape without the experts): one embedding
    /// of `slots` one-hot slots and the dense features → Concat → a shared FC(16) ReLU → one tower
    /// FC(8) ReLU FC(1) per task → a BinaryCrossEntropyLoss per label, compiled with loss weights
    /// 1 and 0.5.
    ///
    /// Data: task "click" is 1 when x₀ + (v₀ even ? 1 : −1) > 0, task "buy" when
    /// x₁ + (v₁ < keysPerSlot/2 ? 1 : −1) > 0; both read the same inputs.
    public enum TwoTask {
        static let slots = 3, keysPerSlot = 8, denseDim = 2, vec = 4

        public static func model() -> SmallModel {
            let sparse = DataReaderSparseParam("data1", 1, true, slots)
            let input = Input(labelDims: [1, 1], labelNames: ["buy", "click"], denseDim: denseDim, denseName: "dense",
                              dataReaderSparseParamArray: [sparse])
            var layers = [
                DenseLayer(.reshape, bottomNames: ["sparse_embedding1"], topNames: ["reshape1"], leadingDim: slots * vec),
                DenseLayer(.concat, bottomNames: ["reshape1", "dense"], topNames: ["concat1"]),
                DenseLayer(.innerProduct, bottomNames: ["concat1"], topNames: ["shared"], numOutput: 16),
                DenseLayer(.relu, bottomNames: ["shared"], topNames: ["shared_relu"]),
            ]
            for task in ["click", "buy"] {
                layers += [
                    DenseLayer(.innerProduct, bottomNames: ["shared_relu"], topNames: ["\(task)_fc"], numOutput: 8),
                    DenseLayer(.relu, bottomNames: ["\(task)_fc"], topNames: ["\(task)_relu"]),
                    DenseLayer(.innerProduct, bottomNames: ["\(task)_relu"], topNames: ["\(task)_logit"], numOutput: 1),
                    DenseLayer(.binaryCrossEntropyLoss, bottomNames: ["\(task)_logit", task], topNames: ["\(task)_loss"]),
                ]
            }
            return SmallModel(input: input, embeddings: [embedding("sparse_embedding1", "data1", vec: vec)], layers: layers,
                              lossWeights: (["click", "buy"], [1, 0.5]))
        }

        /// `count` batches of `size` samples; label columns in sorted name order (buy, click).
        public static func batches(_ count: Int, size: Int, seed: UInt64) -> [Batch] {
            SampleCollector.batches(count, size: size, seed: seed, stream: "SmallModels.TwoTask") { rng, samples in
                let x = (0..<denseDim).map { _ in Float(rng.nextNormal()) }
                let v = (0..<slots).map { _ in rng.nextInt(below: keysPerSlot) }
                let click: Float = x[0] + (v[0] % 2 == 0 ? 1 : -1) > 0 ? 1 : 0
                let buy: Float = x[1] + (v[1] < keysPerSlot / 2 ? 1 : -1) > 0 ? 1 : 0
                samples.add(labels: [buy, click], dense: x,
                            sparse: [v.enumerated().map { [Int64($0.offset * keysPerSlot + $0.element)] }])
            }
        }
    }
}

/// Samples gathered into a `Batch`: per sparse input, CSR rows of keys, slot after slot.
struct SampleCollector {
    private var labels: [Float] = [], dense: [Float] = []
    private var offsets: [[Int64]] = [], keys: [[Int64]] = []
    private var count = 0

    /// `count` batches of `size` samples, each added by `sample` with one generator of the stream
    /// named `stream` under `seed`.
    static func batches(_ count: Int, size: Int, seed: UInt64, stream: String,
                        sample: (inout CounterRNG, inout SampleCollector) -> Void) -> [Batch] {
        var rng = CounterRNG(seed: seed, stream: CounterRNG.stream(named: stream))
        return (0..<count).map { _ in
            var samples = SampleCollector()
            for _ in 0..<size { sample(&rng, &samples) }
            return samples.batch()
        }
    }

    /// One sample: `sparse[i][s]` holds the keys of slot s of sparse input i.
    mutating func add(label: Float, dense values: [Float], sparse: [[[Int64]]]) {
        add(labels: [label], dense: values, sparse: sparse)
    }

    /// One sample with several label columns (a multi-task Input's, in sorted label-name order).
    mutating func add(labels sample: [Float], dense values: [Float], sparse: [[[Int64]]]) {
        labels += sample
        dense += values
        if count == 0 {
            offsets = Array(repeating: [0], count: sparse.count)
            keys = Array(repeating: [], count: sparse.count)
        }
        for (i, slots) in sparse.enumerated() {
            for slot in slots {
                keys[i] += slot
                offsets[i].append(Int64(keys[i].count))
            }
        }
        count += 1
    }

    func batch() -> Batch {
        Batch(count: count, labels: labels, dense: dense,
              sparse: zip(offsets, keys).map { SparseBatch(rowOffsets: $0, keys: $1) })
    }
}
