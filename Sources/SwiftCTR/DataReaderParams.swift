/// `DataReaderType_t`: the file format of `DataReaderParams`; this version reads `.norm` and `.parquet`.
///
/// ```swift
/// let type = DataReaderType(rawValue: "Norm")   // .norm
/// ```
public enum DataReaderType: String, Sendable, Codable, CaseIterable {
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
    /// Reader threads; clamped to the number of files in a list and to 4 (Norm) or to the number
    /// of GPUs in `vvgpu` (Parquet, as HugeCTR).
    public var numWorkers: Int
    /// Parquet: slot k's keys are offset by `Σ_{j<k} slotSizeArray[j]` (zeros pad a shorter array).
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
        self.slotSizeArray = slotSizeArray
    }

    public init(dataReaderType: DataReaderType, source: String, evalSource: String, checkType: CheckType,
                numWorkers: Int = 12) {
        self.init(dataReaderType: dataReaderType, source: [source], evalSource: evalSource, checkType: checkType,
                  numWorkers: numWorkers)
    }
}

extension DataReaderParams {
    /// The format the reader type names, with this reader's options; `numSamples` is the Raw
    /// file's sample count (`num_samples` for training, `eval_num_samples` for evaluation).
    public func format(numSamples: Int) -> DataFormat {
        switch dataReaderType {
        case .norm: .norm(check: checkType)
        case .raw, .rawAsync: .raw(numSamples: numSamples, floatLabelDense: floatLabelDense)
        case .parquet: .parquet(slotSizeArray: slotSizeArray)
        }
    }
}
