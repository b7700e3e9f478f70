import CTRData
import Foundation
@testable import SwiftCTR
import Testing

/// HugeCTR's placement of embeddings over workers (`ShardingPlan`), the in-process `Collective`,
/// and data-parallel training on simulated CPU workers, which must give the one-worker run's
/// losses and weights up to the order of float additions.
@Suite("Sharding over simulated workers")
struct ShardingTests {
    // MARK: routing rules

    @Test("Distributed places by key mod N (keys as unsigned 64-bit), Localized and OneHot by slot mod N")
    func owners() {
        let distributed = ShardingPlan(.distributedSlotSparseEmbeddingHash, workers: 3, slots: 4)
        #expect([0, 1, 2, 3, 4, 5, 7].map { distributed.owner(key: Int64($0), slot: 2) } == [0, 1, 2, 0, 1, 2, 1])
        // -1 is 2^64 − 1 unsigned, which is 0 mod 3 (2^64 ≡ 1 mod 3).
        #expect(distributed.owner(key: -1, slot: 0) == Int((UInt64.max) % 3))
        #expect(distributed.ownedSlots(1) == [0, 1, 2, 3] && distributed.slotCount(2) == 4)
        for type in [EmbeddingType.localizedSlotSparseEmbeddingHash, .localizedSlotSparseEmbeddingOneHot] {
            let plan = ShardingPlan(type, workers: 3, slots: 7)
            #expect((0..<7).map { plan.owner(key: 1000, slot: $0) } == [0, 1, 2, 0, 1, 2, 0])
            #expect(plan.ownedSlots(0) == [0, 3, 6] && plan.ownedSlots(1) == [1, 4] && plan.ownedSlots(2) == [2, 5])
            // ⌊S/N⌋ + (g < S mod N ? 1 : 0)
            #expect((0..<3).map(plan.slotCount) == [3, 2, 2])
        }
    }

    @Test("sample rows: worker g gets [g·B/N, (g+1)·B/N), clamped to an incomplete batch")
    func sampleRows() {
        #expect((0..<3).map { ShardingPlan.sampleRows($0, workers: 3, batchSize: 12, count: 12) } == [0..<4, 4..<8, 8..<12])
        #expect((0..<3).map { ShardingPlan.sampleRows($0, workers: 3, batchSize: 12, count: 6) } == [0..<4, 4..<6, 6..<6])
    }

    @Test("route: every key reaches its owner once, in batch order, as CSR over the owner's segments",
          arguments: [EmbeddingType.distributedSlotSparseEmbeddingHash, .localizedSlotSparseEmbeddingHash])
    func route(type: EmbeddingType) {
        let slots = 3, samples = 5, workers = 2
        var rng = CounterRNG(seed: 3)
        var keys: [Int64] = [], offsets: [Int64] = [0]
        for _ in 0..<samples * slots {
            for _ in 0..<rng.nextInt(below: 3) { keys.append(Int64(rng.nextInt(below: 50))) }
            offsets.append(Int64(keys.count))
        }
        let plan = ShardingPlan(type, workers: workers, slots: slots)
        let routes = plan.route(keys: keys, offsets: offsets, samples: samples)
        #expect(routes.flatMap(\.positions).sorted() == Array(keys.indices))
        for (g, route) in routes.enumerated() {
            let owned = plan.ownedSlots(g)
            #expect(route.offsets.count == samples * owned.count + 1 && route.offsets.last == Int64(route.keys.count))
            #expect(route.positions == route.positions.sorted())
            for segment in 0..<samples * owned.count {
                let global = (segment / owned.count) * slots + owned[segment % owned.count]
                let mine = route.offsets[segment]..<route.offsets[segment + 1]
                // The naive rule: the segment's keys that this worker owns, in order.
                let expected = (offsets[global]..<offsets[global + 1]).map { keys[Int($0)] }
                    .filter { plan.owner(key: $0, slot: owned[segment % owned.count]) == g }
                #expect(mine.map { route.keys[Int($0)] } == expected)
            }
        }
    }

