import CTRCPU
import CTRCUDA
@testable import SwiftCTR
import Testing

// The small DeepFM, DIN and BST models compile on the CPU and learn their planted rules.

/// The per-step losses of one training step of `spec` on each of `batches`, in turn. Each batch is
/// new to the model when it trains on it (the loss is taken before the update), so a falling loss
/// is learning the rule, not memorizing the batches.
private func trainingLosses(_ spec: SmallModel, batches: [Batch], lr: Float = 0.01, compiledBatch: Int? = nil) throws -> [Float] {
    let model = try spec.compiled(batchSize: compiledBatch ?? batches[0].count, seed: 5, lr: lr, backend: CPUBackend())
    return try SmallModel.trainingLosses(model, batches: batches)
}

/// The mean of the first and of the last ten losses.
private func firstAndLast(_ losses: [Float]) -> (first: Float, last: Float) {
    (losses.prefix(10).reduce(0, +) / 10, losses.suffix(10).reduce(0, +) / 10)
}

/// The share of positive labels.
private func positiveRate(_ batches: [Batch]) -> Double {
    let labels = batches.flatMap(\.labels)
    return Double(labels.filter { $0 == 1 }.count) / Double(labels.count)
}

@Suite("Small models")
struct SmallModelTests {
    @Test("DeepFM (FmOrder2, WeightMultiply, Slice, Add) learns an order-2 rule")
    func deepFM() throws {
        let batches = SmallModels.DeepFM.batches(100, size: 64, seed: 3)
        #expect((0.3...0.7).contains(positiveRate(batches)), "the rule should split the samples")
        // The order-2 part starts at a saddle (small embeddings), so it needs more steps than the others.
        let losses = try trainingLosses(SmallModels.DeepFM.model(), batches: batches, lr: 0.03)
        let (first, last) = firstAndLast(losses)
        print("SmallModels.DeepFM: mean loss of the first 10 steps \(first), of the last 10 \(last)")
        #expect(losses.allSatisfy { $0.isFinite }, "losses \(losses)")
        #expect(last < 0.6 * first && last < 0.5, "loss \(first) → \(last)")
    }

    @Test("DIN (FusedReshapeConcat, Scale, Sub, ElementwiseMultiply, PReLU_Dice, Softmax, MatrixMultiply) learns which category the history prefers")
    func din() throws {
        let batches = SmallModels.DIN.batches(60, size: 64, seed: 4)
        #expect((0.3...0.7).contains(positiveRate(batches)), "the rule should split the samples")
        let losses = try trainingLosses(SmallModels.DIN.model(), batches: batches)
        let (first, last) = firstAndLast(losses)
        print("SmallModels.DIN: mean loss of the first 10 steps \(first), of the last 10 \(last)")
        #expect(losses.allSatisfy { $0.isFinite }, "losses \(losses)")
        #expect(last < 0.6 * first && last < 0.5, "loss \(first) → \(last)")
    }

    @Test("BST (SequenceMask, MultiHeadAttention, LayerNorm, ReduceMean) learns which category the sequence prefers")
    func bst() throws {
        let batches = SmallModels.BST.batches(60, size: 64, seed: 5)
        #expect((0.3...0.7).contains(positiveRate(batches)), "the rule should split the samples")
        // Lengths 3…history, the rest of each sequence empty.
        let lengths = Set(batches.flatMap(\.dense))
        #expect(lengths == Set((3...SmallModels.BST.history).map(Float.init)))
        let losses = try trainingLosses(SmallModels.BST.model(), batches: batches)
        let (first, last) = firstAndLast(losses)
        print("SmallModels.BST: mean loss of the first 10 steps \(first), of the last 10 \(last)")
        #expect(losses.allSatisfy { $0.isFinite }, "losses \(losses)")
        #expect(last < 0.6 * first && last < 0.5, "loss \(first) → \(last)")
    }

    /// The three models by name, with a few batches of their data.
    static func named(_ name: String, batches: Int, size: Int) -> (SmallModel, [Batch]) {
        switch name {
        case "DeepFM": (SmallModels.DeepFM.model(), SmallModels.DeepFM.batches(batches, size: size, seed: 8))
        case "DIN": (SmallModels.DIN.model(), SmallModels.DIN.batches(batches, size: size, seed: 8))
        default: (SmallModels.BST.model(), SmallModels.BST.batches(batches, size: size, seed: 8))
        }
    }

