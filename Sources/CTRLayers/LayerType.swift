/// Every dense layer type of HugeCTR's layer book, with HugeCTR's spelling as raw value.
public enum LayerType: String, CaseIterable, Sendable, Codable {
    case batchNorm = "BatchNorm"
    case layerNorm = "LayerNorm"
    case binaryCrossEntropyLoss = "BinaryCrossEntropyLoss"
    case reshape = "Reshape"
    case select = "Select"
    case concat = "Concat"
    case crossEntropyLoss = "CrossEntropyLoss"
    case dropout = "Dropout"
    case elementwiseMultiply = "ElementwiseMultiply"
    case elu = "ELU"
    case innerProduct = "InnerProduct"
    case fusedInnerProduct = "FusedInnerProduct"
    case mlp = "MLP"
    case interaction = "Interaction"
    case multiCrossEntropyLoss = "MultiCrossEntropyLoss"
    case relu = "ReLU"
    case reluHalf = "ReLUHalf"
    case sigmoid = "Sigmoid"
    case slice = "Slice"
    case weightMultiply = "WeightMultiply"
    case fmOrder2 = "FmOrder2"
    case add = "Add"
    case reduceSum = "ReduceSum"
    case softmax = "Softmax"
    case gather = "Gather"
    case preluDice = "PReLU_Dice"
    case gru = "GRU"
    case matrixMultiply = "MatrixMultiply"
    case multiHeadAttention = "MultiHeadAttention"
    case scale = "Scale"
    case fusedReshapeConcat = "FusedReshapeConcat"
    case fusedReshapeConcatGeneral = "FusedReshapeConcatGeneral"
    case sub = "Sub"
    case reduceMean = "ReduceMean"
    case multiCross = "MultiCross"
    case cast = "Cast"
    case sequenceMask = "SequenceMask"

    /// The layer book's spelling of `matrixMultiply` (`hugectr.Layer_t.MatrixMutiply`).
    public static let matrixMutiply = LayerType.matrixMultiply

    /// The type HugeCTR names `name`: its raw value, or a spelling the layer book uses for it
    /// ("MatrixMutiply"). JSON graphs decode through this too.
    ///
    /// ```swift
    /// LayerType(hugeCTRName: "MatrixMutiply")  // .matrixMultiply
    /// ```
    public init?(hugeCTRName name: String) {
        guard let type = LayerType(rawValue: name) ?? Self.bookSpellings[name] else { return nil }
        self = type
    }

    static let bookSpellings: [String: LayerType] = ["MatrixMutiply": .matrixMultiply]

    /// Decodes HugeCTR's name of the type, the book's spellings included.
    public init(from decoder: any Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        guard let type = LayerType(hugeCTRName: name) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "unknown layer type '\(name)'"))
        }
        self = type
    }

    /// Loss layers take `[logits, label]` and produce the scalar loss.
    public var isLoss: Bool {
        self == .binaryCrossEntropyLoss || self == .crossEntropyLoss || self == .multiCrossEntropyLoss
    }
}
