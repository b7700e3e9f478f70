/// The pass that lets the GEMM readers of a Concat share one operand: a Concat read through a
/// fan-out Slice only by InnerProducts with one bottom and MultiCross v2 layers is built as a
/// `SharedOperandConcat`, which writes its rows once at the GEMM alignment in the readers' GEMM
/// type (16 bits in mixed precision); the readers' GEMMs read it without copies of their own,
/// their backward passes add into one padded gradient (the last reader's, whose backward runs
/// first, writes it) and the Slice is not built. Construction builds a plain Concat and Slice
/// instead when the Concat's inputs do not fold (`ConcatFolding.canFold`).
///
/// ```swift
/// // concat1 = Concat(reshape1, dense) read by multicross1 (v2) and fc1 through concat1_slice0/1:
/// let plan = SharedOperands.apply(plan)
/// // concat1 and its Slice have sharesOperand set
/// ```
enum SharedOperands {
    /// Expects `FanOutSlices` and `ConcatFolding` to have run.
    static func apply(_ plan: [PlannedLayer]) -> [PlannedLayer] {
        var plan = plan
        for i in plan.indices where plan[i].layerType == .concat && !plan[i].foldsIntoInnerProduct {
            let top = plan[i].topNames[0]
            let readers = plan.indices.filter { plan[$0].bottomNames.contains(top) }
            guard readers.count == 1, plan[readers[0]].isFanOutSlice else { continue }
            let slice = readers[0]
            let sliceReaders = plan[slice].topNames.map { name in plan.filter { $0.bottomNames.contains(name) } }
            guard sliceReaders.allSatisfy({ $0.count == 1 && readsShared($0[0]) }) else { continue }
            plan[i].sharesOperand = true
            plan[slice].sharesOperand = true
        }
        return plan
    }

    /// The layers that can read a shared operand: an InnerProduct with its one bottom (not a
    /// folded Concat's) and a MultiCross v2, each not fused with anything.
    private static func readsShared(_ layer: PlannedLayer) -> Bool {
        guard layer.bottomNames.count == 1, layer.fusedDropout == nil else { return false }
        return layer.layerType == .innerProduct || layer.layerType == .multiCross && layer.spec.projectionDim > 0
    }
}
