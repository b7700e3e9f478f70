/// The data layer: labels, dense features and sparse inputs, as HugeCTR's `Input`.
///
/// A multi-task model names several labels, each read by one loss. The data's label columns go to
/// the labels in lexicographic order of their names (as in HugeCTR), each taking its
/// `labelDims` entry of consecutive columns.
///
/// ```swift
/// model.add(Input(labelDim: 1, labelName: "label", denseDim: 13, denseName: "dense",
///                 dataReaderSparseParamArray: [DataReaderSparseParam("data1", 1, true, 26)]))
/// // Two tasks: data column 0 is "clicked", column 1 is "liked" (names sorted).
/// model.add(Input(labelDims: [1, 1], labelNames: ["liked", "clicked"], denseDim: 13, denseName: "dense",
///                 dataReaderSparseParamArray: [DataReaderSparseParam("data1", 1, true, 26)]))
/// ```
public struct Input: Sendable, Codable, Equatable {
    /// Label columns of each label, paired with `labelNames`.
    public var labelDims: [Int]
    public var labelNames: [String]
    /// Each label's loss weight, paired with `labelNames` (empty: all 1);
    /// `Model.compile(lossNames:lossWeights:)` overrides them.
    public var labelWeights: [Float]
    public var denseDim: Int
    public var denseName: String
    public var dataReaderSparseParamArray: [DataReaderSparseParam]

    public init(labelDim: Int, labelName: String, denseDim: Int, denseName: String,
                dataReaderSparseParamArray: [DataReaderSparseParam]) {
        self.init(labelDims: [labelDim], labelNames: [labelName], denseDim: denseDim, denseName: denseName,
                  dataReaderSparseParamArray: dataReaderSparseParamArray)
    }

    /// A multi-label input (HugeCTR's `Input(label_dims, label_names, [label_weights], …)`).
    public init(labelDims: [Int], labelNames: [String], labelWeights: [Float] = [], denseDim: Int, denseName: String,
                dataReaderSparseParamArray: [DataReaderSparseParam]) {
        self.labelDims = labelDims
        self.labelNames = labelNames
        self.labelWeights = labelWeights
        self.denseDim = denseDim
        self.denseName = denseName
        self.dataReaderSparseParamArray = dataReaderSparseParamArray
    }

    /// Label columns of one sample in the data: the sum of `labelDims`.
    public var labelDim: Int { labelDims.reduce(0, +) }

    /// Each label's name, first data column and column count, in data order (names sorted).
    var labelColumns: [(name: String, offset: Int, width: Int)] {
        var offset = 0
        return zip(labelNames, labelDims).sorted { $0.0 < $1.0 }.map { name, width in
            defer { offset += width }
            return (name, offset, width)
        }
    }

    var layout: DataLayout {
        DataLayout(labelDim: labelDim, denseDim: denseDim,
                   sparse: dataReaderSparseParamArray.map {
                       SparseInputLayout(name: $0.topName, slotNum: $0.slotNum, maxNNZPerSample: $0.maxFeatureNum)
                   })
    }
}
