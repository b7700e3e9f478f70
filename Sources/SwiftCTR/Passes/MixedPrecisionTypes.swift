/// The pass that picks 16-bit types in mixed precision: every InnerProduct pads its inputs in
/// `halfType`; a fused ReLU+Dropout whose output only GEMMs read (InnerProducts, directly or
/// through a folding Concat) writes it in `halfType`; an InnerProduct whose output only the fused
/// ReLU+Dropout right after it reads (which adds the bias) writes it in `halfType`; so does a
/// MultiCross v2 whose output only GEMMs read (InnerProducts, MLPs, folding Concats), and a Concat
/// that only MultiCross v2 layers read (they keep their states in `halfType`). Gradients
/// follow their values' types. Without mixed precision the pass does not run: all is fp32.
///
/// ```swift
/// // fc1 → relu1 + dropout1 → fc2:
/// let plan = MixedPrecisionTypes.apply(plan, halfType: .bfloat16)
/// // fc1 and relu1 + dropout1 output bfloat16; fc2, read by a ReLU, outputs float32
/// ```
enum MixedPrecisionTypes {
    /// Throws for the first layer the layer book keeps out of mixed precision
    /// (`RegisteredLayer.mixedPrecisionRefusal`), naming it and saying why.
    static func refuseFP32Only(_ layers: [DenseLayer]) throws {
        for layer in layers {
            if let why = LayerRegistry.type(of: layer.layerType)?.mixedPrecisionRefusal(layer) {
                throw SwiftCTRError(.config, "layer '\(layer.name)' (\(layer.layerType.rawValue)): \(why)")
            }
        }
    }

    /// Expects `ConcatFolding` and `ReLUDropoutFusion` to have run.
    static func apply(_ plan: [PlannedLayer], halfType: DType) -> [PlannedLayer] {
        let readers = plan.readerCounts
        func onlyGEMMsRead(_ name: String) -> Bool {
            let users = plan.filter { $0.bottomNames.contains(name) }
            return !users.isEmpty && users.allSatisfy {
                $0.layerType == .innerProduct || $0.layerType == .mlp || $0.foldsIntoInnerProduct
            }
        }
        func onlyCrossV2Read(_ name: String) -> Bool {
            let users = plan.filter { $0.bottomNames.contains(name) }
            return !users.isEmpty && users.allSatisfy { $0.layerType == .multiCross && $0.spec.projectionDim > 0 }
        }
        return plan.indices.map { i in
            var layer = plan[i]
            if layer.fusedDropout != nil || layer.layerType == .multiCross && layer.spec.projectionDim > 0 {
                if onlyGEMMsRead(layer.topNames[0]) { layer.outputType = halfType }
            } else if layer.layerType == .concat, !layer.foldsIntoInnerProduct, onlyCrossV2Read(layer.topNames[0]) {
                layer.outputType = halfType
            } else if layer.layerType == .innerProduct {
                layer.halfType = halfType
                let next = i + 1 < plan.count ? plan[i + 1] : nil
                if readers[layer.topNames[0]] == 1, let next, next.fusedDropout != nil, next.bottomNames == layer.topNames {
                    layer.outputType = halfType
                }
            }
            return layer
        }
    }
}
