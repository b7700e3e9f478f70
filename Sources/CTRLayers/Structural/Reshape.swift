import CTRCore

/// `Reshape`: the same elements under another shape, or (`selected`) some slots of a 3D input.
///
/// With `leading_dim` = L (and optionally `time_step` = T) each sample's n elements become n/L
/// rows of L (or n/(L·T) blocks of T×L): the output is `(B·n/L, L)` or `(B·n/(L·T), T, L)`, and one
/// sample fills several leading rows (`rowsPerSample`), so the next layer works on rows. With
/// `shape = [-1, d1, …]` the output is `(B, d1, …)`; with neither, each sample is flattened to
/// `(B, n)` (the layer book's default leading_dim). These are views: forward and backward move no
/// data.
///
/// With `selected = true` a 3D input `(B, S, V)` gives `(B, m·V)` holding the m slots of
/// `selected_slots` in their order: `y[b, j·V + v] = x[b, s_j, v]`. Backward:
/// `dx[b, s, :] = Σ_{j: s_j = s} dy[b, j·V : (j+1)·V]` (0 for slots not selected). An empty
/// `selected_slots` keeps every slot (a view). Cost: one copy of the output each way, a
/// `copyColumns` per run of consecutive slots.
///
/// ```swift
/// model.add(DenseLayer(.reshape, bottomNames: ["sparse_embedding1"], topNames: ["reshape1"], leadingDim: 416))
/// model.add(DenseLayer(.reshape, bottomNames: ["sparse_embedding1"], topNames: ["picked"], selected: true,
///                      selectedSlots: [0, 3, 4]))
/// ```
///
/// HugeCTR: `Reshape` (layer math §6.11). Unlike HugeCTR, a selected slot must exist, the gradient
/// of an unselected slot is 0 (HugeCTR leaves the forward activation there) and a slot selected
/// twice gets both gradients (HugeCTR keeps one).
public final class Reshape: RegisteredLayer {
    public let name: String
    public let inputs: [Variable]
    public let outputs: [Variable]
    /// Selected mode's copies; nil for a view.
    let selection: Selection?

    /// Runs of consecutive selected slots, each copied as one block of columns.
    struct Selection {
        /// Input slots `source ..< source + count` are output slots `target ..< target + count`.
        struct Run { var source: Int, target: Int, count: Int }
        let runs: [Run]
        let slots: Int, selected: Int, vectorSize: Int
        /// Every input slot selected exactly once: backward writes every element, no zeroing needed.
        let coversEachSlotOnce: Bool
        let backend: any Backend

        init(slots selection: [Int], of slots: Int, vectorSize: Int, backend: any Backend) {
            var runs: [Run] = []
            for (target, source) in selection.enumerated() {
                if let last = runs.last, last.source + last.count == source {
                    runs[runs.count - 1].count += 1
                } else {
                    runs.append(Run(source: source, target: target, count: 1))
                }
            }
            self.runs = runs
            self.slots = slots
            selected = selection.count
            self.vectorSize = vectorSize
            coversEachSlotOnce = selection.count == slots && Set(selection).count == slots
            self.backend = backend
        }
    }

    /// `shape` is the full output shape for the largest batch; `rowsPerSample` how many of its
    /// leading rows one sample fills.
    package init(name: String, input: Variable, shape: Shape, rowsPerSample: Int) {
        self.name = name
        inputs = [input]
        selection = nil
        outputs = [Variable(name: name, value: input.value.reshaped(shape), grad: input.grad.reshaped(shape),
                            rowsPerSample: rowsPerSample)]
    }

    /// Selected mode: `slots` (each in `0..<input.shape[1]`) of a 3D input.
    package init(name: String, input: Variable, selecting slots: [Int], backend: any Backend) {
        self.name = name
        inputs = [input]
        let vectorSize = input.shape[2]
        selection = Selection(slots: slots, of: input.shape[1], vectorSize: vectorSize, backend: backend)
        outputs = [Variable(name: name, shape: [input.shape[0], slots.count * vectorSize], backend: backend,
                            rowsPerSample: input.rowsPerSample)]
    }

    public func forward(_ context: StepContext) {
        guard let s = selection else { return }
        let v = s.vectorSize, rows = inputs[0].rows(context.batch)
        for run in s.runs {
            s.backend.copyColumns(inputs[0].value, srcWidth: s.slots * v, srcStart: run.source * v, into: outputs[0].value,
                                  dstWidth: s.selected * v, dstStart: run.target * v, rows: rows, width: run.count * v,
                                  accumulate: false)
        }
    }

    public func backward(_ context: StepContext) {
        guard let s = selection else { return }
        let v = s.vectorSize, rows = inputs[0].rows(context.batch), dx = inputs[0].grad
        if !s.coversEachSlotOnce { s.backend.fill(dx.prefix([rows * s.slots * v]), 0) }
        for run in s.runs {
            s.backend.copyColumns(outputs[0].grad, srcWidth: s.selected * v, srcStart: run.target * v, into: dx,
                                  dstWidth: s.slots * v, dstStart: run.source * v, rows: rows, width: run.count * v,
                                  accumulate: !s.coversEachSlotOnce)
        }
    }

    // MARK: registry

    public static let layerType = LayerType.reshape
    public static let parameterNames = ["leading_dim", "time_step", "shape", "selected", "selected_slots"]

