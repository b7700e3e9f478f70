/// HugeCTR's `Tensor_t`: which pass `Model.checkOutTensor` reads.
public enum TensorType: String, Sendable {
    case train = "Train", evaluate = "Evaluate"
}

extension Model {
    /// The values of a named tensor (an input, an embedding output or a layer output) from the
    /// last training iteration or evaluation batch, over the whole batch and every worker:
    /// HugeCTR's `check_out_tensor`. The shape is the batch's samples followed by the tensor's
    /// per-sample shape (`[4096, 26, 16]` for an embedding output). SwiftCTR trains and evaluates
    /// on one set of tensors, so `type` must name the pass that ran last; the values are the
    /// forward values (HugeCTR's training tensors may hold gradients after the backward pass).
    ///
    /// ```swift
    /// try model.train()
    /// let (shape, values) = try model.checkOutTensor("sparse_embedding1", .train)
    /// ```
    public func checkOutTensor(_ name: String, _ type: TensorType) throws -> (shape: [Int], values: [Float]) {
        let runner = try running()
        guard let pass = lastPass else {
            throw SwiftCTRError(.config, "check_out_tensor('\(name)'): no training iteration or evaluation batch has run yet; call train() or eval() first.")
        }
        guard pass.type == type else {
            throw SwiftCTRError(.config, "check_out_tensor('\(name)', Tensor_t.\(type.rawValue)): the last pass was \(pass.type == .train ? "a training iteration" : "an evaluation batch"), and SwiftCTR's training and evaluation share their tensors. Check the tensor out right after the \(type == .train ? "train()" : "eval()") whose values you want, with Tensor_t.\(pass.type.rawValue) after \(pass.type == .train ? "train()" : "eval()").")
        }
        let replicas = runner.replicas
        var values: [Float] = []
        var perSample: [Int] = []
        for (g, replica) in replicas.enumerated() {
            let rows = ShardingPlan.sampleRows(g, workers: replicas.count, batchSize: pass.batchSize, count: pass.samples)
            guard let variable = replica.variable(named: name) else {
                throw SwiftCTRError(.config, "check_out_tensor: no tensor named '\(name)'; the model's tensors are \(replica.variableNames.joined(separator: ", ")). Layers fused when compiled (a Dropout after a ReLU, a Concat read by one InnerProduct) keep no tensor of their own.")
            }
            perSample = variable.perSampleShape.dims
            guard !rows.isEmpty else { continue }
            values += try replica.hostValues(variable, samples: rows.count)
        }
        return ([pass.samples] + perSample, values)
    }
}

extension CompiledGraph {
    /// Every tensor a layer reads or writes, by name: labels, dense input, embedding outputs and
    /// layer outputs.
    var variables: [Variable] {
        labels + [dense] + embeddings.map(\.output) + layers.flatMap(\.outputs)
    }

    var variableNames: [String] { variables.map(\.name) }

    func variable(named name: String) -> Variable? { variables.first { $0.name == name } }

    /// The first `samples` samples of `variable` as host floats (16-bit tensors widened); a shared
    /// operand's placeholder is read from the operand, without its padding.
    func hostValues(_ variable: Variable, samples: Int) throws -> [Float] {
        if let shared = layers.lazy.compactMap({ $0 as? SharedOperandConcat }).first(where: { $0.outputs[0] === variable }) {
            let operand = shared.operand, rows = variable.rows(samples)
            guard let padded = hostFloats(operand.value, count: rows * operand.paddedWidth) else {
                throw SwiftCTRError(.config, "check_out_tensor: tensor '\(variable.name)' holds \(operand.value.dtype) values, not floats.")
            }
            return operand.unpadded(padded, rows: rows)
        }
        let count = variable.rows(samples) * variable.value.count / variable.value.shape[0]
        guard let values = hostFloats(variable.value, count: count) else {
            throw SwiftCTRError(.config, "check_out_tensor: tensor '\(variable.name)' holds \(variable.value.dtype) values, not floats.")
        }
        return values
    }
}
