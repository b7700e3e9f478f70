import CTRCore
import CTRCPU
import CTREmbedding
import Foundation
@testable import SwiftCTR
import Testing

// HashEmbedding against the layer-math spec §5: first-sight row order, sum/mean pooling (§5.2),
// per-occurrence gradients summed per row (§5.3) and the sparse optimizers (§5.5), each checked
// with a naive fp64 loop.

/// Keys of one batch as CSR: `segments[b * slots + s]` holds the keys of sample b, slot s.
private struct Segments {
    let segments: [[Int64]]
    var keys: [Int64] { segments.flatMap { $0 } }
    var offsets: [Int64] {
        var o: [Int64] = [0]
        for s in segments { o.append(o.last! + Int64(s.count)) }
        return o
    }
}

private func makeEmbedding(name: String = "emb", vec: Int = 4, slots: Int = 2, combiner: Combiner = .sum,
                           capacity: Int = 64, maxBatch: Int = 4, maxKeysPerSample: Int = 6,
                           optimizer: SparseOptimizer = .sgd, seed: UInt64 = 3) -> HashEmbedding {
    HashEmbedding(name: name, vecSize: vec, slots: slots, combiner: combiner, capacity: capacity, maxBatch: maxBatch,
                  maxKeysPerSample: maxKeysPerSample, optimizer: optimizer, initialValues: .uniform(0.05), seed: seed,
                  backend: TS.cpu)
}

private func forward(_ emb: HashEmbedding, _ batch: Segments, samples: Int, training: Bool) throws {
    try emb.forward(keys: batch.keys, offsets: batch.offsets, batch: samples, training: training)
}

/// Pools `vector(for:)` of each segment in fp64: sum, or mean when n > 1; unknown keys add zero but
/// count in n.
private func poolRef(_ emb: HashEmbedding, _ batch: Segments) -> [Double] {
    var out: [Double] = []
    for keys in batch.segments {
        var acc = [Double](repeating: 0, count: emb.vecSize)
        for key in keys {
            guard let v = emb.vector(for: key) else { continue }
            for k in acc.indices { acc[k] += Double(v[k]) }
        }
        if emb.combiner == .mean && keys.count > 1 { acc = acc.map { $0 / Double(keys.count) } }
        out += acc
    }
    return out
}

/// Sample b, slot s: 0: [10, 11, 12]; 1: []; 2: [13]; 3: [10, 10]; 4: [14, 15]; 5: [11].
private let multiHot = Segments(segments: [[10, 11, 12], [], [13], [10, 10], [14, 15], [11]])

@Suite struct EmbeddingTests {
    let cpu = TS.cpu

