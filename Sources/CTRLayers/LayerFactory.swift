import CTRCore

/// Builds a runtime layer from its `DenseLayer` description, checking the layer book's shape
/// rules first: every violation is a `SwiftCTRError` naming the layer, the tensors, what was
/// expected, what was found, and the fix.
public struct LayerFactory {
    public let backend: any Backend
    public let initializer: WeightInitializer

    public init(backend: any Backend, seed: UInt64) {
        self.backend = backend
        initializer = WeightInitializer(seed: seed)
    }

    /// An InnerProduct reading `inputs`, or with several of them their concatenation along the last
    /// axis (2D, equal rows): a Concat read only by this layer, folded into it. `halfType` and
    /// `outputType` are for mixed precision (see `InnerProduct.init`).
    public func makeInnerProduct(_ config: DenseLayer, concatenating inputs: [Variable], halfType: DType? = nil,
                                 outputType: DType = .float32) throws -> InnerProduct {
        let check = Checker(config: config, inputs: inputs)
        if inputs.count == 1 { try check.rank(in: [2, 3]) }
        try check.topCount(1)
        try check.positive(config.numOutput, "num_output")
        return InnerProduct(name: config.name, inputs: inputs, outputs: config.numOutput, weightInit: config.weightInitType,
                            biasInit: config.biasInitType, initializer: initializer, backend: backend,
                            halfType: halfType, outputType: outputType)
    }

    public func make(_ config: DenseLayer, inputs: [Variable]) throws -> any Layer {
        let check = Checker(config: config, inputs: inputs)
        let name = config.name
        guard !inputs.isEmpty else { throw check.error("no bottom tensor given; name the input(s) in bottom_names.") }
        switch config.layerType {
        case .innerProduct:
            try check.inputCount(1)
            return try makeInnerProduct(config, concatenating: inputs)
        case .relu, .sigmoid:
            try check.inputCount(1)
            try check.topCount(1)
            return Activation(config.layerType, name: name, input: inputs[0], backend: backend)
        case .dropout:
            try check.inputCount(1)
            try check.topCount(1)
            guard config.dropoutRate >= 0 && config.dropoutRate < 1 else {
                throw check.error("dropout_rate must be in [0, 1), found \(config.dropoutRate). Use e.g. 0.5; 0 disables dropout.")
            }
            return Dropout(name: name, input: inputs[0], rate: config.dropoutRate, backend: backend)
        case .add:
            try check.topCount(1)
            guard inputs.count >= 2 else { throw check.error("Add needs at least 2 bottom tensors, found \(inputs.count).") }
            try check.sameShapes()
            return Add(name: name, inputs: inputs, backend: backend)
        case .reduceSum:
            try check.inputCount(1)
            try check.topCount(1)
            let rank = inputs[0].shape.rank
            guard config.axis >= 1 && config.axis < rank else {
                throw check.error("axis must be a per-sample axis in 1..<\(rank) for input '\(inputs[0].name)' of shape \(inputs[0].shape), found \(config.axis). Axis 0 is the batch.")
            }
            return ReduceSum(name: name, input: inputs[0], axis: config.axis, backend: backend)
        case .concat:
            return try makeConcat(config, inputs, check)
        case .reshape:
            return try makeReshape(config, inputs[0], check)
        case .slice:
            return try makeSlice(config, inputs, check)
        case .multiCross:
            try check.inputCount(1)
            try check.topCount(1)
            try check.rank(in: [2])
            try check.positive(config.numLayers, "num_layers")
            guard config.projectionDim == 0 else {
                throw check.error("MultiCross with projection_dim > 0 (DCN v2) is not available yet; use projection_dim = 0 (DCN v1).")
            }
            return MultiCross(name: name, input: inputs[0], layers: config.numLayers, weightInit: config.weightInitType,
                              biasInit: config.biasInitType, initializer: initializer, backend: backend)
        case .interaction:
            try check.inputCount(2)
            try check.topCount(1)
            let dense = inputs[0], emb = inputs[1]
            guard dense.shape.rank == 2, emb.shape.rank == 3 else {
                throw check.error("expects bottoms [dense (batch, w), embeddings (batch, F, w)], found '\(dense.name)' \(dense.perSampleShape) and '\(emb.name)' \(emb.perSampleShape). Put the 2D bottom-MLP output first and the 3D embedding second.")
            }
            guard dense.shape[1] == emb.shape[2] else {
                throw check.error("the width of '\(dense.name)' (\(dense.shape[1])) must equal the embedding vector size of '\(emb.name)' (\(emb.shape[2])). Make the last bottom-MLP layer output \(emb.shape[2]).")
            }
            guard dense.shape[0] == emb.shape[0], dense.rowsPerSample == emb.rowsPerSample else {
                throw check.error("'\(dense.name)' and '\(emb.name)' must have the same batch rows, found \(dense.shape[0]) and \(emb.shape[0]).")
            }
            return Interaction(name: name, dense: dense, embeddings: emb, backend: backend)
        case .binaryCrossEntropyLoss:
            try check.inputCount(2)
            guard !config.useRegularizer else {
                throw check.error("use_regularizer = true (L1/L2 weight regularization) is not available in this version; set useRegularizer: false.")
            }
            guard inputs[0].shape.perSample == [1], inputs[1].shape.perSample == [1] else {
                throw check.error("expects bottoms [logits (batch, 1), label (batch, 1)], found '\(inputs[0].name)' \(inputs[0].perSampleShape) and '\(inputs[1].name)' \(inputs[1].perSampleShape). End the network with InnerProduct(num_output: 1).")
            }
            return BinaryCrossEntropyLoss(name: name, logits: inputs[0], label: inputs[1], backend: backend)
        default:
            throw check.error("layer type \(config.layerType.rawValue) is in the layer book but not implemented in this version of SwiftCTR. Available: \(LayerFactory.available.map(\.rawValue).joined(separator: ", ")).")
        }
    }