    @Test("InProcessCollective: all-reduce, reduce-scatter, all-gather and all-to-all against their definitions")
    func collective() {
        let cpu = TS.cpu, collective = InProcessCollective(backends: [cpu, cpu, cpu])
        let a = (0..<3).map { g in cpu.tensor((0..<6).map { Float(10 * g + $0) }, [6]) }
        collective.allReduceSum(a, count: 6)
        for t in a { #expect(cpu.floats(t) == [30, 33, 36, 39, 42, 45]) }
        let send = (0..<3).map { g in cpu.tensor((0..<6).map { Float(10 * g + $0) }, [6]) }
        let receive = (0..<3).map { _ in cpu.makeTensor([2], .float32) }
        collective.reduceScatterSum(send, into: receive, count: 2)
        #expect(receive.map { cpu.floats($0) } == [[30, 33], [36, 39], [42, 45]])
        let gathered = (0..<3).map { _ in cpu.makeTensor([6], .float32) }
        collective.allGather(receive, into: gathered, count: 2)
        for t in gathered { #expect(cpu.floats(t) == [30, 33, 36, 39, 42, 45]) }
        // Worker g sends g + 1 elements to every worker.
        let counts = (0..<3).map { g in [g + 1, g + 1, g + 1] }
        let outgoing = (0..<3).map { g in cpu.tensor((0..<3 * (g + 1)).map { Float(100 * g + $0) }, [3 * (g + 1)]) }
        let incoming = (0..<3).map { _ in cpu.makeTensor([6], .float32) }
        collective.allToAll(outgoing, into: incoming, counts: counts)
        #expect(cpu.floats(incoming[0]) == [0, 100, 101, 200, 201, 202])
        #expect(cpu.floats(incoming[2]) == [2, 104, 105, 206, 207, 208])
    }

    // MARK: training on simulated workers

    static let slotSizes = [10, 12, 8, 9, 11]

    /// A batch of `count` samples: 3 dense values, 5 slots of 0–2 keys each (1 for one-hot data),
    /// keys in each slot's offset range.
    static func batch(_ count: Int, seed: UInt64, oneKey: Bool = false) -> Batch {
        var rng = CounterRNG(seed: seed)
        var keys: [Int64] = [], offsets: [Int64] = [0], labels: [Float] = [], dense: [Float] = []
        for _ in 0..<count {
            labels.append(rng.nextUniform() < 0.4 ? 1 : 0)
            for _ in 0..<3 { dense.append(Float(rng.nextUniform(-1, 1))) }
            var start: Int64 = 0
            for size in slotSizes {
                for _ in 0..<(oneKey ? 1 : rng.nextInt(below: 3)) { keys.append(start + Int64(rng.nextInt(below: size))) }
                offsets.append(Int64(keys.count))
                start += Int64(size)
            }
        }
        return Batch(count: count, labels: labels, dense: dense, sparse: [SparseBatch(rowOffsets: offsets, keys: keys)])
    }

    static let unread = DataReaderParams(dataReaderType: .norm, source: "unused_train.txt", evalSource: "unused_eval.txt",
                                         checkType: .none)

    static func model(_ type: EmbeddingType, workers: Int, optimizer: OptimizerParams, combiner: String = "sum",
                      batch: Int = 12, regularized: Bool = false, reader: DataReaderParams = unread) throws -> Model {
        let solver = Solver(seed: 7, lr: 0.01, maxEvalBatches: 2, batchsizeEval: batch, batchsize: batch,
                            vvgpu: [Array(0..<workers)])
        let model = try Model(solver, reader, optimizer)
        model.printsProgress = false
        model.add(Input(labelDim: 1, labelName: "label", denseDim: 3, denseName: "dense",
                        dataReaderSparseParamArray: [DataReaderSparseParam("data1", 2, false, slotSizes.count)]))
        model.add(SparseEmbedding(embeddingType: type, workspaceSizePerGPUInMB: type == .localizedSlotSparseEmbeddingOneHot ? 0 : 1,
                                  embeddingVecSize: 4, combiner: combiner, sparseEmbeddingName: "emb", bottomName: "data1",
                                  slotSizeArray: type == .distributedSlotSparseEmbeddingHash ? [] : slotSizes))
        model.add(DenseLayer(.reshape, bottomNames: ["emb"], topNames: ["flat"], leadingDim: 4 * slotSizes.count))
        model.add(DenseLayer(.concat, bottomNames: ["flat", "dense"], topNames: ["features"]))
        model.add(DenseLayer(.innerProduct, bottomNames: ["features"], topNames: ["fc1"], numOutput: 8))
        model.add(DenseLayer(.relu, bottomNames: ["fc1"], topNames: ["relu1"]))
        model.add(DenseLayer(.innerProduct, bottomNames: ["relu1"], topNames: ["fc2"], numOutput: 1))
        model.add(DenseLayer(.binaryCrossEntropyLoss, bottomNames: ["fc2", "label"], topNames: ["loss"],
                             useRegularizer: regularized, regularizerType: .l2, lambda: regularized ? 0.05 : 0))
        try model.compile()
        return model
    }

    /// The dense weights, then each key's vector in key order.
    static func weights(_ model: Model) throws -> [Float] {
        let dense = model.graph!.parameters.flatMap { model.backend.floats($0.value) }
        let table = try model.running().embeddingStores[0].sparseModel()
        let order = table.keys.indices.sorted { table.keys[$0] < table.keys[$1] }
        return dense + order.flatMap { table.vectors[$0 * 4..<($0 + 1) * 4] }
    }

    /// Losses of `steps` training steps and the weights after them.
    static func run(_ model: Model, steps: Int = 4, oneKey: Bool = false) throws -> (losses: [Float], weights: [Float]) {
        var losses: [Float] = []
        for i in 0..<steps {
            try model.train(batch: batch(model.solver.batchsize, seed: UInt64(100 + i), oneKey: oneKey))
            losses.append(model.currentLoss)
        }
        return (losses, try weights(model))
    }

    static func expectClose(_ a: [Float], _ b: [Float], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.count == b.count, "\(what): \(a.count) vs \(b.count) values", sourceLocation: sourceLocation)
        var worst = 0.0
        for (x, y) in zip(a, b) {
            let difference = abs(Double(x) - Double(y)), tolerance = 1e-4 + 1e-4 * abs(Double(y))
            worst = max(worst, difference / tolerance)
        }
        #expect(worst <= 1, "\(what): worst difference is \(worst) × the tolerance", sourceLocation: sourceLocation)
    }

    static let optimizers = [CreateOptimizer(optimizerType: .adam, updateType: .global),
                             CreateOptimizer(optimizerType: .sgd, updateType: .local)]

    @Test("2 and 3 workers give one worker's losses and weights (Adam and SGD, each embedding type)",
          arguments: [EmbeddingType.distributedSlotSparseEmbeddingHash, .localizedSlotSparseEmbeddingHash,
                      .localizedSlotSparseEmbeddingOneHot], [0, 1])
    func matchesOneWorker(type: EmbeddingType, optimizer: Int) throws {
        let oneKey = type == .localizedSlotSparseEmbeddingOneHot && optimizer == 1
        let reference = try Self.run(Self.model(type, workers: 1, optimizer: Self.optimizers[optimizer]), oneKey: oneKey)
        #expect(Set(reference.losses).count == reference.losses.count, "training moved the loss")
        for workers in [2, 3] {
            let model = try Self.model(type, workers: workers, optimizer: Self.optimizers[optimizer])
            #expect(model.runner is WorkerGroup)
            let sharded = try Self.run(model, oneKey: oneKey)
            Self.expectClose(sharded.losses, reference.losses, "\(workers) workers' losses")
            Self.expectClose(sharded.weights, reference.weights, "\(workers) workers' weights")
        }
    }

    @Test("mean combiner, an L2 regularizer and an incomplete batch reduce as on one worker",
          arguments: [EmbeddingType.distributedSlotSparseEmbeddingHash, .localizedSlotSparseEmbeddingHash])
    func meanRegularizedIncomplete(type: EmbeddingType) throws {
        func run(_ workers: Int) throws -> ([Float], [Float], [Float]) {
            let model = try Self.model(type, workers: workers, optimizer: Self.optimizers[0], combiner: "mean", regularized: true)
            var (losses, _) = try Self.run(model, steps: 3)
            // 7 of 12 samples: workers 0 and 1 of 3 get 4 and 3, worker 2 none.
            try model.train(batch: Self.batch(7, seed: 55))
            losses.append(model.currentLoss)
            let predictions = try model.predict(batch: Self.batch(5, seed: 77)).tasks[0].probabilities
            return (losses, try Self.weights(model), predictions)
        }
        let reference = try run(1)
        for workers in [2, 3] {
            let sharded = try run(workers)
            Self.expectClose(sharded.0, reference.0, "\(workers) workers' losses")
            Self.expectClose(sharded.1, reference.1, "\(workers) workers' weights")
            Self.expectClose(sharded.2, reference.2, "\(workers) workers' predictions")
        }
    }

    @Test("replicas keep identical dense weights, and the shards partition the keys as the plan says")
    func replicasAndShards() throws {
        let model = try Self.model(.localizedSlotSparseEmbeddingHash, workers: 3, optimizer: Self.optimizers[0])
        _ = try Self.run(model, steps: 2)
        let group = try #require(model.runner as? WorkerGroup)
        let first = group.replicas[0].parameters.flatMap { model.backend.floats($0.value) }
        for replica in group.replicas.dropFirst() {
            #expect(replica.parameters.flatMap { model.backend.floats($0.value) } == first)
        }
        let table = group.embeddings[0].table
        for (g, shard) in table.shards.enumerated() {
            let part = shard.sparseModel()
            // Each key lies in the range of a slot that worker g owns.
            for key in part.keys {
                let slot = Self.slotSizes.indices.first { s in key < Int64(Self.slotSizes[...s].reduce(0, +)) }!
                #expect(slot % 3 == g)
            }
        }
    }

    @Test("a batch size that does not split over the workers is a clear error, as in HugeCTR")
    func indivisibleBatch() throws {
        #expect {
            _ = try Self.model(.distributedSlotSparseEmbeddingHash, workers: 5, optimizer: Self.optimizers[0])
        } throws: { error in
            "\(error)".contains("batchsize 12 must be a multiple of the 5 devices")
        }
        #expect {
            _ = try Self.model(.localizedSlotSparseEmbeddingHash, workers: 6, optimizer: Self.optimizers[0])
        } throws: { error in
            "\(error)".contains("needs at least as many slots as the 6 workers")
        }
    }
}
