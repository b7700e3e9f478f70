/// HugeCTR's JSON `optimizer` block, both directions: an embedding's block in graph JSON (spec
/// §2.3, no learning rate) and the model's block of a legacy full configuration (§2.6, with
/// `learning_rate` and the schedule keys inside `<type>_hparam`).
///
/// ```swift
/// let block = CreateOptimizer(optimizerType: .adam).hugeCTRJSON()
/// // ["type": "Adam", "update_type": "Global", "adam_hparam": ["beta1": …, "beta2": …, "epsilon": …]]
/// ```
extension OptimizerParams {
    /// The block `graph_to_json` writes for an embedding.
    public func hugeCTRJSON() -> [String: JSONValue] {
        var block: [String: JSONValue] = ["type": .string(optimizerType.rawValue), "update_type": .string(updateType.rawValue)]
        let hparam: [String: JSONValue]
        switch optimizerType {
        case .adam: hparam = ["beta1": .float(beta1), "beta2": .float(beta2), "epsilon": .float(epsilon)]
        case .adaGrad: hparam = ["initial_accu_value": .float(initialAccuValue), "epsilon": .float(epsilon)]
        case .momentumSGD, .nesterov: hparam = ["momentum_factor": .float(momentumFactor)]
        case .sgd: hparam = ["atomic_update": .bool(atomicUpdate)]
        case .ftrl: hparam = ["beta": .float(beta), "lambda1": .float(lambda1), "lambda2": .float(lambda2)]
        case .rmsProp: return block
        }
        block[optimizerType.hparamKey] = .object(hparam)
        return block
    }

    /// Reads a block. `legacy` is the model block of a legacy configuration: `update_type`
    /// defaults to Local (or comes from `global_update`), `atomic_update` defaults to true, and
    /// the learning rate and schedule come back in `schedule`.
    package static func decodeHugeCTRJSON(_ reader: JSONEntryReader, legacy: Bool) throws
        -> (params: OptimizerParams, schedule: LearningRateSchedule?) {
        let types = OptimizerType.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
        let type = try reader.required("type", "one of \(types)", { $0.stringValue.flatMap(OptimizerType.init(rawValue:)) })
        var params = OptimizerParams(optimizerType: type)
        let updates = "\"Global\", \"Local\" or \"LazyGlobal\""
        if legacy {
            let global = try reader.optional("global_update", "true or false", \.boolValue)
            params.updateType = try reader.optional("update_type", updates, { $0.stringValue.flatMap(UpdateType.init(rawValue:)) })
                ?? (global == true ? .global : .local)
        } else {
            params.updateType = try reader.required("update_type", updates, { $0.stringValue.flatMap(UpdateType.init(rawValue:)) })
        }
        // RMSProp has no hyper-parameters in HugeCTR's JSON; a legacy block still holds the learning rate.
        guard type != .rmsProp || legacy else { return (params, nil) }
        let hparam = try reader.object(type.hparamKey)
        let number = { (key: String) in try hparam.required(key, "a number", \.floatValue) }
        switch type {
        case .adam: (params.beta1, params.beta2, params.epsilon) = (try number("beta1"), try number("beta2"), try number("epsilon"))
        case .adaGrad: (params.initialAccuValue, params.epsilon) = (try number("initial_accu_value"), try number("epsilon"))
        case .momentumSGD, .nesterov: params.momentumFactor = try number("momentum_factor")
        case .sgd:
            params.atomicUpdate = try legacy ? hparam.optional("atomic_update", "true or false", \.boolValue) ?? true
                : hparam.required("atomic_update", "true or false", \.boolValue)
        case .ftrl: (params.beta, params.lambda1, params.lambda2) = (try number("beta"), try number("lambda1"), try number("lambda2"))
        case .rmsProp: break
        }
        guard legacy else { return (params, nil) }
        let count = { (key: String, fallback: Int) in try hparam.optional(key, "an integer", \.intValue) ?? fallback }
        let schedule = LearningRateSchedule(
            lr: try number("learning_rate"), warmupSteps: try count("warmup_steps", 1), decayStart: try count("decay_start", 0),
            decaySteps: try count("decay_steps", 1), decayPower: try hparam.optional("decay_power", "a number", \.floatValue) ?? 2,
            endLR: try hparam.optional("end_lr", "a number", \.floatValue) ?? 0)
        return (params, schedule)
    }
}

/// The learning rate and its schedule as a legacy configuration's optimizer block gives them
/// (HugeCTR's solver fields `lr`, `warmup_steps`, `decay_start`, `decay_steps`, `decay_power`, `end_lr`).
///
/// ```swift
/// var solver = Solver()
/// LearningRateSchedule(lr: 0.5, warmupSteps: 300, decayStart: 0, decaySteps: 1, decayPower: 2, endLR: 0).apply(to: &solver)
/// ```
public struct LearningRateSchedule: Sendable, Equatable {
    public var lr: Float
    public var warmupSteps: Int
    public var decayStart: Int
    public var decaySteps: Int
    public var decayPower: Float
    public var endLR: Float

    public init(lr: Float, warmupSteps: Int, decayStart: Int, decaySteps: Int, decayPower: Float, endLR: Float) {
        (self.lr, self.warmupSteps, self.decayStart) = (lr, warmupSteps, decayStart)
        (self.decaySteps, self.decayPower, self.endLR) = (decaySteps, decayPower, endLR)
    }

    public func apply(to solver: inout Solver) {
        (solver.lr, solver.warmupSteps, solver.decayStart) = (lr, warmupSteps, decayStart)
        (solver.decaySteps, solver.decayPower, solver.endLR) = (decaySteps, decayPower, endLR)
    }
}

extension OptimizerType {
    /// The key of the optimizer's hyper-parameter object: `adam_hparam`, `momentum_sgd_hparam`, …
    var hparamKey: String {
        switch self {
        case .adam: "adam_hparam"
        case .adaGrad: "adagrad_hparam"
        case .momentumSGD: "momentum_sgd_hparam"
        case .nesterov: "nesterov_hparam"
        case .sgd: "sgd_hparam"
        case .ftrl: "ftrl_hparam"
        case .rmsProp: "rmsprop_hparam"
        }
    }
}
