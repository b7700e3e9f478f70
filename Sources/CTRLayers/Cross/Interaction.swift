import CTRCore

/// `Interaction` (DLRM dot interaction): inputs `x0 (B, w)` and `E (B, F, w)`; output
/// `(B, w + n(n−1)/2 + 1)`, n = F+1: x0, then the pairwise dot products of {x0, E_1…E_F} in
/// lower-triangle order, then one zero. Backward: with G the symmetric matrix of the pair
/// gradients, `dZ = G·Z` for Z = {x0, E_1…E_F}, plus `dY[0..<w]` into dx0. Cost: B·n²·w FLOPs forward.
///
/// ```swift
/// model.add(DenseLayer(.interaction, bottomNames: ["fc3", "sparse_embedding1"], topNames: ["interaction1"]))
/// ```
///
/// HugeCTR: `Interaction`. A backend may refuse sizes its kernel cannot run
/// (`validateInteraction`): the model then fails at compile, not in the first step.
public final class Interaction: RegisteredLayer {
    public let name: String
    public let inputs: [Variable]
    public let outputs: [Variable]
    let features: Int, width: Int
    let backend: any Backend

    package init(name: String, dense: Variable, embeddings: Variable, backend: any Backend) {
        self.name = name
        self.backend = backend
        inputs = [dense, embeddings]
        features = embeddings.shape[1]
        width = embeddings.shape[2]
        let n = features + 1
        outputs = [Variable(name: name, shape: [dense.shape[0], width + n * (n - 1) / 2 + 1], backend: backend,
                            rowsPerSample: dense.rowsPerSample)]
    }

    public func forward(_ context: StepContext) {
        backend.interaction(x0: inputs[0].value, emb: inputs[1].value, into: outputs[0].value,
                            batch: inputs[0].rows(context.batch), features: features, width: width)
    }

    public func backward(_ context: StepContext) {
        backend.interactionBackward(x0: inputs[0].value, emb: inputs[1].value, dy: outputs[0].grad,
                                    dx0: inputs[0].grad, demb: inputs[1].grad,
                                    batch: inputs[0].rows(context.batch), features: features, width: width)
    }

    // MARK: registry

    public static let layerType = LayerType.interaction
    public static let parameterNames: [String] = []

    public static func make(_ config: DenseLayer, inputs: [Variable], context: LayerBuildContext) throws -> any Layer {
        let check = Checker(config: config, inputs: inputs)
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
        try context.backend.validateInteraction(features: emb.shape[1], width: emb.shape[2])
        return Interaction(name: config.name, dense: dense, embeddings: emb, backend: context.backend)
    }

    public static var conformanceCases: [ConformanceCase] {
        /// Per sample, with Z_0 = x0 and Z_k = E_k: x0, then ⟨Z_i, Z_j⟩ for i < j in
        /// (0,1), (0,2), (1,2), (0,3), … order, then one zero.
        func interaction(features: Int, width: Int) -> ConformanceCase {
            ConformanceCase("Interaction of \(features) vectors of \(width)",
                            DenseLayer(.interaction, bottomNames: ["dense", "embeddings"], topNames: ["interaction"]),
                            inputs: [ConformanceInput([width]), ConformanceInput([features, width])], batch: 3) { r in
                let n = features + 1
                return [(0..<r.batch).flatMap { b in
                    func z(_ i: Int, _ k: Int) -> Double {
                        i == 0 ? r.inputs[0][b * width + k] : r.inputs[1][(b * features + i - 1) * width + k]
                    }
                    let pairs = (1..<n).flatMap { j in (0..<j).map { i in (0..<width).reduce(0) { $0 + z(i, $1) * z(j, $1) } } }
                    return (0..<width).map { z(0, $0) } + pairs + [0]
                }]
            }
        }
        return [interaction(features: 3, width: 4), interaction(features: 5, width: 2)]
    }
}
