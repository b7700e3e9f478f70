/// One dense layer of a model, as HugeCTR's `hugectr.DenseLayer` describes it: a type, bottom and
/// top tensor names, and the keyword parameters (each with HugeCTR's default). Unused parameters
/// are ignored by the layer types that don't read them, as in HugeCTR.
///
/// ```swift
/// model.add(DenseLayer(.innerProduct, bottomNames: ["concat1"], topNames: ["fc1"], numOutput: 1024))
/// ```
public struct DenseLayer: Sendable, Codable, Equatable {
    public var layerType: LayerType
    public var bottomNames: [String]
    public var topNames: [String]
    public var factor: Float
    public var eps: Float
    public var gammaInitType: Initializer
    public var betaInitType: Initializer
    public var dropoutRate: Float
    public var eluAlpha: Float
    public var numOutput: Int
    public var weightInitType: Initializer
    public var biasInitType: Initializer
    public var numLayers: Int
    public var leadingDim: Int
    public var timeStep: Int
    public var batchsize: Int
    public var seqLength: Int
    public var vectorSize: Int
    public var selected: Bool
    public var selectedSlots: [Int]
    public var ranges: [[Int]]
    public var indices: [Int]
    public var weightDims: [Int]
    public var projectionDim: Int
    public var outDim: Int
    public var axis: Int
    public var maxSequenceLenFrom: Int
    public var maxSequenceLenTo: Int
    public var numAttentionHeads: Int
    public var transposeB: Bool
    public var targetWeightVec: [Float]
    public var useRegularizer: Bool
    public var regularizerType: Regularizer
    public var lambda: Float
    public var posType: FcPosition
    public var actType: Activation
    public var numOutputs: [Int]
    public var useBias: Bool
    public var activations: [Activation]
    public var biases: [Bool]
    public var shape: [Int]
    public var dim: Int
    public var index: [Int]

    public init(
        _ layerType: LayerType, bottomNames: [String], topNames: [String],
        factor: Float = 1.0, eps: Float = 1e-5,
        gammaInitType: Initializer = .default, betaInitType: Initializer = .default,
        dropoutRate: Float = 0.5, eluAlpha: Float = 1.0, numOutput: Int = 1,
        weightInitType: Initializer = .default, biasInitType: Initializer = .default,
        numLayers: Int = 0, leadingDim: Int = 0, timeStep: Int = 0,
        batchsize: Int = 1, seqLength: Int = 1, vectorSize: Int = 1,
        selected: Bool = false, selectedSlots: [Int] = [], ranges: [[Int]] = [], indices: [Int] = [],
        weightDims: [Int] = [], projectionDim: Int = 0, outDim: Int = 0, axis: Int = 1,
        maxSequenceLenFrom: Int = 1, maxSequenceLenTo: Int = 1, numAttentionHeads: Int = 1,
        transposeB: Bool = false, targetWeightVec: [Float] = [],
        useRegularizer: Bool = false, regularizerType: Regularizer = .l1, lambda: Float = 0,
        posType: FcPosition = .none, actType: Activation = .relu,
        numOutputs: [Int] = [], useBias: Bool = true, activations: [Activation] = [], biases: [Bool] = [],
        shape: [Int] = [], dim: Int = 0, index: [Int] = []
    ) {
        self.layerType = layerType
        self.bottomNames = bottomNames
        self.topNames = topNames
        self.factor = factor
        self.eps = eps
        self.gammaInitType = gammaInitType
        self.betaInitType = betaInitType
        self.dropoutRate = dropoutRate
        self.eluAlpha = eluAlpha
        self.numOutput = numOutput
        self.weightInitType = weightInitType
        self.biasInitType = biasInitType
        self.numLayers = numLayers
        self.leadingDim = leadingDim
        self.timeStep = timeStep
        self.batchsize = batchsize
        self.seqLength = seqLength
        self.vectorSize = vectorSize
        self.selected = selected
        self.selectedSlots = selectedSlots
        self.ranges = ranges
        self.indices = indices
        self.weightDims = weightDims
        self.projectionDim = projectionDim
        self.outDim = outDim
        self.axis = axis
        self.maxSequenceLenFrom = maxSequenceLenFrom
        self.maxSequenceLenTo = maxSequenceLenTo
        self.numAttentionHeads = numAttentionHeads
        self.transposeB = transposeB
        self.targetWeightVec = targetWeightVec
        self.useRegularizer = useRegularizer
        self.regularizerType = regularizerType
        self.lambda = lambda
        self.posType = posType
        self.actType = actType
        self.numOutputs = numOutputs
        self.useBias = useBias
        self.activations = activations
        self.biases = biases
        self.shape = shape
        self.dim = dim
        self.index = index
    }

    /// Layer name for messages: the first top name.
    public var name: String { topNames.first ?? layerType.rawValue }
}
