import CTRCore
import CTREmbedding

extension BackendSelfTest {
    /// Cases of the one-hot embedding (`oneHotLookup`): multi-hot segments over five slots of
    /// uneven sizes, one key just past its slot's range (recorded, row -1, adding nothing), then
    /// pooling; and whole training steps of `HashEmbedding(oneHot:)`, whose Global Adam visits
    /// every row through the index's state, ending with an out-of-range key in evaluation that
    /// both backends must report.
    static func oneHotCases(seed: UInt64, vec: Int) -> [Case] {
        var rng = CounterRNG(seed: seed, stream: 131)
        let sizes = [37, 1, 500, 64, 3], samples = 60
        let starts = sizes.indices.map { Int64(sizes[..<$0].reduce(0, +)) }, capacity = sizes.reduce(0, +)
        /// CSR keys of `samples` samples, 0–3 keys per slot, each offset into its slot's range.
        func batch(samples: Int) -> (keys: [Int64], offsets: [Int64]) {
            var keys: [Int64] = [], offsets: [Int64] = [0]
            for segment in 0..<(samples * sizes.count) {
                let slot = segment % sizes.count
                for _ in 0..<rng.nextInt(below: 4) { keys.append(starts[slot] + Int64(rng.nextInt(below: sizes[slot]))) }
                offsets.append(Int64(keys.count))
            }
            return (keys, offsets)
        }
        let (keys, offsets) = batch(samples: samples)
        // The first key of a slot-3 segment (keys 538..<602) becomes 602, slot 4's first key.
        let badSegment = (0..<(samples * sizes.count)).first { $0 % sizes.count == 3 && offsets[$0] < offsets[$0 + 1] }!
        var checked = keys
        checked[Int(offsets[badSegment])] = starts[4]
        let values = (0..<(capacity * vec)).map { _ in Float(rng.nextUniform(-1, 1)) }
        let steps = (0..<3).map { _ in batch(samples: 16) }
        let grads = steps.map { _ in (0..<(16 * sizes.count * vec)).map { _ in Float(rng.nextNormal()) } }

        func lookupAndPool(_ b: any Backend) -> [Double] {
            let index = OneHotIndex(slotSizes: sizes, backend: b)
            let tk = b.makeTensor([checked.count], .int64), to = b.makeTensor([offsets.count], .int64)
            let rows = b.makeTensor([checked.count], .int64), out = b.makeTensor([offsets.count - 1, vec], .float32)
            b.upload(checked, to: tk)
            b.upload(offsets, to: to)
            _ = b.oneHotLookup(index, keys: tk, offsets: to, segments: offsets.count - 1, rows: rows)
            let failure: [Double] = index.failure(b).map { [Double($0.key), Double($0.slot)] } ?? [-1, -1]
            b.embeddingPool(values: b.tensor(values, [capacity, vec]), rows: rows, offsets: to, segments: offsets.count - 1,
                            vec: vec, mean: true, into: out)
            return failure + b.int64s(rows).map(Double.init) + b.floats(out).map(Double.init)
        }

        func train(_ b: any Backend, _ optimizer: SparseOptimizer, _ combiner: Combiner) throws -> [Double] {
            let emb = try HashEmbedding(oneHot: "selftest_onehot", vecSize: vec, slots: sizes.count, slotSizes: sizes,
                                        combiner: combiner, maxBatch: 16, maxKeysPerSample: 3 * sizes.count,
                                        optimizer: optimizer, seed: seed, backend: b)
            var pooled: [Double] = []
            for (step, g) in zip(steps, grads) {
                try emb.forward(keys: step.keys, offsets: step.offsets, batch: 16, training: true)
                pooled += b.floats(emb.output).map(Double.init)
                b.upload(g, to: emb.outputGrad)
                emb.backward()
                emb.update(lr: 0.05, scaler: 2)
            }
            var rejected = 0.0
            do {
                try emb.forward(keys: [0, starts[1] + 1], offsets: [0, 1, 2] + Array(repeating: 2, count: sizes.count - 2),
                                batch: 1, training: false)
            } catch let error as SwiftCTRError where error.message.contains("key \(starts[1] + 1) of slot 1") {
                rejected = 1
            }
            return [rejected] + pooled + b.floats(emb.values).map(Double.init)
        }

        return [
            Case(name: "one-hot lookup (a key out of range) + pool (mean), vec \(vec)", tolerance: 1e-5) { lookupAndPool($0) },
            Case(name: "one-hot embedding, 3 steps of sparse SGD (sum) + a bad eval key, vec \(vec)", tolerance: 1e-5) {
                try train($0, .sgd, .sum)
            },
            Case(name: "one-hot embedding, 3 steps of sparse Adam global (mean) + a bad eval key, vec \(vec)",
                 tolerance: 1e-4) {
                try train($0, .adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-7, global: true, lazy: false), .mean)
            },
        ]
    }
}