    @Test func keysGetRowsInFirstSightOrder() throws {
        let emb = makeEmbedding(slots: 1, maxKeysPerSample: 12)
        let initial = TS.floats(emb.values)
        #expect(initial.allSatisfy { abs($0) <= 0.05 } && initial.contains { $0 != 0 }, "rows start in U(−0.05, 0.05)")
        let distinct: [Int64] = [0, -1, .max, .min, 42, -123_456_789, 1 << 40]
        try forward(emb, Segments(segments: [[0, -1, .max, .min, 42, 0, -123_456_789, 42, 1 << 40]]), samples: 1, training: true)
        #expect(emb.size == distinct.count)
        func row(_ r: Int) -> [Float] { Array(initial[(r * emb.vecSize)..<((r + 1) * emb.vecSize)]) }
        for (r, key) in distinct.enumerated() {
            #expect(emb.vector(for: key) == row(r), "key \(key) should own row \(r)")
        }
        #expect(emb.vector(for: 7) == nil)

        // Same keys in another order plus a new one: old rows are kept, the new key takes the next row.
        try forward(emb, Segments(segments: [[.min, 7, 1 << 40, 0, .max]]), samples: 1, training: true)
        #expect(emb.size == distinct.count + 1)
        for (r, key) in distinct.enumerated() { #expect(emb.vector(for: key) == row(r)) }
        #expect(emb.vector(for: 7) == row(distinct.count))
    }

    @Test(arguments: [Combiner.sum, .mean])
    func poolingMatchesReference(_ combiner: Combiner) throws {
        let emb = makeEmbedding(vec: 5, slots: 2, combiner: combiner)
        cpu.fill(emb.output, 777)
        try forward(emb, multiHot, samples: 3, training: true)
        #expect(emb.size == 6)
        let out = TS.floats(emb.output)
        TS.expectClose(Array(out.prefix(30)), poolRef(emb, multiHot), rtol: 1e-6, atol: 1e-7, "\(combiner) pooling")
        TS.expectAll(Array(out[5..<10]), equal: 0, "an empty slot gives zeros")
        // Hand check of two segments: sample 1 slot 1 is [10, 10], sample 0 slot 0 is [10, 11, 12].
        let v10 = try #require(emb.vector(for: 10)), v11 = try #require(emb.vector(for: 11))
        let v12 = try #require(emb.vector(for: 12))
        let twice = v10.map { combiner == .mean ? Double($0) : 2 * Double($0) }
        TS.expectClose(Array(out[15..<20]), twice, rtol: 1e-6, atol: 1e-7, "duplicate key in one slot")
        let three = (0..<5).map { (Double(v10[$0]) + Double(v11[$0]) + Double(v12[$0])) / (combiner == .mean ? 3 : 1) }
        TS.expectClose(Array(out[0..<5]), three, rtol: 1e-6, atol: 1e-7, "three keys")
        TS.expectAll(Array(out[30...]), equal: 777, "samples beyond the batch are untouched")
    }

    @Test(arguments: [Combiner.sum, .mean])
    func unseenKeysInEvaluation(_ combiner: Combiner) throws {
        let emb = makeEmbedding(vec: 3, slots: 2, combiner: combiner)
        try forward(emb, Segments(segments: [[1], [2], [3], []]), samples: 2, training: true)
        #expect(emb.size == 3)
        let evalBatch = Segments(segments: [[1, 99], [98], [2, 3, 97], []])
        try forward(emb, evalBatch, samples: 2, training: false)
        #expect(emb.size == 3, "evaluation must not insert keys")
        #expect(emb.vector(for: 97) == nil && emb.vector(for: 98) == nil && emb.vector(for: 99) == nil)
        let out = TS.floats(emb.output, 12)
        let v1 = try #require(emb.vector(for: 1)), v2 = try #require(emb.vector(for: 2))
        let v3 = try #require(emb.vector(for: 3))
        let meanOrSum = { (sum: Double, n: Double) in combiner == .mean ? sum / n : sum }
        TS.expectClose(Array(out[0..<3]), v1.map { meanOrSum(Double($0), 2) }, rtol: 1e-6, atol: 1e-7,
                       "[1, unseen]: the unseen key adds 0 but counts in n")
        TS.expectAll(Array(out[3..<6]), equal: 0, "[unseen] gives zeros")
        TS.expectClose(Array(out[6..<9]), (0..<3).map { meanOrSum(Double(v2[$0]) + Double(v3[$0]), 3) },
                       rtol: 1e-6, atol: 1e-7, "[2, 3, unseen]")
        TS.expectAll(Array(out[9..<12]), equal: 0, "empty slot")

        // Backward after evaluation skips the unseen keys without failing.
        cpu.upload(TS.normals(12, seed: 5), to: emb.outputGrad)
        emb.backward()
        let before = TS.floats(emb.values)
        emb.update(lr: 0.1, scaler: 1)
        #expect(emb.size == 3)
        #expect(TS.floats(emb.values) != before, "the seen keys still get their gradient")
    }

    @Test func capacityExhaustionThrows() throws {
        let emb = makeEmbedding(name: "small_table", slots: 1, capacity: 4, maxKeysPerSample: 8)
        try forward(emb, Segments(segments: [[1, 2, 3]]), samples: 1, training: true)
        let error = #expect(throws: SwiftCTRError.self) {
            try forward(emb, Segments(segments: [[3, 4, 5, 6]]), samples: 1, training: true)
        }
        #expect(error?.kind == .capacity)
        #expect(error?.description.contains("small_table") == true, "names the embedding: \(error?.description ?? "")")
        #expect(error?.description.contains("workspace") == true, "names the workspace: \(error?.description ?? "")")
        #expect(emb.size == 4, "the table keeps the keys that fitted")
        // Known keys still work, and evaluation never inserts (so never overflows).
        try forward(emb, Segments(segments: [[1, 4]]), samples: 1, training: true)
        try forward(emb, Segments(segments: [[7, 8, 9]]), samples: 1, training: false)
        #expect(emb.size == 4)
    }