    /// The layer types this version builds.
    public static let available: [LayerType] = [
        .innerProduct, .relu, .sigmoid, .dropout, .add, .reduceSum, .concat, .reshape, .slice, .multiCross,
        .interaction, .binaryCrossEntropyLoss,
    ]

    private func makeConcat(_ config: DenseLayer, _ inputs: [Variable], _ check: Checker) throws -> any Layer {
        try check.topCount(1)
        guard inputs.count >= 2 else { throw check.error("Concat needs at least 2 bottom tensors, found \(inputs.count).") }
        let rank = inputs[0].shape.rank
        guard rank == 2 || rank == 3, inputs.allSatisfy({ $0.shape.rank == rank }) else {
            throw check.error("all bottoms must be 2D or all 3D, found \(check.describeInputs()). Reshape them to a common rank first.")
        }
        guard inputs.allSatisfy({ $0.shape[0] == inputs[0].shape[0] }) else {
            throw check.error("all bottoms must have the same number of rows, found \(check.describeInputs()).")
        }
        if rank == 3 {
            guard config.axis == 1 || config.axis == 2 else {
                throw check.error("3D Concat takes axis 1 or 2, found \(config.axis).")
            }
            let keep = config.axis == 1 ? 2 : 1
            guard inputs.allSatisfy({ $0.shape[keep] == inputs[0].shape[keep] }) else {
                throw check.error("concatenating on axis \(config.axis) needs equal dimension \(keep), found \(check.describeInputs()).")
            }
        }
        return Concat(name: config.name, inputs: inputs, axis: config.axis, backend: backend)
    }

