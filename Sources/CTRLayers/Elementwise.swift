import CTRCore

/// A pointwise activation of any shape: `ReLU` (`y = max(x, 0)`; `dx = x > 0 ? dy : 0`) or
/// `Sigmoid` (`y = 1/(1+e^−x)`; `dx = dy·y·(1−y)`; don't put it before a loss, which applies the
/// sigmoid itself). Cost: a few FLOPs per element.
public final class Activation: Layer {
    public let name: String
    public let type: LayerType
    public let inputs: [Variable]
    public let outputs: [Variable]
    let backend: any Backend

    /// `type` is `.relu` or `.sigmoid`.
    public init(_ type: LayerType, name: String, input: Variable, backend: any Backend) {
        precondition(type == .relu || type == .sigmoid, "Activation is ReLU or Sigmoid")
        self.type = type
        self.name = name
        self.backend = backend
        inputs = [input]
        outputs = [Variable(name: name, shape: input.shape, backend: backend, rowsPerSample: input.rowsPerSample)]
    }

    public func forward(_ context: StepContext) {
        let n = inputs[0].count(context.batch)
        if type == .relu {
            backend.relu(inputs[0].value, into: outputs[0].value, count: n)
        } else {
            backend.sigmoid(inputs[0].value, into: outputs[0].value, count: n)
        }
    }

    public func backward(_ context: StepContext) {
        let n = inputs[0].count(context.batch)
        if type == .relu {
            backend.reluBackward(inputs[0].value, outputs[0].grad, into: inputs[0].grad, count: n)
        } else {
            backend.sigmoidBackward(outputs[0].value, outputs[0].grad, into: inputs[0].grad, count: n)
        }
    }
}

/// `Dropout`: in training `y = x·m/(1−p)` with `m ~ Bernoulli(1−p)` per element (p =
/// `dropout_rate`, the probability of dropping); in evaluation `y = x`.
public final class Dropout: Layer {
    public let name: String
    public let type = LayerType.dropout
    public let inputs: [Variable]
    public let outputs: [Variable]
    public let rate: Float
    let mask: Tensor
    let stream: UInt64
    let backend: any Backend

    public init(name: String, input: Variable, rate: Float, backend: any Backend) {
        self.name = name
        self.rate = rate
        self.backend = backend
        inputs = [input]
        outputs = [Variable(name: name, shape: input.shape, backend: backend, rowsPerSample: input.rowsPerSample)]
        mask = backend.makeTensor(input.shape, .float32)
        stream = WeightInitializer.stream("dropout/" + name)
    }

    /// The mask's seed for a step: masks differ per iteration and per layer (`stream`).
    static func seed(_ context: StepContext) -> UInt64 { context.seed &+ UInt64(context.iteration) &* 0x9E37_79B9 }

    public func forward(_ context: StepContext) {
        let n = inputs[0].count(context.batch)
        if context.training && rate > 0 {
            backend.dropout(inputs[0].value, into: outputs[0].value, mask: mask, count: n, rate: rate,
                            seed: Self.seed(context), stream: stream)
        } else {
            backend.copy(inputs[0].value.prefix([n]), to: outputs[0].value)
        }
    }

    public func backward(_ context: StepContext) {
        let n = inputs[0].count(context.batch)
        if rate > 0 {
            backend.multiply(outputs[0].grad, mask, into: inputs[0].grad, count: n)
        } else {
            backend.copy(outputs[0].grad.prefix([n]), to: inputs[0].grad)
        }
    }
}

/// A ReLU whose output only a Dropout reads, run as one layer: `y = max(x, 0)·m` in training
/// (the same mask `m` the Dropout would draw, recomputed in backward rather than stored), `y =
/// max(x, 0)` in evaluation. The compiled graph puts it in place of such a pair; the ReLU's output
/// is then not kept. Cost: one pass forward and one backward instead of two each.
public final class ReLUDropout: Layer {
    public let name: String
    public let type = LayerType.dropout
    public let typeName = "ReLU+Dropout"
    public let inputs: [Variable]
    public let outputs: [Variable]
    public let rate: Float
    /// The bias of the InnerProduct before, when it is added here instead of there.
    public let bias: Tensor?
    let stream: UInt64
    let backend: any Backend

    /// `name` is the Dropout's (its top), so the masks equal the unfused pair's. With `bias`, the
    /// input lacks the bias of the InnerProduct that produced it (see `InnerProduct.biasAddedByConsumer`).
    /// `outputType` (value and gradient) is 16-bit in mixed precision when only GEMMs read the output.
    public init(name: String, input: Variable, rate: Float, bias: Tensor? = nil, outputType: DType = .float32,
                backend: any Backend) {
        self.name = name
        self.rate = rate
        self.bias = bias
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
                                    seed: Dropout.seed(context), stream: stream)
    }
}

/// `Add`: `y = Σ xᵢ` over inputs of identical shape; each `dxᵢ = dy`.
public final class Add: Layer {
    public let name: String
    public let type = LayerType.add
    public let inputs: [Variable]
    public let outputs: [Variable]
    let backend: any Backend

    public init(name: String, inputs: [Variable], backend: any Backend) {
        self.name = name
        self.backend = backend
        self.inputs = inputs
        outputs = [Variable(name: name, shape: inputs[0].shape, backend: backend, rowsPerSample: inputs[0].rowsPerSample)]
    }

    public func forward(_ context: StepContext) {
        backend.sum(inputs.map(\.value), into: outputs[0].value, count: inputs[0].count(context.batch))
    }

    public func backward(_ context: StepContext) {
        let n = inputs[0].count(context.batch)
        for input in inputs { backend.copy(outputs[0].grad.prefix([n]), to: input.grad) }
    }
}

/// `ReduceSum`: sums one per-sample axis, which becomes 1; backward broadcasts `dy` back.
public final class ReduceSum: Layer {
    public let name: String
    public let type = LayerType.reduceSum
    public let inputs: [Variable]
    public let outputs: [Variable]
    let axisLength: Int, inner: Int, outerPerSample: Int
    let backend: any Backend

    /// `axis` counts the batch as 0 and must be ≥ 1.
    public init(name: String, input: Variable, axis: Int, backend: any Backend) {
        self.name = name
        self.backend = backend
        inputs = [input]
        let dims = input.shape.dims
        axisLength = dims[axis]
        inner = dims[(axis + 1)...].reduce(1, *)
        outerPerSample = dims[1..<axis].reduce(1, *)
        var outDims = dims
        outDims[axis] = 1
        outputs = [Variable(name: name, shape: Shape(outDims), backend: backend, rowsPerSample: input.rowsPerSample)]
    }

    public func forward(_ context: StepContext) {
        backend.reduceSum(inputs[0].value, outer: inputs[0].rows(context.batch) * outerPerSample, axis: axisLength,
                          inner: inner, into: outputs[0].value)
    }

    public func backward(_ context: StepContext) {
        backend.reduceSumBackward(outputs[0].grad, outer: inputs[0].rows(context.batch) * outerPerSample,
                                  axis: axisLength, inner: inner, into: inputs[0].grad)
    }
}