    @Test func malformedBatchesThrow() {
        let emb = makeEmbedding(slots: 2, maxBatch: 2, maxKeysPerSample: 2)
        let wrongOffsetCount = #expect(throws: SwiftCTRError.self) {
            try emb.forward(keys: [1, 2], offsets: [0, 1, 2], batch: 2, training: true)
        }
        #expect(wrongOffsetCount?.kind == .data)
        let tooManyKeys = #expect(throws: SwiftCTRError.self) {
            try emb.forward(keys: [1, 2, 3, 4, 5], offsets: [0, 5, 5], batch: 1, training: true)
        }
        #expect(tooManyKeys?.kind == .data)
    }

    /// The last row offset must equal the number of keys; otherwise pooling reads rows of keys that
    /// are not in the batch.
    @Test func offsetsMustCoverTheKeys() {
        let emb = makeEmbedding(slots: 2, maxBatch: 2, maxKeysPerSample: 3)
        #expect(throws: SwiftCTRError.self, "offsets [0, 1, 2] for 3 keys must be rejected") {
            try emb.forward(keys: [1, 2, 3], offsets: [0, 1, 2], batch: 1, training: true)
        }
    }

    /// SGD moves each row by exactly −lr·Σ(occurrence gradients)/scaler, with the mean's 1/n per
    /// occurrence; duplicate keys in one slot and across samples add up.
    @Test(arguments: [Combiner.sum, .mean])
    func backwardSumsDuplicatesSGD(_ combiner: Combiner) throws {
        let vec = 3, lr: Float = 0.1, scaler: Float = 2
        let emb = makeEmbedding(vec: vec, slots: 2, combiner: combiner)
        try forward(emb, Segments(segments: [[50], [], [], [], [], []]), samples: 3, training: true)
        try forward(emb, multiHot, samples: 3, training: true)
        let keys: [Int64] = [10, 11, 12, 13, 14, 15, 50]
        var before: [Int64: [Float]] = [:]
        for key in keys {
            let row = try #require(emb.vector(for: key))
            before[key] = row
        }
        let grads = TS.normals(multiHot.segments.count * vec, seed: 9)
        cpu.upload(grads, to: emb.outputGrad)
        emb.backward()
        emb.update(lr: lr, scaler: scaler)
        #expect(emb.step == 1)

        var expected: [Int64: [Double]] = [:]
        for key in keys { expected[key] = before[key]!.map(Double.init) }
        for (s, segment) in multiHot.segments.enumerated() {
            let scale = combiner == .mean && segment.count > 1 ? 1 / Double(segment.count) : 1
            for key in segment {
                for k in 0..<vec { expected[key]![k] -= Double(lr) * Double(grads[s * vec + k]) * scale / Double(scaler) }
            }
        }
        for key in keys {
            TS.expectClose(try #require(emb.vector(for: key)), expected[key]!, rtol: 1e-5, atol: 1e-7, "row of key \(key)")
        }
        #expect(emb.vector(for: 50) == before[50], "a row outside the batch does not move")
        // Key 10: once in sample 0 slot 0 (n = 3) and twice in sample 1 slot 1 (n = 2).
        let w = combiner == .mean ? [1.0 / 3, 0.5, 0.5] : [1.0, 1, 1]
        let g10 = (0..<vec).map { w[0] * Double(grads[$0]) + (w[1] + w[2]) * Double(grads[3 * vec + $0]) }
        TS.expectClose(try #require(emb.vector(for: 10)),
                       (0..<vec).map { Double(before[10]![$0]) - Double(lr) * g10[$0] / Double(scaler) },
                       rtol: 1e-5, atol: 1e-7, "key 10 by hand")
    }

    /// Adam Local, Global and LazyGlobal (§5.5) over three steps against the spec's own formulas,
    /// applied to the whole table in fp64. Rows: 100→0, 200→1, 300→2, 400→3.
    @Test(arguments: ["Local", "Global", "LazyGlobal"])
    func sparseAdam(_ mode: String) throws {
        let vec = 3, capacity = 8, lr: Float = 0.01, scaler: Float = 2
        let beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-3
        let emb = makeEmbedding(vec: vec, slots: 1, capacity: capacity, maxBatch: 3, maxKeysPerSample: 2,
                                optimizer: .adam(beta1: beta1, beta2: beta2, epsilon: epsilon,
                                                 global: mode != "Local", lazy: mode == "LazyGlobal"))
        let steps: [[[Int64]]] = [
            [[100], [200], [100, 300]],  // 100 twice; 200 and 300 new
            [[100], [400]],  // 400 new; 200, 300 untouched
            [[300], [400], [400]],  // 100, 200 untouched
        ]
        let rowOf: [Int64: Int] = [100: 0, 200: 1, 300: 2, 400: 3]
        let (b1, b2, eps) = (Double(beta1), Double(beta2), Double(epsilon))
        var w = TS.floats(emb.values).map(Double.init)
        var touched: Set<Int> = []
        var m = [Double](repeating: 0, count: capacity * vec), v = m
        var prev = [Int](repeating: 1, count: capacity)
        var history: [[Float]] = [TS.floats(emb.values)]

        for (index, samples) in steps.enumerated() {
            let t = index + 1
            try forward(emb, Segments(segments: samples), samples: samples.count, training: true)
            let grads = TS.normals(samples.count * vec, seed: 200 + UInt64(t), std: 0.01)
            cpu.upload(grads, to: emb.outputGrad)
            emb.backward()
            emb.update(lr: lr, scaler: scaler)

            var g: [Int: [Double]] = [:]
            for (b, keys) in samples.enumerated() {
                for key in keys {
                    let row = rowOf[key]!
                    var acc = g[row] ?? [Double](repeating: 0, count: vec)
                    for k in 0..<vec { acc[k] += Double(grads[b * vec + k]) / Double(scaler) }
                    g[row] = acc
                }
            }
            let alpha = Double(lr) * (1 - pow(b2, Double(t))).squareRoot() / (1 - pow(b1, Double(t)))
            switch mode {
            case "Local":
                for (row, gr) in g {
                    for k in 0..<vec {
                        let i = row * vec + k
                        m[i] = b1 * m[i] + (1 - b1) * gr[k]
                        v[i] = b2 * v[i] + (1 - b2) * gr[k] * gr[k]
                        w[i] -= alpha * m[i] / (v[i].squareRoot() + eps)
                    }
                }
            case "Global":
                for (row, gr) in g {
                    for k in 0..<vec {
                        m[row * vec + k] += (1 - b1) * gr[k] / b1
                        v[row * vec + k] += (1 - b2) * gr[k] * gr[k] / b2
                    }
                }
                for i in 0..<(capacity * vec) {
                    m[i] *= b1
                    v[i] *= b2
                    w[i] -= alpha * m[i] / (v[i].squareRoot() + eps)
                }
            default:
                for (row, gr) in g {
                    let skipped = t - prev[row]
                    prev[row] = t
                    let p = Double(prev[row])
                    let a = Double(lr) / (1 - b1) * (1 - pow(b2, p)).squareRoot() / (1 - pow(b1, p)) * (1 - pow(b1, Double(skipped)))
                    for k in 0..<vec {
                        let i = row * vec + k
                        w[i] -= a * m[i] / (v[i].squareRoot() + eps)
                        m[i] = pow(b1, Double(skipped)) * m[i] + (1 - b1) * gr[k]
                        v[i] = pow(b2, Double(skipped)) * v[i] + (1 - b2) * gr[k] * gr[k]
                    }
                }
            }
            let table = TS.floats(emb.values)
            history.append(table)
            TS.expectClose(table, w, rtol: 1e-5, atol: 1e-7, "\(mode) table after step \(t)")
            // Every touched row moved measurably (except on a first LazyGlobal touch).
            for row in g.keys where mode != "LazyGlobal" || touched.contains(row) {
                let moved = (0..<vec).map { abs(Double(table[row * vec + $0]) - Double(history[t - 1][row * vec + $0])) }.max()!
                #expect(moved > 1e-4 * Double(lr), "\(mode): touched row \(row) should move at step \(t)")
            }
            touched.formUnion(g.keys)
        }
        func rows(_ table: [Float], _ r: Int) -> [Float] { Array(table[(r * vec)..<((r + 1) * vec)]) }
        switch mode {
        case "Local":
            #expect(rows(history[2], 1) == rows(history[1], 1) && rows(history[2], 2) == rows(history[1], 2),
                    "Local: rows untouched in step 2 keep their values")
            #expect(rows(history[3], 0) == rows(history[2], 0), "Local: row 0 untouched in step 3")
        case "Global":
            #expect(rows(history[2], 1) != rows(history[1], 1) && rows(history[2], 2) != rows(history[1], 2),
                    "Global: untouched used rows keep moving with their momentum")
            #expect(rows(history[3], 4) == rows(history[0], 4), "Global: a row never used stays put")
        default:
            #expect(rows(history[1], 0) == rows(history[0], 0) && rows(history[1], 1) == rows(history[0], 1),
                    "LazyGlobal: the first touch does not move w")
            #expect(rows(history[2], 3) == rows(history[1], 3), "LazyGlobal: row 3's first touch (step 2) does not move it")
            #expect(rows(history[2], 1) == rows(history[1], 1), "LazyGlobal: untouched rows wait for their next touch")
            #expect(rows(history[2], 0) != rows(history[1], 0), "LazyGlobal: the second touch applies the first gradient")
        }
    }
}

