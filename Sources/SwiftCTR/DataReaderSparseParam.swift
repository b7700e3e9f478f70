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
