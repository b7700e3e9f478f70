import CTRCore

extension BackendSelfTest {
    /// Cases of `NormalizationKernels` and `batchedGEMM`: row widths on both sides of a GPU's
    /// switch from a warp per row (≤ 512) to a block per row, inputs near ±1000 that overflow a
    /// softmax without its max subtraction, outputs written in place, and strided, broadcast and
    /// k = 0 batched GEMMs in all four transpose combinations.
    static func normalizationCases(seed: UInt64) -> [Case] {
        var rng = CounterRNG(seed: seed, stream: 101)
        func normals(_ n: Int, std: Double = 1) -> [Float] { (0..<n).map { _ in Float(rng.nextNormal() * std) } }
        func doubles(_ b: any Backend, _ t: Tensor) -> [Double] { b.floats(t).map(Double.init) }

        var list: [Case] = []
        let shapes = [(4099, 1), (301, 37), (67, 512), (9, 513), (5, 3000), (2, 8193)]
        for (rows, width) in shapes {
            let n = rows * width
            let x = normals(n, std: 3), dy = normals(n)
            list.append(Case(name: "softmaxRows + backward, \(rows)×\(width)", tolerance: 1e-5) { b in
                let y = b.makeTensor([n], .float32), dx = b.makeTensor([n], .float32)
                b.softmaxRows(b.tensor(x, [n]), rows: rows, width: width, into: y)
                b.softmaxRowsBackward(y: y, dy: b.tensor(dy, [n]), rows: rows, width: width, into: dx)
                return doubles(b, y) + doubles(b, dx)
            })
            let shifted = x.map { $0 + 0.5 }
            list.append(Case(name: "normalizeRows + backward, \(rows)×\(width)", tolerance: 1e-4) { b in
                let tx = b.tensor(shifted, [n]), y = b.makeTensor([n], .float32), dx = b.makeTensor([n], .float32)
                let mean = b.makeTensor([rows], .float32), inverseStd = b.makeTensor([rows], .float32)
                b.normalizeRows(tx, rows: rows, width: width, epsilon: 1e-5, into: y, mean: mean, inverseStd: inverseStd)
                b.normalizeRowsBackward(x: tx, dy: b.tensor(dy, [n]), mean: mean, inverseStd: inverseStd, rows: rows,
                                        width: width, into: dx)
                return [y, mean, inverseStd, dx].flatMap { doubles(b, $0) }
            })
        }
        for offset: Float in [1000, -1000] {
            let (rows, width) = (33, 700), n = 33 * 700
            let x = normals(n, std: 4).map { $0 + offset }, dy = normals(n)
            list.append(Case(name: "softmaxRows + backward in place, inputs near \(Int(offset))", tolerance: 1e-5) { b in
                let t = b.tensor(x, [n]), g = b.tensor(dy, [n])
                b.softmaxRows(t, rows: rows, width: width, into: t)
                let y = doubles(b, t)
                b.softmaxRowsBackward(y: t, dy: g, rows: rows, width: width, into: g)
                return y + doubles(b, g)
            })
        }
        do {
            let (rows, width) = (129, 96), n = 129 * 96
            let x = normals(n).map { $0 + 1000 }, dy = normals(n)
            // Near 1000 an fp32 input is only known to its ulp (6.1e-5), so the centred values and the
            // gradient through them differ by summation order by a few ulps of that (1.4e-4 measured).
            list.append(Case(name: "normalizeRows + backward in place, offset 1000", tolerance: 5e-4) { b in
                let tx = b.tensor(x, [n]), y = b.tensor(x, [n]), g = b.tensor(dy, [n])
                let mean = b.makeTensor([rows], .float32), inverseStd = b.makeTensor([rows], .float32)
                b.normalizeRows(y, rows: rows, width: width, epsilon: 1e-5, into: y, mean: mean, inverseStd: inverseStd)
                b.normalizeRowsBackward(x: tx, dy: g, mean: mean, inverseStd: inverseStd, rows: rows, width: width,
                                        into: g)
                return [y, mean, inverseStd, g].flatMap { doubles(b, $0) }
            })
        }

        // (batch, m, n, k, strideA, strideB, strideC, beta): gaps between matrices, A broadcast, k = 0.
        let gemms = [(7, 33, 17, 45, 33 * 45 + 3, 45 * 17, 33 * 17 + 5, Float(0.3)),
                     (12, 16, 16, 64, 0, 64 * 16, 16 * 16, 0),
                     (3, 9, 11, 0, 0, 0, 99, 0.5)]
        for (batch, m, n, k, sa, sb, sc, beta) in gemms {
            let a = normals((batch - 1) * sa + m * k), bm = normals((batch - 1) * sb + k * n)
            let c0 = normals((batch - 1) * sc + m * n)
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let name = "batchedGEMM \(ta ? "T" : "N")\(tb ? "T" : "N") \(batch)× \(m)×\(n)×\(k) strides \(sa),\(sb),\(sc)"
                list.append(Case(name: name, tolerance: 1e-4) { b in
                    let c = b.tensor(c0, [c0.count])
                    b.batchedGEMM(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 0.7, a: b.tensor(a, [a.count]),
                                  strideA: sa, b: b.tensor(bm, [bm.count]), strideB: sb, beta: beta, c: c, strideC: sc,
                                  batchCount: batch)
                    return doubles(b, c)
                })
            }
        }
        return list
    }
}
