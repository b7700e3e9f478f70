import CTRCore

/// Up to `batchSize` samples. Labels and dense values are row-major (`count × labelDim`,
/// `count × denseDim`); each sparse input is CSR over `count × slotNum` rows.
///
/// ```swift
/// let b = try reader.next()!
/// b.labels[3]                       // label of sample 3 (labelDim 1)
/// ```
///
/// A reader fills the arrays' buffers from the pool its backend gives (pinned memory on a GPU),
/// so uploads read them without another copy.
public struct Batch: Sendable {
    public var count: Int
    public var labels: HostArray<Float>
    public var dense: HostArray<Float>
    public var sparse: [SparseBatch]

    public init(count: Int, labels: HostArray<Float>, dense: HostArray<Float>, sparse: [SparseBatch]) {
        self.count = count
        self.labels = labels
        self.dense = dense
        self.sparse = sparse
    }

    public init(count: Int, labels: [Float], dense: [Float], sparse: [SparseBatch]) {
        self.init(count: count, labels: HostArray(labels), dense: HostArray(dense), sparse: sparse)
    }
}