    /// Every layer works on the batch's samples only: batches of 40 train the same in a model
    /// compiled for 40 as in one compiled for 64 (the rows past the batch are never read).
    @Test("Two tasks (a loss per label, loss weights 1 and 0.5) both learn their rules")
    func twoTask() throws {
        let batches = SmallModels.TwoTask.batches(60, size: 64, seed: 6)
        for column in 0..<2 {  // buy, click
            let labels = batches.flatMap { b in (0..<b.count).map { b.labels[2 * $0 + column] } }
            let rate = Double(labels.filter { $0 == 1 }.count) / Double(labels.count)
            #expect((0.3...0.7).contains(rate), "label column \(column) should split the samples")
        }
        let losses = try trainingLosses(SmallModels.TwoTask.model(), batches: batches, lr: 0.03)
        let (first, last) = firstAndLast(losses)
        print("SmallModels.TwoTask: mean weighted loss of the first 10 steps \(first), of the last 10 \(last)")
        #expect(first > 0.9, "two untrained BCE losses weighted 1 and 0.5 start near 1.5·ln 2, found \(first)")
        #expect(losses.allSatisfy { $0.isFinite } && last < 0.6 * first, "loss \(first) → \(last)")
    }

    @Test(arguments: ["DeepFM", "DIN", "BST"])
    func partialBatchesTrainAsFullOnes(_ name: String) throws {
        let (spec, batches) = Self.named(name, batches: 4, size: 40)
        let full = try trainingLosses(spec, batches: batches)
        let partial = try trainingLosses(spec, batches: batches, compiledBatch: 64)
        #expect(full.allSatisfy { $0.isFinite })
        #expect(zip(full, partial).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($0)) }, "\(full) vs \(partial)")
    }

    /// The device self-test's small-model cases on the fallback-GEMM CPU backend (and a GPU where
    /// there is one) against the BLAS CPU backend: the losses agree, and they are the five losses
    /// of a model that trains.
    @Test func selfTestCasesPass() throws {
        var devices: [any Backend] = [BackendTests.fallback]
        if CUDADriver.isAvailable() { devices.append(try CUDABackend()) }
        let cases = BackendSelfTest.smallModelCases(seed: 7)
        #expect(cases.map(\.name) == ["DeepFM", "DIN", "BST", "two-task"].map { "small \($0) model, 5 training steps: losses" })
        for c in cases {
            let expected = try c.run(TS.cpu)
            #expect(expected.count == 5 && expected.allSatisfy { $0.isFinite && $0 > 0 }, "\(c.name): \(expected)")
            #expect(Set(expected).count > 1, "\(c.name): the losses move")
            for device in devices {
                let result = BackendSelfTest.compare(c.name, expected, try c.run(device), tolerance: c.tolerance)
                try device.check()
                #expect(result.passed, "\(device.name) \(result.name): \(result.detail), max abs \(result.maxAbsError)")
            }
        }
    }

    /// The self-test's keyed rows make training independent of the order in which the keys got
    /// their rows (racy on a GPU): inserting the keys in reverse first changes no loss.
    @Test func keyedRowsIgnoreTheInsertionOrder() throws {
        let spec = SmallModels.DIN.model(), batches = SmallModels.DIN.batches(3, size: 32, seed: 2)
        let inOrder = try BackendSelfTest.smallModelLosses(spec, batches: batches, seed: 7, backend: TS.cpu)
        let model = try spec.compiled(batchSize: 32, seed: 7, backend: TS.cpu)
        for (embedding, index, _) in model.graph!.embeddings {
            let table = try #require({ if case .hash(let table) = embedding.keyMap { table } else { nil } }())
            let keys = Array(Set(batches.flatMap { $0.sparse[index].keys }).sorted().reversed())
            let tk = TS.cpu.makeTensor([keys.count], .int64), rows = TS.cpu.makeTensor([keys.count], .int64)
            TS.cpu.upload(keys, to: tk)
            #expect(TS.cpu.hashLookup(table, keys: tk, count: keys.count, rows: rows, insert: true))
            #expect(TS.cpu.int64s(rows) == (0..<Int64(keys.count)).map { $0 }, "the reversed keys took the first rows")
        }
        try BackendSelfTest.giveEachKeyItsOwnRow(model, batches: batches, seed: 7)
        let reversed = try SmallModel.trainingLosses(model, batches: batches)
        #expect(reversed == inOrder)
        let unkeyed = try SmallModel.trainingLosses(try spec.compiled(batchSize: 32, seed: 7, backend: TS.cpu),
                                                    batches: batches)
        #expect(unkeyed != inOrder, "the keyed rows replace the initial values")
    }
}
