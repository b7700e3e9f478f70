/// The pass that fuses a ReLU read only by the Dropout right after it into one `ReLUDropout` (with
/// a rate in [0, 1)), and lets that layer add the bias of an InnerProduct read only by the ReLU
/// when nothing is built between the two (only folding Concats stand between them).
///
/// ```swift
/// // fc1 = InnerProduct(…), relu1 = ReLU(fc1), dropout1 = Dropout(relu1):
/// let plan = ReLUDropoutFusion.apply(plan)
/// // fc1, relu1 + dropout1 (fusedDropout set, addsProducerBias == true)
/// ```
enum ReLUDropoutFusion {
    /// Expects `ConcatFolding` to have run.
    static func apply(_ plan: [PlannedLayer]) -> [PlannedLayer] {
        let readers = plan.readerCounts
        var fused: [PlannedLayer] = []
        var i = 0
        while i < plan.count {
            var layer = plan[i]
            i += 1
            if i < plan.count, fuses(layer, plan[i], readers: readers) {
                layer.fusedDropout = plan[i].spec
                let lastBuilt = fused.last(where: { !$0.foldsIntoInnerProduct })
                layer.addsProducerBias = readers[layer.bottomNames[0]] == 1 && lastBuilt?.layerType == .innerProduct
                    && lastBuilt?.topNames == layer.bottomNames
                i += 1
            }
            fused.append(layer)
        }
        return fused
    }

    private static func fuses(_ relu: PlannedLayer, _ next: PlannedLayer, readers: [String: Int]) -> Bool {
        relu.layerType == .relu && relu.bottomNames.count == 1 && relu.topNames.count == 1
            && readers[relu.topNames[0]] == 1 && next.layerType == .dropout && next.bottomNames == relu.topNames
            && next.topNames.count == 1 && next.spec.dropoutRate >= 0 && next.spec.dropoutRate < 1
    }
}
