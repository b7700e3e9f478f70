import CTRCore

/// A ReLU whose output only a Dropout reads, run as one layer: `y = max(x, 0)·m` in training
/// (the same mask `m` the Dropout would draw, recomputed in backward rather than stored), `y =
/// max(x, 0)` in evaluation. The compiled graph puts it in place of such a pair; the ReLU's output
/// is then not kept. Cost: one pass forward and one backward instead of two each.
///
/// Not a layer-book type but a graph rewrite, so it is not in `LayerRegistry`; `BackendTests`
/// checks that it computes exactly what the pair does.
public final class ReLUDropout: Layer {
    public let name: String
    public let type = LayerType.dropout
    public let typeName = "ReLU+Dropout"
    public let inputs: [Variable]
    public let outputs: [Variable]
    public let rate: Float
    /// The bias of the InnerProduct before and its gradient, when they are added and summed here
    /// instead of there; `partial` is the scratch of the backward pass's per-block column sums.
    public let bias: Tensor?
    let biasGrad: Tensor?, partial: Tensor?
    let stream: UInt64
    let backend: any Backend

    /// `name` is the Dropout's (its top), so the masks equal the unfused pair's. With `bias`, the
    /// input lacks the bias of the InnerProduct that produced it, whose gradient backward sums
    /// (see `InnerProduct.biasAddedByConsumer` and `biasGradientByConsumer`).
    /// `outputType` (value and gradient) is 16-bit in mixed precision when only GEMMs read the output.
    package init(name: String, input: Variable, rate: Float, bias: Variable? = nil, outputType: DType = .float32,
                 backend: any Backend) {
        self.name = name
        self.rate = rate
        self.bias = bias?.value
        biasGrad = bias?.grad
        partial = bias.map { backend.makeTensor([columnSumPartialRows, $0.value.count], .float32) }
        self.backend = backend
        inputs = [input]
        outputs = [Variable(name: name, shape: input.shape, backend: backend, rowsPerSample: input.rowsPerSample,
                            valueType: outputType, gradType: outputType)]
        stream = WeightInitializer.stream("dropout/" + name)
    }

    public func forward(_ context: StepContext) {
        backend.reluDropout(inputs[0].value, bias: bias, width: inputs[0].shape.last, into: outputs[0].value,
                            count: inputs[0].count(context.batch), rate: context.training ? rate : 0,
                            seed: Dropout.seed(context), stream: stream)
    }

    public func backward(_ context: StepContext) {
        backend.reluDropoutBackward(inputs[0].value, bias: bias, width: inputs[0].shape.last, outputs[0].grad,
                                    into: inputs[0].grad, count: inputs[0].count(context.batch), rate: rate,
                                    seed: Dropout.seed(context), stream: stream, biasGrad: biasGrad, partial: partial)
    }
}

