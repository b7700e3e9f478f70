/// The check path for numerical faults: which tensor of a training step went NaN or Inf first.
/// It downloads every tensor it checks, so it runs only after a non-finite loss was seen.
///
/// ```swift
/// if !graph.lastLoss.isFinite {
///     print(try graph.diagnoseNonFinite(batch: batch, iteration: step - 1))
///     // "the first non-finite output is 'fc1' of layer 'fc1' (InnerProduct, reading concat1): …"
/// }
/// ```
extension CompiledGraph {
    /// Re-runs the forward pass of training step `iteration` (its dropout masks) on `batch` with the current
    /// weights, checking the batch's labels and dense values, each embedding's output and each
    /// layer's outputs in execution order, and describes the first non-finite one with the
    /// weights that are non-finite. BatchNorm's running statistics are restored afterwards.
    func diagnoseNonFinite(batch: Batch, iteration: Int) throws -> String {
        try nonFiniteFinding(batch: batch, iteration: iteration)
            ?? "re-running the batch's forward pass gives finite outputs everywhere, so the backward pass or an update went non-finite." + weightsNote(nonFiniteParameters())
    }

    /// What `diagnoseNonFinite` finds, or nil when the re-run forward pass is finite everywhere.
    func nonFiniteFinding(batch: Batch, iteration: Int) throws -> String? {
        if let i = batch.dense.firstIndex(where: { !$0.isFinite }) {
            let width = max(inputSpec.denseDim, 1)
            return "the batch's dense input '\(dense.name)' holds \(numberText(batch.dense[i])) (sample \(i / width), feature \(i % width)). Check the data, or clean it before training."
        }
        if let i = batch.labels.firstIndex(where: { !$0.isFinite }) {
            return "the batch's labels hold \(numberText(batch.labels[i])) (sample \(i / max(inputSpec.labelDim, 1))). Check the data."
        }
        let badWeights = nonFiniteParameters()
        let weightsNote = weightsNote(badWeights)
        let statistics = nonTrainableValues()
        defer { restore(statistics) }
        var context = try load(batch, training: true)
        context.iteration = iteration
        for (table, _, output) in embeddings {
            if let problem = nonFinite(output.value, rows: batch.count) {
                return "the first non-finite output is embedding '\(table.name)': \(problem); its rows went non-finite in an update." + weightsNote
            }
        }
        for layer in layers {
            layer.forward(context)
            // A shared operand's rows are checked where they are, padding included (it stays zero).
            let outputs = (layer as? any Loss).map { [($0.name, $0.lossValue)] }
                ?? (layer as? SharedOperandConcat).map { [($0.outputs[0].name, $0.operand.value)] }
                ?? layer.outputs.map { ($0.name, $0.value) }
            for (name, tensor) in outputs {
                guard let problem = nonFinite(tensor, rows: batch.count) else { continue }
                let own = layer.parameters.filter { parameter in badWeights.contains { $0 === parameter } }
                let cause = own.isEmpty ? " Its inputs are finite, so the layer's math overflowed on them; lower lr or scale the inputs."
                    : " Its weights \(own.map(\.name).joined(separator: ", ")) are already non-finite."
                return "the first non-finite output is '\(name)' of layer '\(layer.name)' (\(layer.typeName), reading \(layer.inputs.map(\.name).joined(separator: ", "))): \(problem)." + cause + weightsNote
            }
        }
        return nil
    }

    private func weightsNote(_ badWeights: [Variable]) -> String {
        badWeights.isEmpty ? " The dense weights are finite."
            : " Non-finite dense weights: \(badWeights.map(\.name).joined(separator: ", ")) (an update went non-finite)."
    }

    /// Every non-trainable tensor (BatchNorm's running statistics) with its values, for `restore`.
    func nonTrainableValues() -> [(Tensor, [Float])] {
        layers.flatMap(\.nonTrainable).map { ($0.value, backend.floats($0.value)) }
    }

    func restore(_ values: [(Tensor, [Float])]) {
        for (tensor, floats) in values { backend.upload(floats, to: tensor) }
    }

    /// The dense weights holding a NaN or Inf (downloads them all).
    func nonFiniteParameters() -> [Variable] {
        parameters.filter { parameter in
            hostFloats(parameter.value, count: parameter.value.count).map { !$0.allSatisfy(\.isFinite) } ?? false
        }
    }

    /// "k of n values are nan/inf (first at i: v)" for the valid rows of `tensor`, nil when all are finite.
    func nonFinite(_ tensor: Tensor, rows: Int) -> String? {
        let perRow = tensor.count % maxBatch == 0 && tensor.count >= maxBatch ? tensor.count / maxBatch : 0
        let count = perRow > 0 ? perRow * rows : tensor.count
        guard let values = hostFloats(tensor, count: count),
              let first = values.firstIndex(where: { !$0.isFinite }) else { return nil }
        let bad = values.reduce(0) { $0 + ($1.isFinite ? 0 : 1) }
        return "\(bad) of \(count) values are NaN or Inf (the first, element \(first), is \(numberText(values[first])))"
    }

    /// The first `count` elements as floats (16-bit types widened); nil for integer tensors.
    func hostFloats(_ tensor: Tensor, count: Int) -> [Float]? {
        switch tensor.dtype {
        case .float32: return backend.floats(tensor, count: count)
        case .bfloat16, .float16:
            let bits = [UInt16](unsafeUninitializedCapacity: count) { buffer, initialized in
                backend.download(tensor, into: UnsafeMutableRawBufferPointer(buffer))
                initialized = count
            }
            return HalfFloats.floats(bits, tensor.dtype)
        case .float64, .int64, .int32: return nil
        }
    }
}

/// What `CompiledGraph.train(checkingLoss: true)` throws for a NaN or Inf loss, before the update.
struct NonFiniteLoss: Error {
    let loss: Float
}

/// "NaN", "+Inf" or "-Inf" (Swift prints a NaN with its sign bit as "-nan"); other values as they are.
func numberText(_ value: Float) -> String {
    value.isNaN ? "NaN" : value.isInfinite ? (value > 0 ? "+Inf" : "-Inf") : "\(value)"
}