// LocalizedSlotSparseEmbeddingOneHot (layer math §5.4): keys already offset per slot are their own
// rows; pooling, gradients and updates as for the hash tables, checked against plain loops over
// the table.

/// Slot sizes 4, 6, 3: slot 0 takes keys 0..<4, slot 1 keys 4..<10, slot 2 keys 10..<13.
private let oneHotSizes = [4, 6, 3]

private func makeOneHot(vec: Int = 4, combiner: Combiner = .sum, maxBatch: Int = 4, maxKeysPerSample: Int = 6,
                        optimizer: SparseOptimizer = .sgd) throws -> HashEmbedding {
    try HashEmbedding(oneHot: "onehot_emb", vecSize: vec, slots: oneHotSizes.count, slotSizes: oneHotSizes,
                      combiner: combiner, maxBatch: maxBatch, maxKeysPerSample: maxKeysPerSample, optimizer: optimizer,
                      seed: 3, backend: TS.cpu)
}

/// Two samples × three slots, multi-hot: 0: [1, 3]; 1: [4, 4, 9]; 2: []; 3: [0]; 4: [5]; 5: [12, 10].
private let oneHotBatch = Segments(segments: [[1, 3], [4, 4, 9], [], [0], [5], [12, 10]])

/// Pools rows `key` of `table` per segment in fp64: sum, or mean when n > 1.
private func oneHotPool(_ table: [Float], vec: Int, _ batch: Segments, mean: Bool) -> [Double] {
    batch.segments.flatMap { keys in
        (0..<vec).map { k in
            let sum = keys.reduce(0.0) { $0 + Double(table[Int($1) * vec + k]) }
            return mean && keys.count > 1 ? sum / Double(keys.count) : sum
        }
    }
}

