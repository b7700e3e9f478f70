/// Checks a model definition as a whole before any memory is allocated: the input, the embeddings,
/// unique top names, every bottom defined earlier, one loss per label, the loss weights. Every
/// problem is a `SwiftCTRError` that names the layer and the fix. `GraphPasses` rewrites the
/// checked layers next.
///
/// ```swift
/// let analysis = try GraphAnalysis(input: input, embeddings: [embedding], layers: layers)
/// ```
struct GraphAnalysis {
    let input: Input
    let embeddings: [SparseEmbedding]
    /// The dense layers, as added.
    let layers: [DenseLayer]
    /// Each label's loss weight: from `Model.compile(lossNames:lossWeights:)`, else the Input's
    /// `labelWeights`, else 1.
    let lossWeights: [String: Float]

    /// `lossWeights` are `compile(lossNames:lossWeights:)`'s, by label name.
    init(input: Input, embeddings: [SparseEmbedding], layers: [DenseLayer], lossWeights: [String: Float] = [:]) throws {
        self.input = input
        self.embeddings = embeddings
        self.layers = layers
        var weights: [String: Float] = [:]
        for (i, name) in input.labelNames.enumerated() {
            weights[name] = lossWeights[name] ?? (input.labelWeights.isEmpty ? 1 : input.labelWeights[i])
        }
        self.lossWeights = weights
        try checkInput()
        try checkLossWeights(lossWeights)
        let labels = Set(input.labelNames)
        var known = labels.union([input.denseName])
        let sparseNames = Set(input.dataReaderSparseParamArray.map(\.topName))
        known.formUnion(sparseNames)
        for embedding in embeddings {
            try checkEmbedding(embedding, sparseNames: sparseNames, known: known)
            known.insert(embedding.sparseEmbeddingName)
        }
        for layer in layers {
            try checkNames(layer, known: known, sparseNames: sparseNames, labels: labels)
            known.formUnion(layer.topNames)
        }
        guard layers.contains(where: { $0.layerType.isLoss }) else {
            throw SwiftCTRError(.config, "the model has no loss layer. Add DenseLayer(.binaryCrossEntropyLoss, bottomNames: [<logits>, \"\(input.labelNames[0])\"], topNames: [\"loss\"]) last.")
        }
        for label in input.labelNames {
            let readers = layers.filter { $0.layerType.isLoss && $0.bottomNames[1] == label }.map(\.name)
            guard readers.count == 1 else {
                throw SwiftCTRError(.config, readers.isEmpty
                    ? "label '\(label)' is read by no loss layer; give every label of the Input one loss, e.g. DenseLayer(.binaryCrossEntropyLoss, bottomNames: [<logits>, \"\(label)\"], topNames: [\"\(label)_loss\"])."
                    : "label '\(label)' is read by \(readers.count) loss layers (\(readers.joined(separator: ", "))); each label has exactly one loss.")
            }
        }
    }

    private func checkLossWeights(_ lossWeights: [String: Float]) throws {
        for name in lossWeights.keys.sorted() where !input.labelNames.contains(name) {
            throw SwiftCTRError(.config, "compile: loss name '\(name)' is not a label of the Input; loss names are label names: \(input.labelNames).")
        }
        for (name, weight) in self.lossWeights.sorted(by: { $0.key < $1.key }) where !weight.isFinite {
            throw SwiftCTRError(.config, "the loss weight of label '\(name)' must be finite, found \(weight).")
        }
    }

    private func checkInput() throws {
        func fail(_ message: String) -> SwiftCTRError { SwiftCTRError(.config, "Input: " + message) }
        guard !input.labelNames.isEmpty, input.labelDims.count == input.labelNames.count else {
            throw fail("label_dims has \(input.labelDims.count) entries for \(input.labelNames.count) label_names \(input.labelNames); give one label dim per label name.")
        }
        guard input.labelWeights.isEmpty || input.labelWeights.count == input.labelNames.count else {
            throw fail("label_weights has \(input.labelWeights.count) entries for \(input.labelNames.count) labels; give one weight per label (or none for all 1).")
        }
        for (name, dim) in zip(input.labelNames, input.labelDims) where dim < 1 {
            throw fail("label_dim must be ≥ 1, found \(dim)\(input.labelNames.count > 1 ? " for label '\(name)'" : "").")
        }
        guard input.denseDim >= 0 else { throw fail("dense_dim must be ≥ 0, found \(input.denseDim).") }
        var names: Set<String> = []
        for name in input.labelNames + [input.denseName] {
            guard !name.isEmpty, names.insert(name).inserted else {
                throw fail("label and dense names must be distinct and non-empty, found labels \(input.labelNames) and dense '\(input.denseName)'.")
            }
        }
        guard !input.dataReaderSparseParamArray.isEmpty else {
            throw fail("data_reader_sparse_param_array is empty; give at least one DataReaderSparseParam.")
        }
        for sparse in input.dataReaderSparseParamArray {
            guard sparse.slotNum > 0 else { throw fail("sparse input '\(sparse.topName)': slot_num must be ≥ 1, found \(sparse.slotNum).") }
            guard sparse.nnzPerSlot.count == sparse.slotNum else {
                throw fail("sparse input '\(sparse.topName)': nnz_per_slot has \(sparse.nnzPerSlot.count) entries for \(sparse.slotNum) slots; give one per slot or a single number.")
            }
            guard sparse.nnzPerSlot.allSatisfy({ $0 >= 1 }) else {
                throw fail("sparse input '\(sparse.topName)': every nnz_per_slot must be ≥ 1, found \(sparse.nnzPerSlot).")
            }
            guard names.insert(sparse.topName).inserted, !sparse.topName.isEmpty else {
                throw fail("sparse input name '\(sparse.topName)' is empty or already used; give each input a unique name.")
            }
        }
    }

