/// One sparse input (`hugectr.DataReaderSparseParam`): a run of consecutive slots of each sample.
///
/// ```swift
/// let s = SparseInputLayout(name: "data1", nnzPerSlot: [1, 1, 3])   // slotNum 3, capacity 5
/// ```
public struct SparseInputLayout: Equatable, Codable, Sendable {
    public var name: String
    public var slotNum: Int
    /// Key capacity per sample, `Σ nnz_per_slot`; a sample with more keys in this input is rejected.
    public var maxNNZPerSample: Int

    public init(name: String, slotNum: Int, maxNNZPerSample: Int) {
        self.name = name
        self.slotNum = slotNum
        self.maxNNZPerSample = maxNNZPerSample
    }

    public init(name: String, nnzPerSlot: [Int]) {
        self.init(name: name, slotNum: nnzPerSlot.count, maxNNZPerSample: nnzPerSlot.reduce(0, +))
    }
}
