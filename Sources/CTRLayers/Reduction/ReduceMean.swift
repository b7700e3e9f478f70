import CTRCore

/// `ReduceMean`: averages one per-sample axis of the input, which becomes 1 in the output:
/// `y[o, 0, i] = (1/A)·Σ_a x[o, a, i]` for an axis of length A; backward spreads `dy` back evenly:
/// `dx[o, a, i] = dy[o, 0, i] / A`. Cost: one pass over the input each way.
///
/// ```swift
/// model.add(DenseLayer(.reduceMean, bottomNames: ["fmorder2"], topNames: ["reducemean1"], axis: 1))
/// ```
///
/// HugeCTR: `ReduceMean` (`axis` counts the batch as 0; only per-sample axes 1… are allowed, as
/// for `ReduceSum`, so HugeCTR's rank-1 quirk of returning the sum cannot arise).
public final class ReduceMean: AxisReduction, RegisteredLayer {
    /// `axis` counts the batch as 0 and must be in `1..<rank` (`make` checks it).
    package init(name: String, input: Variable, axis: Int, backend: any Backend) {
        super.init(name: name, input: input, axis: axis, op: .mean, backend: backend)
    }

    // MARK: registry

    public static let layerType = LayerType.reduceMean
    public static func mixedPrecisionRefusal(_ config: DenseLayer) -> String? { fp32Only }
    public static let parameterNames = ["axis"]

    public static func make(_ config: DenseLayer, inputs: [Variable], context: LayerBuildContext) throws -> any Layer {
        try check(config, inputs: inputs)
        return ReduceMean(name: config.name, input: inputs[0], axis: config.axis, backend: context.backend)
    }

    public static var conformanceCases: [ConformanceCase] {
        func reduceMean(_ shape: [Int], axis: Int) -> ConformanceCase {
            ConformanceCase("ReduceMean \(shape) axis \(axis)",
                            DenseLayer(.reduceMean, bottomNames: ["x"], topNames: ["mean"], axis: axis),
                            inputs: [ConformanceInput(shape)], batch: 3) { r in
                let length = Double(shape[axis - 1])
                return [ReducedAxes.referenceSum(r.inputs[0], perSample: shape, axis: axis).map { $0 / length }]
            }
        }
        return [reduceMean([5], axis: 1), reduceMean([3, 4], axis: 1), reduceMean([3, 4], axis: 2),
                reduceMean([2, 3, 2, 2], axis: 3)]
    }
}
