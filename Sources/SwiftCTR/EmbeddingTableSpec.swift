/// What a `SparseEmbedding` builds, resolved once for one worker's table and for sharded ones:
/// its sparse optimizer and its table (a hash table's one-worker capacity, from
/// `workspace_size_per_gpu_in_mb` or `slot_size_array`, and how its rows start; or OneHot's slot
/// sizes).
///
/// ```swift
/// let resolved = try EmbeddingTableSpec(spec, sparse: input.dataReaderSparseParamArray[0], modelOptimizer: optimizer,
///                                       backend: backend)
/// if case .hash(let capacity, _) = resolved.table { print(capacity) }
/// ```
struct EmbeddingTableSpec {
    let optimizer: SparseOptimizer
    let table: ShardedEmbedding.Table

    init(_ spec: SparseEmbedding, sparse: DataReaderSparseParam, modelOptimizer: OptimizerParams, backend: any Backend) throws {
        let params = spec.optimizer ?? modelOptimizer
        do {
            try params.validateForSparse()
        } catch let error as SwiftCTRError {
            throw SwiftCTRError(.config, "SparseEmbedding '\(spec.sparseEmbeddingName)': \(error.message)")
        }
        let global = params.updateType != .local
        optimizer = switch params.optimizerType {
        case .adam:
            .adam(beta1: params.beta1, beta2: params.beta2, epsilon: params.epsilon, global: global,
                  lazy: params.updateType == .lazyGlobal)
        case .adaGrad: .adaGrad(initialAccuValue: params.initialAccuValue, epsilon: params.epsilon)
        case .momentumSGD: .momentumSGD(factor: params.momentumFactor, global: global)
        case .nesterov: .nesterov(mu: params.momentumFactor, global: global)
        case .sgd: .sgd
        case .ftrl: .ftrl(beta: params.beta, lambda1: params.lambda1, lambda2: params.lambda2)
        case .rmsProp: preconditionFailure("validateForSparse refuses RMSProp")
        }
        if case .ftrl = optimizer, !backend.hasSparseFtrl {
            throw SwiftCTRError(.config, "SparseEmbedding '\(spec.sparseEmbeddingName)': optimizer Ftrl has no sparse update on this backend (SwiftCTR updates embeddings with Ftrl on the CPU backend only; HugeCTR's hash embeddings have none). Train on the CPU, or give the SparseEmbedding another optimizer (e.g. optimizer: CreateOptimizer(optimizerType: .adaGrad)).")
        }
        if spec.embeddingType == .localizedSlotSparseEmbeddingOneHot {
            table = .oneHot(slotSizes: spec.slotSizeArray)
            return
        }
        let bytesPerRow = (1 + params.stateCopies) * 4 * spec.embeddingVecSize
        let fromSlots = !spec.slotSizeArray.isEmpty
            && (spec.embeddingType == .localizedSlotSparseEmbeddingHash || spec.workspaceSizePerGPUInMB == 0)
        let capacity = fromSlots ? spec.slotSizeArray.reduce(0, +) : spec.workspaceSizePerGPUInMB * (1 << 20) / bytesPerRow
        guard capacity >= 1 else {
            throw SwiftCTRError(.config, "SparseEmbedding '\(spec.sparseEmbeddingName)': workspace_size_per_gpu_in_mb = \(spec.workspaceSizePerGPUInMB) holds no row of \(bytesPerRow) bytes; raise it.")
        }
        table = .hash(capacity: capacity, initialValues: fromSlots && spec.embeddingType == .localizedSlotSparseEmbeddingHash
            ? .perSlot(spec.slotSizeArray) : .uniform(0.05))
    }
}
