/// Norm per-record integrity check (`hugectr.Check_t`): `.sum` frames the header and every sample
/// with a length and an 8-bit byte sum.
///
/// ```swift
/// let check = CheckType(rawValue: "Sum")   // .sum
/// ```
public enum CheckType: String, Codable, Sendable {
    case sum = "Sum"
    case none = "None"

    /// Value of the header's `error_check` field.
    public var headerValue: Int64 { self == .sum ? 1 : 0 }
}

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

/// The keys of one sparse input for a batch, as CSR rows in sample-major order: the keys of
/// sample `b`, slot `s` are `keys[rowOffsets[b*slotNum+s] ..< rowOffsets[b*slotNum+s+1]]`.
///
/// ```swift
/// let row = sb.keys[Int(sb.rowOffsets[r]) ..< Int(sb.rowOffsets[r + 1])]
/// ```
public struct SparseBatch: Sendable {
    public let rowOffsets: [Int64]
    public let keys: [Int64]
    /// Every row holds exactly one key (offsets are 0, 1, …, n), so a trainer may skip uploading
    /// them. Computed once here, on the reader's thread.
    public let isOneHot: Bool

    public init(rowOffsets: [Int64], keys: [Int64]) {
        self.rowOffsets = rowOffsets
        self.keys = keys
        isOneHot = keys.count + 1 == rowOffsets.count && rowOffsets.withUnsafeBufferPointer { offsets in
            var i = 0
            while i < offsets.count && offsets[i] == Int64(i) { i += 1 }
            return i == offsets.count
        }
    }

    /// Keys of one CSR row.
    public func row(_ r: Int) -> ArraySlice<Int64> {
        keys[Int(rowOffsets[r]) ..< Int(rowOffsets[r + 1])]
    }
}