    private func makeReshape(_ config: DenseLayer, _ input: Variable, _ check: Checker) throws -> any Layer {
        try check.inputCount(1)
        try check.topCount(1)
        let perSample = input.sampleCount, batch = input.maxBatch
        if config.selected {
            throw check.error("Reshape with selected = true is not available yet; reshape the whole tensor with leading_dim.")
        }
        if config.leadingDim > 0 {
            let lead = config.leadingDim
            let inner = lead * max(config.timeStep, 1)
            guard perSample % inner == 0 else {
                throw check.error("leading_dim\(config.timeStep > 0 ? " × time_step" : "") = \(inner) must divide the \(perSample) elements of one sample of '\(input.name)' \(input.perSampleShape). Use leading_dim = \(perSample) to flatten each sample.")
            }
            let rowsPerSample = perSample / inner
            let shape: Shape = config.timeStep > 0
                ? [batch * rowsPerSample, config.timeStep, lead] : [batch * rowsPerSample, lead]
            return Reshape(name: config.name, input: input, shape: shape, rowsPerSample: rowsPerSample)
        }
        let dims = config.shape
        guard dims.filter({ $0 == -1 }).count == 1, dims.first == -1, dims.dropFirst().allSatisfy({ $0 > 0 }) else {
            throw check.error("give leading_dim > 0, or shape = [-1, d1, …] with -1 first (the batch) and positive dims; found leading_dim \(config.leadingDim), shape \(dims).")
        }
        let rest = dims.dropFirst().reduce(1, *)
        guard rest == perSample else {
            throw check.error("shape \(dims) holds \(rest) elements per sample but '\(input.name)' \(input.perSampleShape) has \(perSample).")
        }
        return Reshape(name: config.name, input: input, shape: Shape([batch] + dims.dropFirst()), rowsPerSample: 1)
    }

    private func makeSlice(_ config: DenseLayer, _ inputs: [Variable], _ check: Checker) throws -> any Layer {
        try check.inputCount(1)
        let width = inputs[0].shape.last
        guard !config.ranges.isEmpty else { throw check.error("ranges is empty; give one [start, end) pair per top name.") }
        guard config.ranges.count == config.topNames.count else {
            throw check.error("\(config.ranges.count) ranges but \(config.topNames.count) top names; give one range per top.")
        }
        var ranges: [Range<Int>] = []
        for pair in config.ranges {
            guard pair.count == 2, pair[0] >= 0, pair[0] < pair[1], pair[1] <= width else {
                throw check.error("range \(pair) must be [start, end) with 0 ≤ start < end ≤ \(width) (the last dimension of '\(inputs[0].name)').")
            }
            if let previous = ranges.last, pair[0] < previous.lowerBound || pair[1] < previous.upperBound {
                throw check.error("ranges must be in increasing order (start and end each non-decreasing); \(pair) follows \([previous.lowerBound, previous.upperBound]).")
            }
            ranges.append(pair[0]..<pair[1])
        }
        return Slice(name: config.name, input: inputs[0], ranges: ranges, topNames: config.topNames, backend: backend)
    }
}

/// The shared checks of `LayerFactory`, phrased for the user.
struct Checker {
    let config: DenseLayer
    let inputs: [Variable]

    func error(_ message: String) -> SwiftCTRError {
        SwiftCTRError(.shape, "layer '\(config.name)' (\(config.layerType.rawValue)), bottoms \(config.bottomNames): \(message)")
    }

    func describeInputs() -> String {
        inputs.map { "'\($0.name)' \($0.perSampleShape)" }.joined(separator: ", ")
    }

    func inputCount(_ n: Int) throws {
        guard inputs.count == n else {
            throw error("expects \(n) bottom tensor\(n == 1 ? "" : "s"), found \(inputs.count). Fix bottom_names.")
        }
    }

    func topCount(_ n: Int) throws {
        guard config.topNames.count == n else {
            throw error("expects \(n) top name\(n == 1 ? "" : "s"), found \(config.topNames.count) (\(config.topNames)). Fix top_names.")
        }
    }

    func rank(in ranks: [Int]) throws {
        for input in inputs where !ranks.contains(input.shape.rank) {
            throw error("bottom '\(input.name)' must be \(ranks.map { "\($0)D" }.joined(separator: " or ")) (batch first), found \(input.shape.rank)D with per-sample shape \(input.perSampleShape). Add a Reshape before this layer.")
        }
    }

    func positive(_ value: Int, _ parameter: String) throws {
        guard value >= 1 else { throw error("\(parameter) must be ≥ 1, found \(value). Set \(parameter).") }
    }

    func sameShapes() throws {
        guard inputs.allSatisfy({ $0.shape == inputs[0].shape }) else {
            throw error("all bottoms must have the same shape, found \(describeInputs()).")
        }
    }
}
