import CTRCore

/// `ReduceSum`: sums one per-sample axis of the input, which becomes 1 in the output:
/// `y[o, 0, i] = Σ_a x[o, a, i]`; backward broadcasts `dy` back: `dx[o, a, i] = dy[o, 0, i]`.
/// Cost: one pass over the input each way.
///
/// ```swift
/// model.add(DenseLayer(.reduceSum, bottomNames: ["fm"], topNames: ["fm_sum"], axis: 1))
/// ```
///
/// HugeCTR: `ReduceSum` (`axis` counts the batch as 0; only per-sample axes 1… are allowed).
public final class ReduceSum: AxisReduction, RegisteredLayer {
    /// `axis` counts the batch as 0 and must be in `1..<rank` (`make` checks it).
    package init(name: String, input: Variable, axis: Int, backend: any Backend) {
        super.init(name: name, input: input, axis: axis, op: .sum, backend: backend)
    }

    // MARK: registry

    public static let layerType = LayerType.reduceSum
    public static let parameterNames = ["axis"]

    public static func make(_ config: DenseLayer, inputs: [Variable], context: LayerBuildContext) throws -> any Layer {
        try check(config, inputs: inputs)
        return ReduceSum(name: config.name, input: inputs[0], axis: config.axis, backend: context.backend)
    }

    public static var conformanceCases: [ConformanceCase] {
        func reduceSum(_ shape: [Int], axis: Int) -> ConformanceCase {
            ConformanceCase("ReduceSum \(shape) axis \(axis)",
                            DenseLayer(.reduceSum, bottomNames: ["x"], topNames: ["sum"], axis: axis),
                            inputs: [ConformanceInput(shape)], batch: 3) { r in
                [ReducedAxes.referenceSum(r.inputs[0], perSample: shape, axis: axis)]
            }
        }
        return [reduceSum([5], axis: 1), reduceSum([3, 4], axis: 1), reduceSum([3, 4], axis: 2),
                reduceSum([2, 3, 2], axis: 2)]
    }
}
