import CTRCore
import CTRCPU
import CTREmbedding
import CTROptimizers
import Foundation
@testable import SwiftCTR
import Testing

// AdaGrad, MomentumSGD, Nesterov and Ftrl on dense weights (API spec §6.3) and embedding rows
// with Local and Global updates (§5.11), each against its formula in plain fp64 Swift over
// several steps; their validation, their use from a Model, and Model.setLearningRate.

/// The hyper-parameters the references below use.
private let hp = (epsilon: 1e-7, initialAccu: 0.1, factor: 0.9, beta: 0.5, lambda1: 0.02, lambda2: 0.01)

private func params(_ type: OptimizerType, _ update: UpdateType = .global) -> OptimizerParams {
    CreateOptimizer(optimizerType: type, updateType: update, beta: Float(hp.beta), lambda1: Float(hp.lambda1),
                    lambda2: Float(hp.lambda2), epsilon: Float(hp.epsilon), initialAccuValue: Float(hp.initialAccu),
                    momentumFactor: Float(hp.factor))
}

/// One element of a dense optimizer in fp64: `s` holds the states in file order.
private func denseStep(_ type: OptimizerType, w: inout Double, s: inout [Double], g: Double, lr: Double) {
    switch type {
    case .adaGrad:
        s[0] += g * g
        w -= lr * g / (hp.epsilon + s[0].squareRoot())
    case .momentumSGD:
        s[0] = hp.factor * s[0] - lr * g
        w += s[0]
    case .nesterov:
        let next = hp.factor * s[0] - lr * g
        w += -hp.factor * s[0] + (1 + hp.factor) * next
        s[0] = next
    case .ftrl:
        let e = Double(Float.ulpOfOne), n = s[0] + g * g
        let z = s[1] + g + ((s[0] + e).squareRoot() - (n + e).squareRoot()) * w / lr
        let y = (n + e).squareRoot() / lr + hp.lambda2 + hp.beta / lr
        w = abs(z) > hp.lambda1 ? (hp.lambda1 * (z < 0 ? -1 : 1) - z) / y : 0
        s = [n, z]
    default:
        Issue.record("no reference for \(type)")
    }
}

@Suite struct OptimizerFamilyTests {
    let cpu = TS.cpu

    /// Two weight tensors (odd sizes) with their gradients.
    private func weights() -> [(value: Tensor, grad: Tensor)] {
        [cpu.tensor(TS.normals(9, seed: 3), [9]), cpu.tensor(TS.normals(6, seed: 4), [3, 2])].map {
            (value: $0, grad: cpu.makeTensor($0.shape, .float32))
        }
    }

    // MARK: dense

    @Test(arguments: [OptimizerType.adaGrad, .momentumSGD, .nesterov, .ftrl])
    func denseMatchesReference(_ type: OptimizerType) throws {
        let ws = weights(), scaler: Float = 2
        let optimizer = try DenseOptimizer(params(type), weights: ws, backend: cpu)
        let stateCount = type == .ftrl ? 2 : 1
        #expect(optimizer.states.allSatisfy { $0.count == stateCount }, "\(type): states per weight")
        var w = ws.map { TS.floats($0.value).map(Double.init) }
        var s = w.map { $0.map { _ in [Double](repeating: type == .adaGrad ? hp.initialAccu : 0, count: stateCount) } }
        for k in ws.indices {
            TS.expectClose(TS.floats(optimizer.states[k][0]), s[k].map { $0[0] }, rtol: 0, atol: 1e-8,
                           "\(type): initial state of weight \(k)")
        }
        for (t, lr) in [Float(0.05), 0.1, 0.02, 0.07].enumerated() {
            for (k, weight) in ws.enumerated() {
                let g = TS.normals(weight.grad.count, seed: 50 + 10 * UInt64(t) + UInt64(k))
                cpu.upload(g, to: weight.grad)
                for i in g.indices {
                    denseStep(type, w: &w[k][i], s: &s[k][i], g: Double(g[i]) / Double(scaler), lr: Double(lr))
                }
            }
            optimizer.update(lr: lr, scaler: scaler)
            for (k, weight) in ws.enumerated() {
                TS.expectClose(TS.floats(weight.value), w[k], rtol: 1e-5, atol: 1e-6, "\(type) weight \(k), step \(t + 1)")
                for j in 0..<stateCount {
                    TS.expectClose(TS.floats(optimizer.states[k][j]), s[k].map { $0[j] }, rtol: 1e-5, atol: 1e-6,
                                   "\(type) state \(j) of weight \(k), step \(t + 1)")
                }
            }
        }
        #expect(optimizer.step == 4)
    }

