/// The graph rewrites between analysis and construction, in order: `FanOutSlices`,
/// `ConcatFolding`, `ReLUDropoutFusion`, `MixedPrecisionTypes` when `halfType` is given, then
/// `SharedOperands`. The
/// result is the plan `CompiledGraph` builds, one `PlannedLayer` at a time.
///
/// ```swift
/// let plan = try GraphPasses.plan(analysis.layers, labelNames: ["label"], halfType: nil)
/// ```
enum GraphPasses {
    static func plan(_ layers: [DenseLayer], labelNames: Set<String>, halfType: DType?) throws -> [PlannedLayer] {
        if halfType != nil { try MixedPrecisionTypes.refuseFP32Only(layers) }
        var plan = try FanOutSlices.apply(layers, labelNames: labelNames)
        plan = ConcatFolding.apply(plan)
        plan = ReLUDropoutFusion.apply(plan)
        if let halfType { plan = MixedPrecisionTypes.apply(plan, halfType: halfType) }
        return SharedOperands.apply(plan)
    }
}
