/// The pass that marks each Concat read by exactly one layer, an InnerProduct, as folded into it:
/// the InnerProduct reads the parts (`[X₁ X₂]·W = X₁·W₁ + X₂·W₂`) and the Concat is not built.
/// Whether the parts fold depends on their shapes, which construction knows: it folds a marked
/// Concat when `canFold` holds and builds it otherwise (an unfolded Concat copies any element type).
///
/// ```swift
/// // concat2 = Concat(dropout2, multicross1), read only by fc3 = InnerProduct(concat2):
/// let plan = ConcatFolding.apply(plan)  // concat2.foldsIntoInnerProduct == true
/// ```
enum ConcatFolding {
    static func apply(_ plan: [PlannedLayer]) -> [PlannedLayer] {
        let readers = plan.readerCounts
        return plan.map { layer in
            var layer = layer
            layer.foldsIntoInnerProduct = layer.layerType == .concat && layer.topNames.count == 1
                && readers[layer.topNames[0]] == 1
                && plan.contains { $0.layerType == .innerProduct && $0.bottomNames == layer.topNames }
            return layer
        }
    }

    /// Whether an InnerProduct can read `parts` as their concatenation: two or more, 2D, with equal
    /// rows and rows per sample.
    static func canFold(_ parts: [Variable]) -> Bool {
        parts.count >= 2 && parts.allSatisfy {
            $0.shape.rank == 2 && $0.shape[0] == parts[0].shape[0] && $0.rowsPerSample == parts[0].rowsPerSample
        }
    }
}
