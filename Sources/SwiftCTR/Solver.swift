import CTRCore

/// `LrPolicy_t`: HugeCTR has one policy.
public enum LrPolicy: String, Sendable, Codable { case fixed }

/// The training-wide settings of HugeCTR's `CreateSolver`, with its defaults.
///
/// ```swift
/// let solver = Solver(maxEvalBatches: 300, batchsizeEval: 16384, batchsize: 16384, lr: 0.001,
///                     vvgpu: [[0]], repeatDataset: true)
/// ```
public struct Solver: Sendable, Codable, Equatable {
    public var modelName: String
    /// 0 draws a seed from the system's generator.
    public var seed: UInt64
    public var lrPolicy: LrPolicy
    public var lr: Float
    public var warmupSteps: Int
    public var decayStart: Int
    public var decaySteps: Int
    public var decayPower: Float
    public var endLR: Float
    public var maxEvalBatches: Int
    public var batchsizeEval: Int
    public var batchsize: Int
    /// Devices per node: with `devices: .cuda`, the GPU ordinals (`[[0, 1, 2, 3]]`: one worker per
    /// GPU of this host, over NCCL; one list per process under mpirun). On the
    /// CPU backend, N entries in all (`[[0, 1, …, N−1]]`) train with N simulated workers
    /// (`workerCount`): each holds its shard of every embedding and runs the dense network on its
    /// `batchsize / N` samples, as HugeCTR's GPUs do (`WorkerGroup`).
    public var vvgpu: [[Int]]
    /// Where `Model` trains when it is given no backend: `.cpu` (the default) or `.cuda` on the
    /// GPU that `vvgpu` names.
    public var devices: Devices
    public var repeatDataset: Bool
    public var useMixedPrecision: Bool
    /// The 16-bit type of mixed precision: `.bfloat16` (SwiftCTR's default, needs no loss scaling)
    /// or `.float16` (HugeCTR's, with a `scaler` such as 1024 to keep small gradients from underflowing).
    public var mixedPrecisionType: DType
    public var enableTF32Compute: Bool
    public var scaler: Float
    /// Metric → threshold; training stops once AUC exceeds its threshold.
    public var metricsSpec: [MetricsType: Float]
    public var i64InputKey: Bool
    public var useAlgorithmSearch: Bool
    public var useCudaGraph: Bool
    public var genLossSummary: Bool
    public var dropIncompleteBatch: Bool

    public init(modelName: String = "", seed: UInt64 = 0, lrPolicy: LrPolicy = .fixed, lr: Float = 0.001,
                warmupSteps: Int = 1, decayStart: Int = 0, decaySteps: Int = 1, decayPower: Float = 2.0,
                endLR: Float = 0.0, maxEvalBatches: Int = 100, batchsizeEval: Int = 2048, batchsize: Int = 2048,
                vvgpu: [[Int]] = [[0]], devices: Devices = .cpu, repeatDataset: Bool = true,
                useMixedPrecision: Bool = false, mixedPrecisionType: DType = .bfloat16,
                enableTF32Compute: Bool = false, scaler: Float = 1.0, metricsSpec: [MetricsType: Float] = [.auc: 1.0],
                i64InputKey: Bool = false, useAlgorithmSearch: Bool = true, useCudaGraph: Bool = true,
                genLossSummary: Bool = true, dropIncompleteBatch: Bool = true) {
        self.modelName = modelName
        self.seed = seed
        self.lrPolicy = lrPolicy
        self.lr = lr
        self.warmupSteps = warmupSteps
        self.decayStart = decayStart
        self.decaySteps = decaySteps
        self.decayPower = decayPower
        self.endLR = endLR
        self.maxEvalBatches = maxEvalBatches
        self.batchsizeEval = batchsizeEval
        self.batchsize = batchsize
        self.vvgpu = vvgpu
        self.devices = devices
        self.repeatDataset = repeatDataset
        self.useMixedPrecision = useMixedPrecision
        self.mixedPrecisionType = mixedPrecisionType
        self.enableTF32Compute = enableTF32Compute
        self.scaler = scaler
        self.metricsSpec = metricsSpec
        self.i64InputKey = i64InputKey
        self.useAlgorithmSearch = useAlgorithmSearch
        self.useCudaGraph = useCudaGraph
        self.genLossSummary = genLossSummary
        self.dropIncompleteBatch = dropIncompleteBatch
    }

