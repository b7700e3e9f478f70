import SwiftCTR

/// The model `swiftctr train` trains without a JSON file, over a `swiftctr generate` dataset:
/// HugeCTR's DCN sample (`dcn`) or an MLP on the dense features (`dense-only`). `evaluate` and
/// `predict` build the same one to load its weights into.
///
/// ```swift
/// DefaultModel.add("dcn", to: model, dataset: config, deepWidth: 1024)
/// try model.compile()
/// ```
enum DefaultModel {
    static let kinds = ["dcn", "dense-only"]

    /// Adam as `swiftctr train` uses it.
    static let optimizer = CreateOptimizer(optimizerType: .adam, updateType: .global, beta1: 0.9, beta2: 0.999, epsilon: 1e-7)

    /// Adds the Input and the layers of `kind` for `dataset`'s shape.
    static func add(_ kind: String, to model: Model, dataset: SyntheticConfig, deepWidth: Int) {
        let sparse = DataReaderSparseParam("data1", nnzPerSlot: dataset.nnzPerSlot, isFixedLength: false,
                                           slotNum: dataset.slotSizes.count)
        model.add(Input(labelDim: 1, labelName: "label", denseDim: dataset.denseDim, denseName: "dense",
                        dataReaderSparseParamArray: [sparse]))
        guard kind == "dcn" else { return Recipes.denseOnly().forEach(model.add) }
        let rows = dataset.slotSizes.reduce(0, +)
        let workspaceMB = max(1, (rows * 16 * 4 * 3 * 5 / 4) >> 20 + 1)
        let (embedding, layers) = Recipes.dcn(sparseInput: sparse, workspaceMB: workspaceMB, deepWidth: deepWidth)
        model.add(embedding)
        layers.forEach(model.add)
    }
}