    /// Ftrl divides by lr; a zero rate (a schedule's end_lr) leaves weights and states alone.
    @Test func ftrlWithZeroLearningRateChangesNothing() throws {
        let ws = weights()
        let optimizer = try DenseOptimizer(params(.ftrl), weights: ws, backend: cpu)
        for weight in ws { cpu.upload(TS.normals(weight.grad.count, seed: 8), to: weight.grad) }
        optimizer.update(lr: 0.1, scaler: 1)
        let before = ws.map { TS.floats($0.value) } + optimizer.states.joined().map { TS.floats($0) }
        optimizer.update(lr: 0, scaler: 1)
        let after = ws.map { TS.floats($0.value) } + optimizer.states.joined().map { TS.floats($0) }
        #expect(before == after)
        #expect(after.joined().allSatisfy { $0.isFinite })
    }

    /// `states` and `restore(step:)` hold all a resumed optimizer needs: Adam continued in a fresh
    /// optimizer from copies of its weights and states at step 2 matches the original bit for bit.
    @Test func adamResumesFromStatesAndStep() throws {
        let original = weights()
        let first = try DenseOptimizer(params(.adam), weights: original, backend: cpu)
        func step(_ ws: [(value: Tensor, grad: Tensor)], _ optimizer: DenseOptimizer, seed: UInt64) {
            for (k, weight) in ws.enumerated() { cpu.upload(TS.normals(weight.grad.count, seed: seed + UInt64(k)), to: weight.grad) }
            optimizer.update(lr: 0.01, scaler: 1)
        }
        step(original, first, seed: 1)
        step(original, first, seed: 2)
        let copies = original.map { (value: cpu.tensor(TS.floats($0.value), $0.value.shape), grad: cpu.makeTensor($0.grad.shape, .float32)) }
        let resumed = try DenseOptimizer(params(.adam), weights: copies, backend: cpu)
        for (source, target) in zip(first.states.joined(), resumed.states.joined()) { cpu.upload(TS.floats(source), to: target) }
        resumed.restore(step: 2)
        step(original, first, seed: 3)
        step(copies, resumed, seed: 3)
        #expect(resumed.step == 3)
        #expect(zip(original, copies).allSatisfy { TS.floats($0.value) == TS.floats($1.value) })
    }

    // MARK: validation

    @Test(arguments: [
        (params(.adaGrad).with { $0.epsilon = 0; $0.initialAccuValue = 0 }, "not both 0"),
        (params(.adaGrad).with { $0.initialAccuValue = -1 }, "initial_accu_value ≥ 0"),
        (params(.momentumSGD).with { $0.momentumFactor = 1 }, "0 ≤ momentum_factor < 1"),
        (params(.nesterov).with { $0.momentumFactor = -0.1 }, "found momentum_factor -0.1"),
        (params(.nesterov).with { $0.momentumFactor = .nan }, "momentum_factor nan"),
        (params(.ftrl).with { $0.lambda1 = -0.5 }, "lambda1 -0.5"),
        (params(.ftrl).with { $0.beta = .infinity }, "beta ≥ 0"),
        (params(.rmsProp), "RMSProp has no update for dense weights or hash embeddings"),
    ] as [(OptimizerParams, String)])
    func invalidHyperParametersThrow(_ bad: OptimizerParams, _ expected: String) {
        let error = #expect(throws: SwiftCTRError.self) { try bad.validateForDense() }
        #expect(error?.kind == .config)
        #expect(error?.message.contains(expected) == true, "\(error?.message ?? "")")
        #expect(error?.message.contains(bad.optimizerType.rawValue) == true, "names the optimizer")
    }