@Suite struct OneHotEmbeddingTests {
    @Test func keysAreTheirOwnRowsAndBlocksStartPerSlot() throws {
        let vec = 8
        let emb = try makeOneHot(vec: vec)
        #expect(emb.capacity == 13 && emb.size == 13, "capacity is the sum of the slot sizes, every row in use")
        let initial = TS.floats(emb.values)
        for (slot, range) in [(0, 0..<4), (1, 4..<10), (2, 10..<13)] {
            let block = initial[(range.lowerBound * vec)..<(range.upperBound * vec)].map { abs(Double($0)) }
            let bound = (1 / Double(oneHotSizes[slot])).squareRoot()
            #expect(block.allSatisfy { $0 <= bound }, "block of slot \(slot) lies in U(±1/√\(oneHotSizes[slot]))")
            #expect(block.max()! > 0.7 * bound, "block of slot \(slot) spreads over its range, max \(block.max()!)")
        }
        try emb.forward(keys: [2, 7, 11, 0, 4, 12], offsets: [0, 1, 2, 3, 4, 5, 6], batch: 2, training: true,
                        oneHot: true)
        let out = TS.floats(emb.output, 6 * vec)
        for (segment, key) in [2, 7, 11, 0, 4, 12].enumerated() {
            let row = Array(initial[(key * vec)..<((key + 1) * vec)])
            #expect(Array(out[(segment * vec)..<((segment + 1) * vec)]) == row, "segment \(segment) is row \(key)")
            #expect(emb.vector(for: Int64(key)) == row)
        }
        #expect(emb.vector(for: 13) == nil && emb.vector(for: -1) == nil)
    }

    @Test(arguments: [Combiner.sum, .mean])
    func poolingMatchesReference(_ combiner: Combiner) throws {
        let emb = try makeOneHot(vec: 5, combiner: combiner)
        cpu.fill(emb.output, 777)
        try forward(emb, oneHotBatch, samples: 2, training: true)
        let out = TS.floats(emb.output)
        TS.expectClose(Array(out.prefix(30)), oneHotPool(TS.floats(emb.values), vec: 5, oneHotBatch, mean: combiner == .mean),
                       rtol: 1e-6, atol: 1e-7, "\(combiner) pooling")
        TS.expectAll(Array(out[10..<15]), equal: 0, "an empty slot gives zeros")
        TS.expectAll(Array(out[30...]), equal: 777, "samples beyond the batch are untouched")
        // Evaluation uses the same rows.
        try forward(emb, oneHotBatch, samples: 2, training: false)
        #expect(TS.floats(emb.output, 30) == Array(out.prefix(30)))
    }

