import CTRCore

/// A conformance case built on one backend through `LayerRegistry`, its inputs filled from a seed:
/// runs the step forward and backward and reads back what the checks compare.
package final class ConformanceRun {
    package let conformanceCase: ConformanceCase
    package let layer: any Layer
    package let inputs: [Variable]
    let backend: any Backend

    /// Builds the case with weights from `seed` (identical on every backend) and inputs and
    /// overridden parameters from `dataSeed`.
    package init(_ conformanceCase: ConformanceCase, backend: any Backend, seed: UInt64 = 1, dataSeed: UInt64 = 5) throws {
        self.conformanceCase = conformanceCase
        self.backend = backend
        let c = conformanceCase
        inputs = zip(c.inputs, c.inputValues(seed: dataSeed)).enumerated().map { k, pair in
            let (input, values) = pair
            let v = Variable(name: "x\(k)", shape: input.variableShape(samples: c.maxBatch), backend: backend,
                             rowsPerSample: input.batched ? input.rowsPerSample : 1)
            backend.upload(values, to: v.value)
            return v
        }
        let context = LayerBuildContext(backend: backend, initializer: WeightInitializer(seed: seed),
                                        gemmAlignment: c.gemmAlignment)
        layer = try LayerRegistry.make(c.config, inputs: inputs, context: context)
        if let std = c.parameterStd {
            for (p, parameter) in layer.parameters.enumerated() {
                var rng = CounterRNG(seed: dataSeed, stream: 0xFA0 + UInt64(p))
                backend.upload((0..<parameter.value.count).map { _ in Float(rng.nextNormal() * std) }, to: parameter.value)
            }
        }
    }

    private var batch: Int { conformanceCase.batch }

    /// The values the outputs hold for the batch: what the reference returns (a loss: its mean loss).
    package func outputCounts() -> [Int] {
        layer is any Loss ? [1] : layer.outputs.map { $0.count(batch) }
    }

    /// A random gradient for each output (N(0, 1) from `seed`); a loss's is 1 (L is the loss itself).
    package func upstream(seed: UInt64 = 9) -> [[Float]] {
        if layer is any Loss { return [[1]] }
        return outputCounts().enumerated().map { k, n in
            var rng = CounterRNG(seed: seed, stream: 0xD0 + UInt64(k))
            return (0..<n).map { _ in Float(rng.nextNormal()) }
        }
    }

    /// Runs forward and returns each output for the batch (a loss: its mean loss).
    package func forward() -> [[Float]] {
        layer.forward(conformanceCase.context)
        if let loss = layer as? any Loss { return [backend.floats(loss.lossValue)] }
        return layer.outputs.map { backend.floats($0.value, count: $0.count(batch)) }
    }

    /// Runs backward from the output gradients `upstream` (ignored by a loss, whose forward wrote
    /// its logits' gradient) and returns every input's gradient for the batch and every parameter's
    /// gradient. Input gradients start poisoned and parameter gradients at zero, so a backward that
    /// accumulates instead of assigning, or skips elements, shows.
    package func backward(_ upstream: [[Float]]) -> (inputs: [[Float]], parameters: [[Float]]) {
        for p in layer.parameters { backend.fill(p.grad, 0) }
        if !(layer is any Loss) {
            for input in inputs { backend.fill(input.grad, 1234.5) }
            for (output, g) in zip(layer.outputs, upstream) { backend.upload(g, to: output.grad) }
        }
        layer.backward(conformanceCase.context)
        return (inputValues(\.grad), layer.parameters.map { backend.floats($0.grad) })
    }

    /// Each input's `value` or `grad` for the batch: what the reference reads and the gradient
    /// check compares (a whole input where it is not batched).
    package func inputValues(_ tensor: KeyPath<Variable, Tensor>) -> [[Float]] {
        zip(inputs, conformanceCase.inputs).map { v, input in
            backend.floats(v[keyPath: tensor], count: input.count(samples: batch))
        }
    }
}
