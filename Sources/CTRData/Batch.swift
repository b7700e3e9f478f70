/// Up to `batchSize` samples. Labels and dense values are row-major (`count × labelDim`,
/// `count × denseDim`); each sparse input is CSR over `count × slotNum` rows.
///
/// ```swift
/// let b = try reader.next()!
/// b.labels[3]                       // label of sample 3 (labelDim 1)
/// ```
public struct Batch: Sendable {
    public var count: Int
    public var labels: [Float]
    public var dense: [Float]
    public var sparse: [SparseBatch]

    public init(count: Int, labels: [Float], dense: [Float], sparse: [SparseBatch]) {
        self.count = count
        self.labels = labels
        self.dense = dense
        self.sparse = sparse
    }
}