    /// SGD moves row `key` by −lr·Σ(occurrence gradients)/scaler, with the mean's 1/n per
    /// occurrence; rows outside the batch stay.
    @Test(arguments: [Combiner.sum, .mean])
    func backwardAndSGDMatchReference(_ combiner: Combiner) throws {
        let vec = 3, lr: Float = 0.1, scaler: Float = 2
        let emb = try makeOneHot(vec: vec, combiner: combiner)
        try forward(emb, oneHotBatch, samples: 2, training: true)
        let before = TS.floats(emb.values)
        let grads = TS.normals(oneHotBatch.segments.count * vec, seed: 19)
        cpu.upload(grads, to: emb.outputGrad)
        emb.backward()
        emb.update(lr: lr, scaler: scaler)
        var expected = before.map(Double.init)
        for (s, keys) in oneHotBatch.segments.enumerated() {
            let scale = combiner == .mean && keys.count > 1 ? 1 / Double(keys.count) : 1
            for key in keys {
                for k in 0..<vec {
                    expected[Int(key) * vec + k] -= Double(lr) * Double(grads[s * vec + k]) * scale / Double(scaler)
                }
            }
        }
        let after = TS.floats(emb.values)
        TS.expectClose(after, expected, rtol: 1e-5, atol: 1e-7, "\(combiner) SGD table")
        for untouched in [2, 6, 7, 8, 11] {
            let range = (untouched * vec)..<((untouched + 1) * vec)
            #expect(after[range] == before[range], "row \(untouched) is in no segment")
        }
        // Key 4 twice in a segment of three keys.
        let step = Double(lr) * (combiner == .mean ? 2.0 / 3 : 2) / Double(scaler)
        let row4: [Double] = (0..<vec).map { k in Double(before[12 + k]) - step * Double(grads[vec + k]) }
        TS.expectClose(Array(after[12..<15]), row4, rtol: 1e-5, atol: 1e-7, "row 4 by hand")
    }

    /// Adam Local and Global over two steps: Global moves every row of the table with a zero
    /// gradient where untouched (rows touched before keep their momentum), Local only the batch's.
    @Test(arguments: [false, true])
    func sparseAdamMatchesReference(_ global: Bool) throws {
        let vec = 2, lr: Float = 0.01, scaler: Float = 1
        let (b1, b2, eps) = (0.9, 0.999, 1e-3)
        let emb = try makeOneHot(vec: vec, optimizer: .adam(beta1: Float(b1), beta2: Float(b2), epsilon: Float(eps),
                                                            global: global, lazy: false))
        let initial = TS.floats(emb.values)
        var w = initial.map(Double.init), history: [[Float]] = []
        var m = [Double](repeating: 0, count: w.count), v = m
        let steps = [oneHotBatch, Segments(segments: [[2], [8], [11], [], [], []])]
        for (index, batch) in steps.enumerated() {
            let t = Double(index + 1)
            try forward(emb, batch, samples: 2, training: true)
            let grads = TS.normals(batch.segments.count * vec, seed: 40 + UInt64(index), std: 0.1)
            cpu.upload(grads, to: emb.outputGrad)
            emb.backward()
            emb.update(lr: lr, scaler: scaler)
            var g = [Double](repeating: 0, count: w.count), touched = Set<Int>()
            for (s, keys) in batch.segments.enumerated() {
                for key in keys {
                    touched.insert(Int(key))
                    for k in 0..<vec { g[Int(key) * vec + k] += Double(grads[s * vec + k]) / Double(scaler) }
                }
            }
            let alpha = Double(lr) * (1 - pow(b2, t)).squareRoot() / (1 - pow(b1, t))
            for row in 0..<emb.capacity where global || touched.contains(row) {
                for i in (row * vec)..<((row + 1) * vec) {
                    m[i] = b1 * m[i] + (1 - b1) * g[i]
                    v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
                    w[i] -= alpha * m[i] / (v[i].squareRoot() + eps)
                }
            }
            history.append(TS.floats(emb.values))
            TS.expectClose(history[index], w, rtol: 1e-5, atol: 1e-7, "Adam \(global ? "Global" : "Local") step \(index + 1)")
        }
        // Row 1 is touched in step 1 only: Global keeps moving it in step 2, Local does not.
        #expect((history[1][2..<4] != history[0][2..<4]) == global)
        #expect(history[1][12..<14] == initial[12..<14], "row 6 is never touched, so m = v = 0 and it stays")
    }