    private func checkEmbedding(_ e: SparseEmbedding, sparseNames: Set<String>, known: Set<String>) throws {
        func fail(_ message: String) -> SwiftCTRError {
            SwiftCTRError(.config, "SparseEmbedding '\(e.sparseEmbeddingName)': " + message)
        }
        guard sparseNames.contains(e.bottomName) else {
            throw fail("bottom_name '\(e.bottomName)' is not a sparse input of the Input layer; expected one of \(sparseNames.sorted()).")
        }
        guard !known.contains(e.sparseEmbeddingName), !e.sparseEmbeddingName.isEmpty else {
            throw fail("the name is empty or already used by another tensor; give the embedding a unique sparse_embedding_name.")
        }
        guard (1...1024).contains(e.embeddingVecSize) else {
            throw fail("embedding_vec_size must be in 1...1024, found \(e.embeddingVecSize).")
        }
        guard Combiner(rawValue: e.combiner) != nil else {
            throw fail("combiner must be \"sum\" or \"mean\", found \"\(e.combiner)\".")
        }
        guard e.embeddingType != .localizedSlotSparseEmbeddingOneHot || !e.slotSizeArray.isEmpty else {
            throw fail("LocalizedSlotSparseEmbeddingOneHot needs slot_size_array: it maps keys to rows. Give one size (the slot's key count) per slot.")
        }
        guard e.workspaceSizePerGPUInMB > 0 || !e.slotSizeArray.isEmpty else {
            throw fail("give workspace_size_per_gpu_in_mb > 0 or slot_size_array, so the table can be sized.")
        }
        guard e.workspaceSizePerGPUInMB >= 0, e.slotSizeArray.allSatisfy({ $0 >= 0 }) else {
            throw fail("workspace_size_per_gpu_in_mb and slot_size_array must not be negative.")
        }
        let slots = input.dataReaderSparseParamArray.first { $0.topName == e.bottomName }!.slotNum
        guard e.slotSizeArray.isEmpty || e.slotSizeArray.count == slots else {
            throw fail("slot_size_array has \(e.slotSizeArray.count) entries but input '\(e.bottomName)' has \(slots) slots.")
        }
    }

    private func checkNames(_ layer: DenseLayer, known: Set<String>, sparseNames: Set<String>, labels: Set<String>) throws {
        func fail(_ message: String) -> SwiftCTRError {
            SwiftCTRError(.config, "layer '\(layer.name)' (\(layer.layerType.rawValue)): " + message)
        }
        guard !layer.topNames.isEmpty else { throw fail("top_names is empty; name the output tensor.") }
        guard !layer.bottomNames.isEmpty else { throw fail("bottom_names is empty; name the input tensor(s).") }
        for bottom in layer.bottomNames where !known.contains(bottom) {
            throw fail("bottom '\(bottom)' is not defined by the Input, an embedding or an earlier layer. Known tensors: \(known.sorted().joined(separator: ", ")).")
        }
        for bottom in layer.bottomNames where sparseNames.contains(bottom) {
            throw fail("bottom '\(bottom)' is a sparse input; dense layers read it through a SparseEmbedding's output.")
        }
        var seen = Set<String>()
        for top in layer.topNames where known.contains(top) || !seen.insert(top).inserted || top.isEmpty {
            throw fail("top name '\(top)' already exists (or is empty); every top name must be new.")
        }
        if layer.layerType.isLoss {
            guard layer.bottomNames.count == 2, labels.contains(layer.bottomNames[1]), !labels.contains(layer.bottomNames[0]) else {
                let quoted = input.labelNames.map { "\"\($0)\"" }
                let label = quoted.count == 1 ? quoted[0] : "one of " + quoted.joined(separator: ", ")
                throw fail("a loss takes bottoms [<logits>, \(label)], found \(layer.bottomNames).")
            }
        } else if let label = layer.bottomNames.first(where: labels.contains) {
            throw fail("only loss layers may read the label '\(label)'.")
        }
    }
}
