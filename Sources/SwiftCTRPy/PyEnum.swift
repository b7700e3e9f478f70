import SwiftCTR

/// HugeCTR's Python enums (spec §1.2) with their member names in declaration order. A member
/// travels as `{"enum": "Layer_t", "name": "InnerProduct"}`; `Non` is Python's spelling of C++'s
/// `None`.
enum PyEnum: String, CaseIterable {
    case errorT = "Error_t", checkT = "Check_t", dataReaderSparseT = "DataReaderSparse_t"
    case dataReaderTypeT = "DataReaderType_t", fileSystemTypeT = "FileSystemType_t", sourceTypeT = "SourceType_t"
    case trainPSTypeT = "TrainPSType_t", embeddingT = "Embedding_t", initializerT = "Initializer_t"
    case groupLayerT = "GroupLayer_t", layerT = "Layer_t", alignmentT = "Alignment_t", lrPolicyT = "LrPolicy_t"
    case optimizerT = "Optimizer_t", updateT = "Update_t", activationT = "Activation_t", fcPositionT = "FcPosition_t"
    case regularizerT = "Regularizer_t", metricsRawType = "MetricsRawType", metricsType = "MetricsType"
    case deviceLayout = "DeviceLayout", allReduceAlgo = "AllReduceAlgo", distributionT = "Distribution_t"
    case powerLawT = "PowerLaw_t", tensorT = "Tensor_t", hybridEmbeddingType = "HybridEmbeddingType"
    case communicationType = "CommunicationType", communicationStrategy = "CommunicationStrategy"
    case compressionStrategy = "CompressionStrategy"

    var members: [String] {
        switch self {
        case .errorT: ["Success", "FileCannotOpen", "BrokenFile", "OutOfMemory", "OutOfBound", "WrongInput", "IllegalCall",
                       "NotInitialized", "UnSupportedFormat", "InvalidEnv", "MpiError", "CublasError", "CudnnError",
                       "CudaDriverError", "CudaRuntimeError", "NcclError", "DataCheckError", "UnspecificError", "EndOfFile"]
        case .checkT: ["Sum", "Non"]
        case .dataReaderSparseT: ["Distributed", "Localized"]
        case .dataReaderTypeT: ["Norm", "Raw", "Parquet", "RawAsync"]
        case .fileSystemTypeT: ["Local", "HDFS", "S3", "GCS", "Other"]
        case .sourceTypeT: ["FileList", "Mmap", "Parquet"]
        case .trainPSTypeT: ["Staged", "Cached"]
        case .embeddingT: ["DistributedSlotSparseEmbeddingHash", "LocalizedSlotSparseEmbeddingHash",
                           "LocalizedSlotSparseEmbeddingOneHot", "HybridSparseEmbedding"]
        case .initializerT: ["Default", "Uniform", "XavierNorm", "XavierUniform", "Zero"]
        case .groupLayerT: ["GroupFusedInnerProduct"]
        case .layerT: ["BatchNorm", "LayerNorm", "BinaryCrossEntropyLoss", "Reshape", "Select", "Concat", "CrossEntropyLoss",
                       "Dropout", "ElementwiseMultiply", "ELU", "InnerProduct", "FusedInnerProduct", "MLP", "Interaction",
                       "MultiCrossEntropyLoss", "ReLU", "ReLUHalf", "Sigmoid", "Slice", "WeightMultiply", "FmOrder2", "Add",
                       "ReduceSum", "Softmax", "Gather", "PReLU_Dice", "GRU", "MatrixMultiply", "MultiHeadAttention", "Scale",
                       "FusedReshapeConcat", "FusedReshapeConcatGeneral", "Sub", "ReduceMean", "MultiCross", "Cast",
                       "SequenceMask"]
        case .alignmentT: ["Auto", "Non"]
        case .lrPolicyT: ["fixed"]
        case .optimizerT: ["Ftrl", "Adam", "RMSProp", "AdaGrad", "MomentumSGD", "Nesterov", "SGD"]
        case .updateT: ["Local", "Global", "LazyGlobal"]
        case .activationT: ["Relu", "Non"]
        case .fcPositionT: ["Non", "Head", "Body", "Tail", "Isolated"]
        case .regularizerT: ["L1", "L2"]
        case .metricsRawType: ["Loss", "Pred", "Label"]
        case .metricsType: ["AUC", "AverageLoss", "HitRate", "NDCG", "SMAPE"]
        case .deviceLayout: ["LocalFirst", "NodeFirst"]
        case .allReduceAlgo: ["OneShot", "NCCL"]
        case .distributionT: ["Uniform", "PowerLaw"]
        case .powerLawT: ["Long", "Medium", "Short", "Specific"]
        case .tensorT: ["Train", "Evaluate"]
        case .hybridEmbeddingType: ["Distributed"]
        case .communicationType: ["IB_NVLink_Hier", "IB_NVLink", "NVLink_SingleNode"]
        case .communicationStrategy: ["Uniform", "Hierarchical"]
        case .compressionStrategy: ["Reduction", "Unique"]
        }
    }

    static func tag(_ type: PyEnum, _ member: String) -> JSONValue {
        .object(["enum": .string(type.rawValue), "name": .string(member)])
    }

    /// The member name when `value` is a member of this enum.
    func member(_ value: JSONValue) -> String? {
        guard case .object(let o) = value, o["enum"] == .string(rawValue), case .string(let name)? = o["name"],
              members.contains(name) else { return nil }
        return name
    }

    /// The C++/JSON spelling of a member (`Non` → `None`), which SwiftCTR's enums use as raw values.
    static func spelling(_ member: String) -> String { member == "Non" ? "None" : member }
}

extension Keywords {
    /// A member of `type` as the Swift enum whose raw values are HugeCTR's spellings.
    mutating func value<T: RawRepresentable>(_ name: String, of type: PyEnum, _ fallback: String? = nil,
                                             as _: T.Type = T.self) throws -> T where T.RawValue == String {
        let member = try member(name, of: type, fallback)
        guard let value = T(rawValue: PyEnum.spelling(member)) else {
            throw ArgumentError("\(owner): keyword '\(name)': \(type.rawValue).\(member) is not supported by SwiftCTR; see docs/compatibility.md.")
        }
        return value
    }
}
