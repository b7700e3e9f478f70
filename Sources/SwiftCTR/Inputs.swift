/// `DataReaderType_t`.
public enum DataReaderType: String, Sendable, Codable {
    case norm = "Norm", raw = "Raw", parquet = "Parquet", rawAsync = "RawAsync"
}

/// Where the training and evaluation data are, as HugeCTR's `DataReaderParams`.
///
/// ```swift
/// let reader = DataReaderParams(dataReaderType: .norm, source: ["./dcn_data/file_list.txt"],
///                               evalSource: "./dcn_data/file_list_test.txt", checkType: .sum)
/// ```
public struct DataReaderParams: Sendable, Codable, Equatable {
    public var dataReaderType: DataReaderType
    /// File lists (only the first is read, as in HugeCTR).
    public var source: [String]
    public var evalSource: String
    public var checkType: CheckType
    public var cacheEvalData: Int
    public var numSamples: Int
    public var evalNumSamples: Int
    public var floatLabelDense: Bool
    /// Reader threads; clamped to the number of files in a list (and to 4).
    public var numWorkers: Int
    public var sliceSize: [Int]
    public var slotSizeArray: [Int]

    public init(dataReaderType: DataReaderType, source: [String], evalSource: String, checkType: CheckType,
                cacheEvalData: Int = 0, numSamples: Int = 0, evalNumSamples: Int = 0, floatLabelDense: Bool = false,
                numWorkers: Int = 12, slotSizeArray: [Int] = []) {
        self.dataReaderType = dataReaderType
        self.source = source
        self.evalSource = evalSource
        self.checkType = checkType
        self.cacheEvalData = cacheEvalData
        self.numSamples = numSamples
        self.evalNumSamples = evalNumSamples
        self.floatLabelDense = floatLabelDense
        self.numWorkers = numWorkers
        self.sliceSize = []
        self.slotSizeArray = slotSizeArray
    }

    public init(dataReaderType: DataReaderType, source: String, evalSource: String, checkType: CheckType,
                numWorkers: Int = 12) {
        self.init(dataReaderType: dataReaderType, source: [source], evalSource: evalSource, checkType: checkType,
                  numWorkers: numWorkers)
    }
}

/// One sparse input of the `Input` layer: `slotNum` slots with at most `nnzPerSlot` keys each.
///
/// ```swift
/// DataReaderSparseParam("data1", 2, false, 26)
/// ```
public struct DataReaderSparseParam: Sendable, Codable, Equatable {
    public var topName: String
    public var nnzPerSlot: [Int]
    public var isFixedLength: Bool
    public var slotNum: Int

    public init(_ topName: String, _ nnzPerSlot: Int, _ isFixedLength: Bool, _ slotNum: Int) {
        self.init(topName, nnzPerSlot: Array(repeating: nnzPerSlot, count: max(slotNum, 0)), isFixedLength: isFixedLength,
                  slotNum: slotNum)
    }

    public init(_ topName: String, nnzPerSlot: [Int], isFixedLength: Bool, slotNum: Int) {
        self.topName = topName
        self.nnzPerSlot = nnzPerSlot
        self.isFixedLength = isFixedLength
        self.slotNum = slotNum
    }

    /// Keys one sample may hold in this input.
    public var maxFeatureNum: Int { nnzPerSlot.reduce(0, +) }
}

/// The data layer: label, dense features and sparse inputs, as HugeCTR's `Input`.
///
/// ```swift
/// model.add(Input(labelDim: 1, labelName: "label", denseDim: 13, denseName: "dense",
///                 dataReaderSparseParamArray: [DataReaderSparseParam("data1", 1, true, 26)]))
/// ```
public struct Input: Sendable, Codable, Equatable {
    public var labelDim: Int
    public var labelName: String
    public var denseDim: Int
    public var denseName: String
    public var dataReaderSparseParamArray: [DataReaderSparseParam]

    public init(labelDim: Int, labelName: String, denseDim: Int, denseName: String,
                dataReaderSparseParamArray: [DataReaderSparseParam]) {
        self.labelDim = labelDim
        self.labelName = labelName
        self.denseDim = denseDim
        self.denseName = denseName
        self.dataReaderSparseParamArray = dataReaderSparseParamArray
    }

    var layout: DataLayout {
        DataLayout(labelDim: labelDim, denseDim: denseDim,
                   sparse: dataReaderSparseParamArray.map {
                       SparseInputLayout(name: $0.topName, slotNum: $0.slotNum, maxNNZPerSample: $0.maxFeatureNum)
                   })
    }
}

/// A hash-based sparse embedding over one sparse input, as HugeCTR's `SparseEmbedding`.
///
/// ```swift
/// model.add(SparseEmbedding(embeddingType: .distributedSlotSparseEmbeddingHash, workspaceSizePerGPUInMB: 69,
///                           embeddingVecSize: 16, combiner: "sum", sparseEmbeddingName: "sparse_embedding1",
///                           bottomName: "data1", optimizer: optimizer))
/// ```
public struct SparseEmbedding: Sendable, Equatable {
    public var embeddingType: EmbeddingType
    public var workspaceSizePerGPUInMB: Int
    public var embeddingVecSize: Int
    /// "sum" or "mean".
    public var combiner: String
    public var sparseEmbeddingName: String
    public var bottomName: String
    public var slotSizeArray: [Int]
    /// nil: the model's optimizer.
    public var optimizer: OptimizerParams?

    public init(embeddingType: EmbeddingType, workspaceSizePerGPUInMB: Int = 0, embeddingVecSize: Int, combiner: String,
                sparseEmbeddingName: String, bottomName: String, slotSizeArray: [Int] = [],
                optimizer: OptimizerParams? = nil) {
        self.embeddingType = embeddingType
        self.workspaceSizePerGPUInMB = workspaceSizePerGPUInMB
        self.embeddingVecSize = embeddingVecSize
        self.combiner = combiner
        self.sparseEmbeddingName = sparseEmbeddingName
        self.bottomName = bottomName
        self.slotSizeArray = slotSizeArray
        self.optimizer = optimizer
    }
}