    @Test func keyOutsideItsSlotThrowsNamingSlotKeyAndRange() throws {
        let emb = try makeOneHot()
        // Key 3 belongs to slot 0, but sits in slot 1 (keys 4..<10) of sample 0.
        let wrongSlot = #expect(throws: SwiftCTRError.self) {
            try emb.forward(keys: [1, 3, 10], offsets: [0, 1, 2, 3], batch: 1, training: true)
        }
        #expect(wrongSlot?.kind == .data)
        let text = wrongSlot?.message ?? ""
        for part in ["onehot_emb", "key 3", "slot 1", "4..<10", "slot_size_array[1] = 6", "offset"] {
            #expect(text.contains(part), "'\(part)' missing from: \(text)")
        }
        // Past the last slot's end, and negative, in evaluation too.
        let tooLarge = #expect(throws: SwiftCTRError.self) {
            try emb.forward(keys: [0, 4, 13], offsets: [0, 1, 2, 3], batch: 1, training: false)
        }
        #expect(tooLarge?.message.contains("key 13 of slot 2") == true && tooLarge?.message.contains("10..<13") == true)
        let negative = #expect(throws: SwiftCTRError.self) {
            try emb.forward(keys: [-1, 4, 10], offsets: [0, 1, 2, 3], batch: 1, training: true)
        }
        #expect(negative?.message.contains("key -1 of slot 0 is outside the slot's range 0..<4") == true)
        // The error is forgotten once reported: a good batch runs.
        try emb.forward(keys: [3, 9, 12], offsets: [0, 1, 2, 3], batch: 1, training: true)
        #expect(TS.floats(emb.output, 4) == emb.vector(for: 3))
    }

    @Test func slotSizeArrayIsRequiredWithOneSizePerSlot() {
        func build(_ sizes: [Int]) throws {
            _ = try HashEmbedding(oneHot: "onehot_emb", vecSize: 4, slots: 3, slotSizes: sizes, combiner: .sum, maxBatch: 2,
                                  maxKeysPerSample: 3, optimizer: .sgd, seed: 1, backend: TS.cpu)
        }
        let missing = #expect(throws: SwiftCTRError.self) { try build([]) }
        #expect(missing?.kind == .config)
        #expect(missing?.message.contains("slot_size_array is required") == true, "\(missing?.message ?? "")")
        let short = #expect(throws: SwiftCTRError.self) { try build([4, 6]) }
        #expect(short?.message.contains("slot_size_array has 2 entries, expected one for each of the 3 slots") == true,
                "\(short?.message ?? "")")
        let empty = #expect(throws: SwiftCTRError.self) { try build([0, 0, 0]) }
        #expect(empty?.message.contains("positive sum") == true, "\(empty?.message ?? "")")
    }

    /// A model over three one-hot slots of sizes 20, 30, 10 (keys offset per slot): embedding → FC(16)
    /// → ReLU → FC(1) → BCE, with the model's Adam.
    private func oneHotModel(slotSizes: [Int]? = [20, 30, 10], batch: Int = 128) throws -> Model {
        let reader = DataReaderParams(dataReaderType: .norm, source: ["in memory"], evalSource: "in memory", checkType: .none)
        let model = try Model(Solver(seed: 9, lr: 0.01, batchsizeEval: batch, batchsize: batch), reader, CreateOptimizer())
        model.printsProgress = false
        model.add(Input(labelDim: 1, labelName: "label", denseDim: 2, denseName: "dense",
                        dataReaderSparseParamArray: [DataReaderSparseParam("data1", 1, true, 3)]))
        model.add(SparseEmbedding(embeddingType: .localizedSlotSparseEmbeddingOneHot, embeddingVecSize: 4, combiner: "sum",
                                  sparseEmbeddingName: "emb", bottomName: "data1", slotSizeArray: slotSizes ?? []))
        model.add(DenseLayer(.reshape, bottomNames: ["emb"], topNames: ["flat"], leadingDim: 12))
        model.add(DenseLayer(.concat, bottomNames: ["flat", "dense"], topNames: ["x"]))
        model.add(DenseLayer(.innerProduct, bottomNames: ["x"], topNames: ["fc1"], numOutput: 16))
        model.add(DenseLayer(.relu, bottomNames: ["fc1"], topNames: ["relu1"]))
        model.add(DenseLayer(.innerProduct, bottomNames: ["relu1"], topNames: ["fc2"], numOutput: 1))
        model.add(DenseLayer(.binaryCrossEntropyLoss, bottomNames: ["fc2", "label"], topNames: ["loss"]))
        try model.compile()
        return model
    }

    /// Batches whose labels follow a hidden weight per key: keys drawn per slot and offset by the
    /// slot sizes before, as OneHot expects them.
    private func plantedBatches(_ count: Int, size: Int) -> [Batch] {
        let sizes = [20, 30, 10], starts = [0, 20, 50]
        var rng = CounterRNG(seed: 21, stream: 5)
        let weights = (0..<60).map { _ in rng.nextNormal() * 1.5 }
        return (0..<count).map { _ in
            var keys: [Int64] = [], labels: [Float] = []
            for _ in 0..<size {
                var logit = 0.0
                for slot in 0..<3 {
                    let key = starts[slot] + rng.nextInt(below: sizes[slot])
                    keys.append(Int64(key))
                    logit += weights[key]
                }
                labels.append(rng.nextUniform() < 1 / (1 + exp(-logit)) ? 1 : 0)
            }
            return Batch(count: size, labels: labels, dense: (0..<size * 2).map { _ in Float(rng.nextNormal()) },
                         sparse: [SparseBatch(rowOffsets: (0...size * 3).map(Int64.init), keys: keys)])
        }
    }

    @Test func aModelLearnsThroughTheOneHotEmbedding() throws {
        let model = try oneHotModel()
        #expect(model.summary().contains("emb': 60 rows × 4"), "the table has Σ slot_size_array rows")
        let batches = plantedBatches(8, size: 128)
        var losses: [Float] = []
        for step in 0..<64 {
            try model.train(batch: batches[step % batches.count])
            losses.append(model.currentLoss)
        }
        // Measured: about 0.73 over the first eight steps, 0.31 over the last eight.
        let first = losses.prefix(8).reduce(0, +) / 8, last = losses.suffix(8).reduce(0, +) / 8
        #expect(losses.allSatisfy { $0.isFinite })
        #expect(first > 0.6, "an untrained model is near chance: \(first)")
        #expect(last < first - 0.2, "the loss should fall: \(first) → \(last)")

        // A key of the wrong slot stops training with the slot, key and range named.
        var bad = batches[0]
        var keys = bad.sparse[0].keys.array
        keys[4] = 3  // sample 1, slot 1 (keys 20..<50)
        bad.sparse = [SparseBatch(rowOffsets: bad.sparse[0].rowOffsets.array, keys: keys)]
        let error = #expect(throws: SwiftCTRError.self) { try model.train(batch: bad) }
        #expect(error?.message.contains("key 3 of slot 1 is outside the slot's range 20..<50") == true, "\(error?.message ?? "")")
        try model.train(batch: batches[1])
    }

    @Test func compileNeedsSlotSizeArrayWithOneSizePerSlot() {
        let missing = #expect(throws: SwiftCTRError.self) { try oneHotModel(slotSizes: nil) }
        #expect(missing?.message.contains("SparseEmbedding 'emb'") == true)
        #expect(missing?.message.contains("LocalizedSlotSparseEmbeddingOneHot needs slot_size_array") == true,
                "\(missing?.message ?? "")")
        let wrongLength = #expect(throws: SwiftCTRError.self) { try oneHotModel(slotSizes: [20, 30]) }
        #expect(wrongLength?.message.contains("slot_size_array has 2 entries but input 'data1' has 3 slots") == true,
                "\(wrongLength?.message ?? "")")
    }

    /// The GPU self-test's one-hot cases, with the fallback-GEMM CPU backend as the device: they
    /// agree, and they check what they claim (the bad key is found, the eval key rejected).
    @Test(arguments: [16, 5])
    func selfTestCasesPassOnTheCPU(vec: Int) throws {
        let cases = BackendSelfTest.oneHotCases(seed: 7, vec: vec)
        #expect(cases.count == 3)
        for c in cases {
            let values = try c.run(TS.cpu)
            let result = BackendSelfTest.compare(c.name, values, try c.run(BackendTests.fallback), tolerance: c.tolerance)
            #expect(result.passed, "\(c.name): \(result.detail)")
            if c.name.hasPrefix("one-hot lookup") {
                #expect(Array(values.prefix(2)) == [602, 3], "slot 3's bad key 602 is recorded: \(values.prefix(2))")
                #expect(values.dropFirst(2).contains(-1) && values.dropFirst(2).contains(601), "its row is -1, others their key")
            } else {
                #expect(values[0] == 1, "\(c.name): the out-of-range eval key is rejected")
            }
        }
    }

    let cpu = TS.cpu
}
