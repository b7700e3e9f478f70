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

    /// Loss layers take `[logits, label]` and produce the scalar loss.
    public var isLoss: Bool {
        self == .binaryCrossEntropyLoss || self == .crossEntropyLoss || self == .multiCrossEntropyLoss
    }
}

/// `Initializer_t`: how a weight tensor starts. `.default` is the layer's own choice.
public enum Initializer: String, Sendable, Codable {
    case `default` = "Default"
    case uniform = "Uniform"
    case xavierNorm = "XavierNorm"
    case xavierUniform = "XavierUniform"
    case zero = "Zero"
}

/// `Regularizer_t`.
public enum Regularizer: String, Sendable, Codable {
    case l1 = "L1"
    case l2 = "L2"
}