    @Test func sparseValidationNamesWhatIsAllowed() {
        for type in [OptimizerType.adaGrad, .momentumSGD, .nesterov, .ftrl, .sgd] {
            let lazy = #expect(throws: SwiftCTRError.self) { try params(type, .lazyGlobal).validateForSparse() }
            #expect(lazy?.message.contains("LazyGlobal works with Adam only, found \(type.rawValue)") == true,
                    "\(lazy?.message ?? "")")
            #expect((try? params(type, .local).validateForSparse()) != nil && (try? params(type).validateForSparse()) != nil)
        }
        #expect((try? params(.adam, .lazyGlobal).validateForSparse()) != nil)
    }

    // MARK: sparse

    /// Local and Global AdaGrad, MomentumSGD and Nesterov on a hash embedding over three steps
    /// against HugeCTR's formulas (Global: all rows of the capacity, in its two passes) in fp64.
    /// Rows: 100→0, 200→1, 300→2, 400→3; rows 4…7 are never used.
    @Test(arguments: [
        ("AdaGrad", SparseOptimizer.adaGrad(initialAccuValue: Float(hp.initialAccu), epsilon: Float(hp.epsilon))),
        ("MomentumSGD Local", .momentumSGD(factor: Float(hp.factor), global: false)),
        ("MomentumSGD Global", .momentumSGD(factor: Float(hp.factor), global: true)),
        ("Nesterov Local", .nesterov(mu: Float(hp.factor), global: false)),
        ("Nesterov Global", .nesterov(mu: Float(hp.factor), global: true)),
    ] as [(String, SparseOptimizer)])
    func sparseMatchesReference(_ name: String, _ optimizer: SparseOptimizer) throws {
        let vec = 3, capacity = 8, scaler: Float = 2, f = hp.factor
        let emb = HashEmbedding(name: "emb", vecSize: vec, slots: 1, combiner: .sum, capacity: capacity, maxBatch: 3,
                                maxKeysPerSample: 2, optimizer: optimizer, initialValues: .uniform(0.05), seed: 3,
                                backend: cpu)
        let steps: [[[Int64]]] = [[[100], [200], [100, 300]], [[100], [400]], [[300], [400], [400]]]
        let rowOf: [Int64: Int] = [100: 0, 200: 1, 300: 2, 400: 3]
        let initial = name == "AdaGrad" ? hp.initialAccu : 0
        var w = TS.floats(emb.values).map(Double.init), s = [Double](repeating: initial, count: capacity * vec)
        #expect(emb.states.count == 1)
        TS.expectClose(TS.floats(emb.states[0]), s, rtol: 0, atol: 1e-8, "\(name): initial state")
        var previous = TS.floats(emb.values)
        for (index, samples) in steps.enumerated() {
            let lr = 0.05 * Double(index + 1)
            let offsets = [Int64(0)] + samples.indices.map { i in Int64(samples[...i].joined().count) }
            try emb.forward(keys: Array(samples.joined()), offsets: offsets, batch: samples.count, training: true)
            let grads = TS.normals(samples.count * vec, seed: 300 + UInt64(index))
            cpu.upload(grads, to: emb.outputGrad)
            emb.backward()
            emb.update(lr: Float(lr), scaler: scaler)

            var g: [Int: [Double]] = [:]
            for (b, keys) in samples.enumerated() {
                for key in keys {
                    var acc = g[rowOf[key]!] ?? [Double](repeating: 0, count: vec)
                    for k in 0..<vec { acc[k] += Double(grads[b * vec + k]) / Double(scaler) }
                    g[rowOf[key]!] = acc
                }
            }
            func touched(_ body: (Int, Double) -> Void) {
                for (row, gr) in g { for k in 0..<vec { body(row * vec + k, gr[k]) } }
            }
            switch name {
            case "AdaGrad":
                touched { i, gi in
                    s[i] += gi * gi
                    w[i] -= lr * gi / (s[i].squareRoot() + hp.epsilon)
                }
            case "MomentumSGD Local":
                touched { i, gi in
                    s[i] = f * s[i] - lr * gi
                    w[i] += s[i]
                }
            case "MomentumSGD Global":
                touched { i, gi in s[i] -= lr * gi / f }
                for i in s.indices {
                    s[i] *= f
                    w[i] += s[i]
                }
            case "Nesterov Local":
                touched { i, gi in
                    let next = f * s[i] - lr * gi
                    w[i] += -f * s[i] + (1 + f) * next
                    s[i] = next
                }
            default:
                for i in s.indices {
                    s[i] *= f
                    w[i] += s[i] * f
                }
                touched { i, gi in
                    s[i] -= lr * gi
                    w[i] -= (1 + f) * lr * gi
                }
            }
            let table = TS.floats(emb.values)
            TS.expectClose(table, w, rtol: 1e-5, atol: 1e-7, "\(name) table after step \(index + 1)")
            TS.expectClose(TS.floats(emb.states[0]), s, rtol: 1e-5, atol: 1e-7, "\(name) state after step \(index + 1)")
            let untouchedUsed = (0..<4).filter { g[$0] == nil && index > 0 }
            for row in untouchedUsed {
                let moved = (0..<vec).contains { table[row * vec + $0] != previous[row * vec + $0] }
                #expect(moved == name.hasSuffix("Global"), "\(name): untouched row \(row) at step \(index + 1)")
            }
            #expect(Array(table[(4 * vec)...]) == Array(previous[(4 * vec)...]), "\(name): unused rows stay put")
            previous = table
        }
    }

    /// Ftrl on a hash embedding (SwiftCTR's; HugeCTR's hash embeddings have none): over three
    /// steps, the last with lr 0, each touched element takes the dense formula in fp64 with its
    /// row's summed gradient; untouched and unused rows stay put, and n, z are the two states.
    /// The same for a OneHot embedding (keys 0…3 are rows 0…3 of its one slot of 8).
    @Test(arguments: [(UpdateType.local, false), (.global, false), (.global, true)])
    func sparseFtrlMatchesReference(_ update: UpdateType, _ oneHot: Bool) throws {
        let vec = 3, capacity = 8, scaler: Float = 2
        let sparse = try EmbeddingTableSpec(
            SparseEmbedding(embeddingType: .distributedSlotSparseEmbeddingHash, workspaceSizePerGPUInMB: 1, embeddingVecSize: vec,
                            combiner: "sum", sparseEmbeddingName: "emb", bottomName: "data1", optimizer: params(.ftrl, update)),
            sparse: DataReaderSparseParam("data1", 2, false, 1), modelOptimizer: params(.sgd), backend: cpu).optimizer
        #expect(sparse == .ftrl(beta: Float(hp.beta), lambda1: Float(hp.lambda1), lambda2: Float(hp.lambda2)))
        let emb = oneHot
            ? try HashEmbedding(oneHot: "emb", vecSize: vec, slots: 1, slotSizes: [capacity], combiner: .sum, maxBatch: 3,
                                maxKeysPerSample: 2, optimizer: sparse, seed: 3, backend: cpu)
            : HashEmbedding(name: "emb", vecSize: vec, slots: 1, combiner: .sum, capacity: capacity, maxBatch: 3,
                            maxKeysPerSample: 2, optimizer: sparse, initialValues: .uniform(0.05), seed: 3, backend: cpu)
        let key: (Int64) -> Int64 = { oneHot ? $0 / 100 - 1 : $0 }
        let steps: [[[Int64]]] = [[[100], [200], [100, 300]], [[100], [400]], [[300], [400], [200]]].map { $0.map { $0.map(key) } }
        let rowOf = Dictionary(uniqueKeysWithValues: [100, 200, 300, 400].enumerated().map { (key(Int64($0.element)), $0.offset) })
        var w = TS.floats(emb.values).map(Double.init), s = [[Double]](repeating: [0, 0], count: capacity * vec)
        #expect(emb.states.count == 2)
        for (index, samples) in steps.enumerated() {
            let lr = index == 2 ? 0 : 0.05 * Double(index + 1)
            let offsets = [Int64(0)] + samples.indices.map { i in Int64(samples[...i].joined().count) }
            try emb.forward(keys: Array(samples.joined()), offsets: offsets, batch: samples.count, training: true)
            // Large enough gradients that some |z| pass λ1 and some do not.
            let grads = TS.normals(samples.count * vec, seed: 400 + UInt64(index)).map { $0 * 0.1 }
            cpu.upload(grads, to: emb.outputGrad)
            emb.backward()
            emb.update(lr: Float(lr), scaler: scaler)
            var g: [Int: [Double]] = [:]
            for (b, keys) in samples.enumerated() {
                for key in keys {
                    var acc = g[rowOf[key]!] ?? [Double](repeating: 0, count: vec)
                    for k in 0..<vec { acc[k] += Double(grads[b * vec + k]) / Double(scaler) }
                    g[rowOf[key]!] = acc
                }
            }
            if lr != 0 {
                for (row, gr) in g { for k in 0..<vec { denseStep(.ftrl, w: &w[row * vec + k], s: &s[row * vec + k], g: gr[k], lr: lr) } }
            }
            TS.expectClose(TS.floats(emb.values), w, rtol: 1e-5, atol: 1e-7, "Ftrl \(update) table after step \(index + 1)")
            TS.expectClose(TS.floats(emb.states[0]), s.map { $0[0] }, rtol: 1e-5, atol: 1e-7, "Ftrl \(update) n, step \(index + 1)")
            TS.expectClose(TS.floats(emb.states[1]), s.map { $0[1] }, rtol: 1e-5, atol: 1e-6, "Ftrl \(update) z, step \(index + 1)")
        }
        #expect(w.contains(0) && w[..<(4 * vec)].contains { $0 != 0 }, "λ1 zeroes some touched elements, not all")
    }

    // MARK: through a Model

    /// A tiny model (2 slots of vector size 4 → InnerProduct → BCE) with `optimizer`, its
    /// embedding with `embeddingOptimizer` (nil: the model's).
    private func tinyModel(_ optimizer: OptimizerParams, embeddingOptimizer: OptimizerParams? = nil,
                           solver: Solver = Solver(seed: 5, lr: 0.05, batchsizeEval: 32, batchsize: 32)) throws -> Model {
        let reader = DataReaderParams(dataReaderType: .norm, source: ["in memory"], evalSource: "in memory", checkType: .none)
        let model = try Model(solver, reader, optimizer, backend: cpu)
        let sparse = DataReaderSparseParam("data1", 1, true, 2)
        model.add(Input(labelDim: 1, labelName: "label", denseDim: 3, denseName: "dense", dataReaderSparseParamArray: [sparse]))
        model.add(SparseEmbedding(embeddingType: .distributedSlotSparseEmbeddingHash, workspaceSizePerGPUInMB: 1,
                                  embeddingVecSize: 4, combiner: "sum", sparseEmbeddingName: "emb", bottomName: "data1",
                                  optimizer: embeddingOptimizer))
        model.add(DenseLayer(.reshape, bottomNames: ["emb"], topNames: ["flat"], leadingDim: 8))
        model.add(DenseLayer(.concat, bottomNames: ["flat", "dense"], topNames: ["both"]))
        model.add(DenseLayer(.innerProduct, bottomNames: ["both"], topNames: ["fc"], numOutput: 1))
        model.add(DenseLayer(.binaryCrossEntropyLoss, bottomNames: ["fc", "label"], topNames: ["loss"]))
        try model.compile()
        return model
    }

    /// 32 samples whose label is the sign of the first dense value and of slot 0's key parity.
    private let batch: Batch = {
        var rng = CounterRNG(seed: 17, stream: 3)
        let dense = (0..<96).map { _ in Float(rng.nextNormal()) }
        let keys = (0..<64).map { _ in Int64(rng.nextInt(below: 20)) }
        let labels = (0..<32).map { Float(dense[3 * $0] + (keys[2 * $0] % 2 == 0 ? 0.5 : -0.5) > 0 ? 1 : 0) }
        return Batch(count: 32, labels: labels, dense: dense,
                     sparse: [SparseBatch(rowOffsets: (0...64).map(Int64.init), keys: keys)])
    }()

    /// Every dense optimizer with every update type its embedding allows fits the batch: the loss
    /// after 30 steps is well below the first.
    @Test(arguments: [OptimizerType.adaGrad, .momentumSGD, .nesterov, .ftrl, .adam, .sgd])
    func modelsTrainWithEveryOptimizer(_ type: OptimizerType) throws {
        for update in [UpdateType.local, .global] + (type == .adam ? [.lazyGlobal] : []) {
            let model = try tinyModel(params(type, update))
            var losses: [Float] = []
            for _ in 0..<30 {
                try model.train(batch: batch)
                losses.append(model.currentLoss)
            }
            #expect(losses.allSatisfy { $0.isFinite }, "\(type) \(update): \(losses)")
            #expect(losses.last! < 0.8 * losses.first!, "\(type) \(update): \(losses.first!) → \(losses.last!)")
        }
    }

    /// An Ftrl embedding's n and z go through the model files: a fresh model loaded from them holds
    /// the same rows and states and takes the same next step.
    @Test func sparseFtrlStatesSaveAndLoad() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swiftctr-ftrl-files-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let model = try tinyModel(params(.ftrl))
        for _ in 0..<5 { try model.train(batch: batch) }
        try model.saveParamsToFiles(prefix: folder + "/m", iter: 5)
        let names = ModelFileNames(prefix: folder + "/m", iteration: 5), fresh = try tinyModel(params(.ftrl))
        try fresh.loadDenseWeights(names.dense)
        try fresh.loadDenseOptimizerStates(names.denseOptimizer)
        try fresh.loadSparseWeights([names.sparse(0)])
        try fresh.loadSparseOptimizerStates([names.sparseOptimizer(0)])
        let (a, b) = (model.graph!.embeddings[0].table, fresh.graph!.embeddings[0].table)
        #expect(a.states.count == 2 && TS.floats(a.states[1]).contains { $0 != 0 }, "z moved")
        #expect(a.sparseModel() == b.sparseModel())
        for (x, y) in zip(a.states, b.states) { #expect(TS.floats(x) == TS.floats(y)) }
        try model.train(batch: batch)
        try fresh.train(batch: batch)
        #expect(model.currentLoss == fresh.currentLoss)
    }

    @Test func embeddingOptimizerErrorsNameTheEmbedding() throws {
        func message(_ body: () throws -> Void) -> String {
            do { try body() } catch let error as SwiftCTRError { return error.message } catch {}
            return ""
        }
        let lazy = message { _ = try tinyModel(params(.adam), embeddingOptimizer: params(.nesterov, .lazyGlobal)) }
        #expect(lazy.contains("SparseEmbedding 'emb': update type LazyGlobal works with Adam only, found Nesterov"), "\(lazy)")
        let rms = message { _ = try tinyModel(params(.rmsProp)) }
        #expect(rms.contains("RMSProp has no update"), "\(rms)")
    }

    // MARK: learning-rate schedule

    /// HugeCTR's `get_next()` in its own fp32 arithmetic (API spec §6.1) gives the scheduler's
    /// rates bit for bit, warm-up, constant part, decay and end included; `restore(step:)` picks
    /// the schedule up where a run left it.
    @Test func scheduleEqualsHugeCTRInFloat32() throws {
        let (base, warmup, start, steps, power, end): (Float, Int, Int, Int, Float, Float) = (0.3, 7, 12, 9, 1.7, 0.02)
        var schedule = try LearningRateScheduler(baseLR: base, warmupSteps: warmup, decayStart: start, decaySteps: steps,
                                                 decayPower: power, endLR: end)
        var rates: [Float] = []
        for step in 1...25 {
            let expected: Float
            if step <= warmup {
                expected = Float(step) * base / Float(warmup)
            } else if step <= start {
                expected = base
            } else if step <= start + steps {
                let f = powf(Float(start + steps - step) / Float(steps), power)
                expected = base * f > end ? base * f : end
            } else {
                expected = end
            }
            rates.append(schedule.next())
            #expect(rates.last == expected, "step \(step): \(rates.last!) vs \(expected)")
        }
        #expect(rates[warmup - 1] == base && rates[start] < base && rates[start + steps - 1] == end)
        var resumed = try LearningRateScheduler(baseLR: base, warmupSteps: warmup, decayStart: start, decaySteps: steps,
                                                decayPower: power, endLR: end)
        resumed.restore(step: 14)
        #expect((15...25).map { _ in resumed.next() } == Array(rates[14...]))
    }

    // MARK: setLearningRate

    /// The rate given to `setLearningRate` before each step trains exactly as the solver's
    /// constant rate; rate 0 with SGD leaves the model as it is; bad rates throw.
    @Test func setLearningRate() throws {
        let fixed = try tinyModel(params(.adam))
        let given = try tinyModel(params(.adam), solver: Solver(seed: 5, lr: 9, batchsizeEval: 32, batchsize: 32))
        for _ in 0..<3 {
            try fixed.train(batch: batch)
            try given.setLearningRate(0.05)
            try given.train(batch: batch)
            #expect(given.currentLoss == fixed.currentLoss)
        }
        let frozen = try tinyModel(params(.sgd))
        try frozen.setLearningRate(0)
        try frozen.train(batch: batch)
        let first = frozen.currentLoss
        try frozen.train(batch: batch)
        #expect(frozen.currentLoss == first, "lr 0 moves nothing")
        for bad in [Float(-0.1), .nan, .infinity] {
            let error = #expect(throws: SwiftCTRError.self) { try frozen.setLearningRate(bad) }
            #expect(error?.message.contains("must be finite and ≥ 0, found \(bad)") == true)
        }
    }
}

extension OptimizerParams {
    /// A copy changed by `change`.
    fileprivate func with(_ change: (inout OptimizerParams) -> Void) -> OptimizerParams {
        var copy = self
        change(&copy)
        return copy
    }
}
