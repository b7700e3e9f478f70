/// What one sample holds: labels, dense features and the slots of each sparse input, in order.
///
/// ```swift
/// let layout = DataLayout(labelDim: 1, denseDim: 13,
///                         sparse: [SparseInputLayout(name: "data1", slotNum: 26, maxNNZPerSample: 26)])
/// layout.totalSlots   // 26
/// ```
public struct DataLayout: Equatable, Codable, Sendable {
    public var labelDim: Int
    public var denseDim: Int
    public var sparse: [SparseInputLayout]

    public init(labelDim: Int, denseDim: Int, sparse: [SparseInputLayout]) {
        self.labelDim = labelDim
        self.denseDim = denseDim
        self.sparse = sparse
    }

    public var totalSlots: Int { sparse.reduce(0) { $0 + $1.slotNum } }

    /// Throws unless every dimension is usable by a reader.
    public func validate() throws {
        guard labelDim >= 1 else {
            throw DataError("label_dim must be at least 1", found: "\(labelDim)",
                            fix: "Set the Input's label_dim to the number of label columns (1 for CTR).")
        }
        guard denseDim >= 0 else {
            throw DataError("dense_dim must not be negative", found: "\(denseDim)", fix: "Use 0 for no dense features.")
        }
        guard !sparse.isEmpty else {
            throw DataError("the layout has no sparse input", fix: "Add at least one DataReaderSparseParam.")
        }
        for input in sparse {
            guard input.slotNum >= 1, input.maxNNZPerSample >= 0 else {
                throw DataError("sparse input '\(input.name)' has slot_num \(input.slotNum) and key capacity \(input.maxNNZPerSample)",
                                expected: "slot_num ≥ 1 and capacity ≥ 0",
                                fix: "Give every DataReaderSparseParam a positive slot_num and non-negative nnz_per_slot.")
            }
        }
    }
}