    /// The workers (GPUs, or simulated workers on the CPU) that `vvgpu` lists: HugeCTR's global
    /// GPU count.
    public var workerCount: Int { vvgpu.reduce(0) { $0 + $1.count } }

    /// Throws for settings HugeCTR rejects, or that this build cannot honour.
    public func validate() throws {
        func fail(_ message: String) -> SwiftCTRError { SwiftCTRError(.config, "Solver: " + message) }
        guard batchsize > 0 else { throw fail("batchsize must be ≥ 1, found \(batchsize).") }
        guard batchsizeEval > 0 else { throw fail("batchsize_eval must be ≥ 1, found \(batchsizeEval).") }
        guard maxEvalBatches > 0 else { throw fail("max_eval_batches must be ≥ 1, found \(maxEvalBatches).") }
        guard lr >= 0, lr.isFinite else { throw fail("lr must be a finite value ≥ 0, found \(lr).") }
        guard scaler > 0 else { throw fail("scaler must be > 0, found \(scaler).") }
        guard !vvgpu.isEmpty, vvgpu.allSatisfy({ !$0.isEmpty }) else {
            throw fail("vvgpu must list at least one device per node, found \(vvgpu). Use [[0]].")
        }
        let devices = workerCount
        guard batchsize % devices == 0 else {
            throw fail("batchsize \(batchsize) must be a multiple of the \(devices) devices in vvgpu, as each trains on an equal share of a batch. Use a batch size divisible by \(devices), or another number of devices.")
        }
        guard batchsizeEval % devices == 0 else {
            throw fail("batchsize_eval \(batchsizeEval) must be a multiple of the \(devices) devices in vvgpu, as each evaluates an equal share of a batch. Use a batch size divisible by \(devices), or another number of devices.")
        }
        guard mixedPrecisionType == .bfloat16 || mixedPrecisionType == .float16 else {
            throw fail("mixedPrecisionType must be .bfloat16 or .float16, found .\(mixedPrecisionType).")
        }
        if self.devices == .cuda, let node = vvgpu.first(where: { $0.contains { $0 < 0 } || Set($0).count != $0.count }) {
            throw fail("devices: .cuda needs GPU ordinals ≥ 0, each once per node, but vvgpu names \(node) in \(vvgpu). Use e.g. vvgpu: [[0, 1]].")
        }
        if useMixedPrecision && enableTF32Compute {
            throw fail("use_mixed_precision and enable_tf32_compute cannot both be on; pick one.")
        }
        _ = try LearningRateScheduler(baseLR: lr, warmupSteps: warmupSteps, decayStart: decayStart,
                                      decaySteps: decaySteps, decayPower: decayPower, endLR: endLR)
    }
}

/// Spelling of HugeCTR's `hugectr.CreateSolver(...)`.
public func CreateSolver(modelName: String = "", seed: UInt64 = 0, lr: Float = 0.001, warmupSteps: Int = 1,
                         decayStart: Int = 0, decaySteps: Int = 1, decayPower: Float = 2.0, endLR: Float = 0.0,
                         maxEvalBatches: Int = 100, batchsizeEval: Int = 2048, batchsize: Int = 2048,
                         vvgpu: [[Int]] = [[0]], repeatDataset: Bool = true, useMixedPrecision: Bool = false,
                         scaler: Float = 1.0, i64InputKey: Bool = false) -> Solver {
    Solver(modelName: modelName, seed: seed, lr: lr, warmupSteps: warmupSteps, decayStart: decayStart,
           decaySteps: decaySteps, decayPower: decayPower, endLR: endLR, maxEvalBatches: maxEvalBatches,
           batchsizeEval: batchsizeEval, batchsize: batchsize, vvgpu: vvgpu, repeatDataset: repeatDataset,
           useMixedPrecision: useMixedPrecision, scaler: scaler, i64InputKey: i64InputKey)
}
