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