    public static func make(_ config: DenseLayer, inputs: [Variable], context: LayerBuildContext) throws -> any Layer {
        let check = Checker(config: config, inputs: inputs)
        try check.inputCount(1)
        try check.topCount(1)
        let input = inputs[0]
        let perSample = input.sampleCount, batch = input.maxBatch
        if config.selected {
            guard input.shape.rank == 3 else {
                throw check.error("selected = true picks slots of a 3D (batch, slots, vector) input, found '\(input.name)' \(input.shape). Use leading_dim or shape on other ranks.")
            }
            let slots = input.shape[1], picked = config.selectedSlots
            guard picked.count <= slots else {
                throw check.error("selected_slots lists \(picked.count) slots but '\(input.name)' \(input.perSampleShape) has \(slots).")
            }
            if let bad = picked.first(where: { !(0..<slots).contains($0) }) {
                throw check.error("selected slot \(bad) is outside 0..<\(slots), the slots of '\(input.name)' \(input.perSampleShape).")
            }
            if picked.isEmpty {
                return Reshape(name: config.name, input: input, shape: [input.shape[0], slots * input.shape[2]],
                               rowsPerSample: input.rowsPerSample)
            }
            return Reshape(name: config.name, input: input, selecting: picked, backend: context.backend)
        }
        if config.leadingDim > 0 {
            let lead = config.leadingDim
            let inner = lead * max(config.timeStep, 1)
            guard perSample % inner == 0 else {
                throw check.error("leading_dim\(config.timeStep > 0 ? " × time_step" : "") = \(inner) must divide the \(perSample) elements of one sample of '\(input.name)' \(input.perSampleShape). Use leading_dim = \(perSample) to flatten each sample.")
            }
            let rowsPerSample = perSample / inner
            let shape: Shape = config.timeStep > 0
                ? [batch * rowsPerSample, config.timeStep, lead] : [batch * rowsPerSample, lead]
            return Reshape(name: config.name, input: input, shape: shape, rowsPerSample: rowsPerSample)
        }
        guard config.timeStep == 0 else {
            throw check.error("time_step = \(config.timeStep) needs leading_dim > 0 (the output is (rows, time_step, leading_dim)); set leading_dim.")
        }
        let dims = config.shape
        if dims.isEmpty {
            return Reshape(name: config.name, input: input, shape: [batch, perSample], rowsPerSample: 1)
        }
        guard dims.filter({ $0 == -1 }).count == 1, dims.first == -1, dims.dropFirst().allSatisfy({ $0 > 0 }) else {
            throw check.error("give leading_dim > 0, or shape = [-1, d1, …] with -1 first (the batch) and positive dims; found leading_dim \(config.leadingDim), shape \(dims).")
        }
        let rest = dims.dropFirst().reduce(1, *)
        guard rest == perSample else {
            throw check.error("shape \(dims) holds \(rest) elements per sample but '\(input.name)' \(input.perSampleShape) has \(perSample).")
        }
        return Reshape(name: config.name, input: input, shape: Shape([batch] + dims.dropFirst()), rowsPerSample: 1)
    }

    public static var conformanceCases: [ConformanceCase] {
        func reshape(_ name: String, _ input: [Int], leadingDim: Int = 0, timeStep: Int = 0, shape: [Int] = []) -> ConformanceCase {
            ConformanceCase("Reshape \(name)", DenseLayer(.reshape, bottomNames: ["x"], topNames: ["reshaped"], leadingDim: leadingDim,
                                                    timeStep: timeStep, shape: shape),
                            inputs: [ConformanceInput(input)], batch: 3) { r in r.inputs }
        }
        /// Slots `picked` of rows of `slots × vector` elements, in the order given.
        func selected(_ picked: [Int], slots: Int, vector: Int, rowsPerSample: Int = 1) -> ConformanceCase {
            let width = slots * vector, order = picked.isEmpty ? Array(0..<slots) : picked
            let rowsNote = ConformanceInput.rowsNote(rowsPerSample)
            return ConformanceCase("Reshape selected \(picked) of \(slots) slots\(rowsNote)",
                                   DenseLayer(.reshape, bottomNames: ["x"], topNames: ["picked"], selected: true, selectedSlots: picked),
                                   inputs: [ConformanceInput([slots, vector], rowsPerSample: rowsPerSample)], batch: 3) { r in
                let x = r.inputs[0]
                return [(0..<x.count / width).flatMap { row -> [Double] in
                    order.flatMap { s -> ArraySlice<Double> in
                        let start = row * width + s * vector
                        return x[start..<start + vector]
                    }
                }]
            }
        }
        return [
            reshape("leading_dim", [3, 4], leadingDim: 4), reshape("leading_dim flattening", [3, 4], leadingDim: 12),
            reshape("time_step", [24], leadingDim: 4, timeStep: 3), reshape("shape", [12], shape: [-1, 2, 6]),
            reshape("default leading_dim", [3, 4]),
            selected([2, 0], slots: 4, vector: 3), selected([1, 2, 3], slots: 5, vector: 2), selected([3, 2, 1, 0], slots: 4, vector: 2),
            selected([1, 1, 0], slots: 3, vector: 2), selected([], slots: 3, vector: 2), selected([0, 2], slots: 3, vector: 2, rowsPerSample: 2),
        ]
    }
}
