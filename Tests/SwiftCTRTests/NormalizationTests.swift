import CTRCore
import CTRCPU
@testable import SwiftCTR
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The row-wise primitives (`NormalizationKernels`) and `batchedGEMM` on the CPU backend against
/// plain float64 loops, with backward passes also checked by central differences of those loops.
@Suite("Normalization primitives and batched GEMM")
struct NormalizationTests {
    /// (rows, width): single elements, odd widths, a row longer than a parallel chunk.
    static let shapes = [(1, 1), (4, 1), (3, 2), (5, 7), (17, 33), (64, 129), (2, 1000), (300, 16)]

    // MARK: float64 references

    static func softmax(_ x: [Double], rows: Int, width: Int) -> [Double] {
        var y = x
        for r in 0..<rows {
            let row = r * width..<(r + 1) * width
            let top = x[row].max()!
            let total = x[row].reduce(0) { $0 + exp($1 - top) }
            for i in row { y[i] = exp(x[i] - top) / total }
        }
        return y
    }

    static func softmaxBackward(_ y: [Double], _ dy: [Double], rows: Int, width: Int) -> [Double] {
        var dx = y
        for r in 0..<rows {
            let row = r * width..<(r + 1) * width
            let dot = row.reduce(0) { $0 + dy[$1] * y[$1] }
            for i in row { dx[i] = y[i] * (dy[i] - dot) }
        }
        return dx
    }

    static func normalize(_ x: [Double], rows: Int, width: Int, epsilon: Double)
        -> (y: [Double], mean: [Double], inverseStd: [Double]) {
        var y = x, mean: [Double] = [], inverseStd: [Double] = []
        for r in 0..<rows {
            let row = r * width..<(r + 1) * width
            let mu = x[row].reduce(0, +) / Double(width)
            let variance = x[row].reduce(0) { $0 + ($1 - mu) * ($1 - mu) } / Double(width)
            let s = 1 / (variance + epsilon).squareRoot()
            for i in row { y[i] = (x[i] - mu) * s }
            mean.append(mu)
            inverseStd.append(s)
        }
        return (y, mean, inverseStd)
    }

    static func normalizeBackward(_ x: [Double], _ dy: [Double], rows: Int, width: Int, epsilon: Double) -> [Double] {
        let (xhat, _, inverseStd) = normalize(x, rows: rows, width: width, epsilon: epsilon)
        var dx = x
        for r in 0..<rows {
            let row = r * width..<(r + 1) * width
            let meanDy = row.reduce(0) { $0 + dy[$1] } / Double(width)
            let meanDyXhat = row.reduce(0) { $0 + dy[$1] * xhat[$1] } / Double(width)
            for i in row { dx[i] = inverseStd[r] * (dy[i] - meanDy - xhat[i] * meanDyXhat) }
        }
        return dx
    }

    /// Central differences of `L(x) = Σ dy·f(x)` at sampled elements, `f` a float64 reference.
    static func numericGradient(_ x: [Double], _ dy: [Double], h: Double = 1e-4,
                                _ f: ([Double]) -> [Double]) -> [(index: Int, value: Double)] {
        func loss(_ x: [Double]) -> Double { zip(f(x), dy).reduce(0) { $0 + $1.0 * $1.1 } }
        return TS.sampleIndices(x.count, limit: 60).map { i in
            var plus = x, minus = x
            plus[i] += h
            minus[i] -= h
            return (i, (loss(plus) - loss(minus)) / (2 * h))
        }
    }

    static func expectGradient(_ analytic: [Float], _ numeric: [(index: Int, value: Double)], _ what: String,
                               sourceLocation: SourceLocation = #_sourceLocation) {
        let scale = max(1, analytic.map { abs(Double($0)) }.max() ?? 0)
        let bad = numeric.filter { abs(Double(analytic[$0.index]) - $0.value) > 1e-4 * scale + 1e-3 * abs($0.value) }
        let failures = bad.count, first = bad.prefix(4).map { "[\($0.index)] \(analytic[$0.index]) vs \($0.value)" }
        #expect(failures == 0, "\(what): finite differences disagree at \(first.joined(separator: ", "))",
                sourceLocation: sourceLocation)
    }

    static func seed(_ rows: Int, _ width: Int) -> UInt64 { UInt64(rows * 10_007 + width) }

    // MARK: softmax

    @Test(arguments: shapes)
    func softmaxMatchesReference(shape: (Int, Int)) {
        let (rows, width) = shape
        let x = TS.normals(rows * width, seed: Self.seed(rows, width), std: 3)
        let dy = TS.normals(rows * width, seed: Self.seed(rows, width) + 1)
        checkSoftmax(x, dy, rows: rows, width: width)
    }

    /// Values near ±1000: `exp` overflows (or underflows to 0/0) unless the row max comes off first.
    @Test(arguments: [(3, 17), (8, 64), (1, 1)], [Float(1000), -1000])
    func softmaxIsStableForLargeMagnitudes(shape: (Int, Int), offset: Float) {
        let (rows, width) = shape
        let x = TS.normals(rows * width, seed: Self.seed(rows, width) + 7, std: 4).map { $0 + offset }
        #expect(x.contains { expf($0) == .infinity || expf($0) == 0 }, "the inputs must defeat a naive softmax")
        let dy = TS.normals(rows * width, seed: Self.seed(rows, width) + 8)
        checkSoftmax(x, dy, rows: rows, width: width)
    }

    func checkSoftmax(_ x: [Float], _ dy: [Float], rows: Int, width: Int,
                      sourceLocation: SourceLocation = #_sourceLocation) {
        let cpu = TS.cpu, n = rows * width
        let y = cpu.makeTensor([n], .float32), dx = cpu.makeTensor([n], .float32)
        cpu.softmaxRows(cpu.tensor(x, [n]), rows: rows, width: width, into: y)
        let x64 = x.map(Double.init), dy64 = dy.map(Double.init)
        let expected = Self.softmax(x64, rows: rows, width: width)
        TS.expectClose(cpu.floats(y), expected, rtol: 1e-5, atol: 1e-6, "softmax \(rows)×\(width)",
                       sourceLocation: sourceLocation)

        cpu.softmaxRowsBackward(y: y, dy: cpu.tensor(dy, [n]), rows: rows, width: width, into: dx)
        let gradient = cpu.floats(dx)
        TS.expectClose(gradient, Self.softmaxBackward(expected, dy64, rows: rows, width: width), rtol: 1e-4, atol: 1e-6,
                       "softmax backward \(rows)×\(width)", sourceLocation: sourceLocation)
        Self.expectGradient(gradient, Self.numericGradient(x64, dy64) { Self.softmax($0, rows: rows, width: width) },
                            "softmax backward \(rows)×\(width)", sourceLocation: sourceLocation)
    }

    // MARK: normalize

    @Test(arguments: shapes, [Float(1e-5), 0.1])
    func normalizeMatchesReference(shape: (Int, Int), epsilon: Float) {
        let (rows, width) = shape
        let x = TS.normals(rows * width, seed: Self.seed(rows, width) + 2, std: 2).map { $0 + 0.5 }
        checkNormalize(x, rows: rows, width: width, epsilon: epsilon)
    }

    /// A common offset of 1000 over a spread of 1: Σx² − nμ² would lose every digit.
    @Test(arguments: [(4, 33), (2, 1000)])
    func normalizeIsAccurateUnderAnOffset(shape: (Int, Int)) {
        let (rows, width) = shape
        let x = TS.normals(rows * width, seed: Self.seed(rows, width) + 3).map { $0 + 1000 }
        checkNormalize(x, rows: rows, width: width, epsilon: 1e-5, atol: 2e-4, finiteDifferences: false)
    }

    /// Constant rows have zero variance: y = 0 and inverseStd = 1/√ε.
    @Test func normalizeConstantRows() {
        let x = [Float](repeating: 2.5, count: 3 * 8)
        checkNormalize(x, rows: 3, width: 8, epsilon: 1e-2, finiteDifferences: false)
    }

    func checkNormalize(_ x: [Float], rows: Int, width: Int, epsilon: Float, atol: Double = 1e-5,
                        finiteDifferences: Bool = true, sourceLocation: SourceLocation = #_sourceLocation) {
        let cpu = TS.cpu, n = rows * width
        let dy = TS.normals(n, seed: Self.seed(rows, width) + 4)
        let tx = cpu.tensor(x, [n]), y = cpu.makeTensor([n], .float32), dx = cpu.makeTensor([n], .float32)
        let mean = cpu.makeTensor([rows], .float32), inverseStd = cpu.makeTensor([rows], .float32)
        cpu.normalizeRows(tx, rows: rows, width: width, epsilon: epsilon, into: y, mean: mean, inverseStd: inverseStd)
        let x64 = x.map(Double.init), dy64 = dy.map(Double.init), eps = Double(epsilon)
        let expected = Self.normalize(x64, rows: rows, width: width, epsilon: eps)
        let what = "normalize \(rows)×\(width) ε=\(epsilon)"
        TS.expectClose(cpu.floats(y), expected.y, rtol: 1e-5, atol: atol, what, sourceLocation: sourceLocation)
        TS.expectClose(cpu.floats(mean), expected.mean, rtol: 1e-6, atol: 1e-6, what + " mean",
                       sourceLocation: sourceLocation)
        TS.expectClose(cpu.floats(inverseStd), expected.inverseStd, rtol: 1e-5, atol: 1e-6, what + " inverseStd",
                       sourceLocation: sourceLocation)

        cpu.normalizeRowsBackward(x: tx, dy: cpu.tensor(dy, [n]), mean: mean, inverseStd: inverseStd, rows: rows,
                                  width: width, into: dx)
        let gradient = cpu.floats(dx)
        let scale = expected.inverseStd.max() ?? 1
        TS.expectClose(gradient, Self.normalizeBackward(x64, dy64, rows: rows, width: width, epsilon: eps), rtol: 1e-4,
                       atol: atol * scale, what + " backward", sourceLocation: sourceLocation)
        if finiteDifferences {
            let numeric = Self.numericGradient(x64, dy64) { Self.normalize($0, rows: rows, width: width, epsilon: eps).y }
            Self.expectGradient(gradient, numeric, what + " backward", sourceLocation: sourceLocation)
        }
    }

    /// The outputs may be the inputs.
    @Test func inPlace() {
        let cpu = TS.cpu, (rows, width) = (6, 37), n = rows * width
        let x = TS.normals(n, seed: 21, std: 2), dy = TS.normals(n, seed: 22)
        let x64 = x.map(Double.init), dy64 = dy.map(Double.init)

        let t = cpu.tensor(x, [n]), g = cpu.tensor(dy, [n])
        cpu.softmaxRows(t, rows: rows, width: width, into: t)
        let y = Self.softmax(x64, rows: rows, width: width)
        TS.expectClose(cpu.floats(t), y, rtol: 1e-5, atol: 1e-6, "softmax in place")
        cpu.softmaxRowsBackward(y: t, dy: g, rows: rows, width: width, into: g)
        TS.expectClose(cpu.floats(g), Self.softmaxBackward(y, dy64, rows: rows, width: width), rtol: 1e-4, atol: 1e-6,
                       "softmax backward in place")

        let u = cpu.tensor(x, [n]), h = cpu.tensor(dy, [n])
        let mean = cpu.makeTensor([rows], .float32), inverseStd = cpu.makeTensor([rows], .float32)
        cpu.normalizeRows(cpu.tensor(x, [n]), rows: rows, width: width, epsilon: 1e-5, into: u, mean: mean,
                          inverseStd: inverseStd)
        TS.expectClose(cpu.floats(u), Self.normalize(x64, rows: rows, width: width, epsilon: 1e-5).y, rtol: 1e-5,
                       atol: 1e-5, "normalize in place")
        cpu.normalizeRowsBackward(x: cpu.tensor(x, [n]), dy: h, mean: mean, inverseStd: inverseStd, rows: rows,
                                  width: width, into: h)
        TS.expectClose(cpu.floats(h), Self.normalizeBackward(x64, dy64, rows: rows, width: width, epsilon: 1e-5),
                       rtol: 1e-4, atol: 1e-5, "normalize backward in place")
    }

    // MARK: batched GEMM

    struct GEMMCase: Sendable, CustomTestStringConvertible {
        var batch: Int, m: Int, n: Int, k: Int
        /// Extra elements between matrices (-1: stride 0, one matrix broadcast).
        var gapA = 0, gapB = 0, gapC = 0
        var alpha: Float = 1, beta: Float = 0

        var strideA: Int { gapA < 0 ? 0 : m * k + gapA }
        var strideB: Int { gapB < 0 ? 0 : k * n + gapB }
        var strideC: Int { m * n + gapC }
        var testDescription: String {
            "\(batch)× \(m)×\(k)·\(k)×\(n) strides \(strideA),\(strideB),\(strideC) α=\(alpha) β=\(beta)"
        }
    }

    static let gemmCases = [
        GEMMCase(batch: 1, m: 1, n: 1, k: 1),
        GEMMCase(batch: 4, m: 5, n: 7, k: 3),
        GEMMCase(batch: 3, m: 9, n: 4, k: 6, gapA: 2, gapB: 5, gapC: 3, alpha: 0.5, beta: 1.5),
        GEMMCase(batch: 5, m: 6, n: 8, k: 4, gapA: -1, alpha: -1, beta: 0.25),
        GEMMCase(batch: 5, m: 6, n: 8, k: 4, gapB: -1, beta: 2),
        GEMMCase(batch: 2, m: 33, n: 17, k: 65, gapC: 1, alpha: 0.7, beta: 0.3),
        GEMMCase(batch: 3, m: 4, n: 5, k: 0, beta: 0.5),
        GEMMCase(batch: 0, m: 4, n: 5, k: 3, beta: 0.5),
    ]

    @Test(arguments: gemmCases, [(false, false), (true, false), (false, true), (true, true)])
    func batchedGEMMMatchesNaiveLoop(c: GEMMCase, transposes: (Bool, Bool)) {
        let (transA, transB) = transposes
        let (m, n, k) = (c.m, c.n, c.k)
        let last = max(c.batch - 1, 0)
        let countA = last * c.strideA + m * k, countB = last * c.strideB + k * n, countC = last * c.strideC + m * n + 2
        let a = TS.normals(countA, seed: 31), b = TS.normals(countB, seed: 32), c0 = TS.normals(countC, seed: 33)
        var expected = c0.map(Double.init)
        for i in 0..<c.batch {
            let oa = i * c.strideA, ob = i * c.strideB, oc = i * c.strideC
            for r in 0..<m {
                for col in 0..<n {
                    var s = 0.0
                    for p in 0..<k {
                        let av = transA ? a[oa + p * m + r] : a[oa + r * k + p]
                        let bv = transB ? b[ob + col * k + p] : b[ob + p * n + col]
                        s += Double(av) * Double(bv)
                    }
                    let old = c.beta == 0 ? 0 : Double(c.beta) * Double(c0[oc + r * n + col])
                    expected[oc + r * n + col] = Double(c.alpha) * s + old
                }
            }
        }
        for backend in [TS.cpu, BackendTests.fallback] {
            let tc = backend.tensor(c0, [countC])
            backend.batchedGEMM(transA: transA, transB: transB, m: m, n: n, k: k, alpha: c.alpha,
                                a: backend.tensor(a, [countA]), strideA: c.strideA,
                                b: backend.tensor(b, [countB]), strideB: c.strideB,
                                beta: c.beta, c: tc, strideC: c.strideC, batchCount: c.batch)
            // Elements between and after C's matrices must come back untouched.
            TS.expectClose(backend.floats(tc), expected, rtol: 1e-5, atol: 1e-5, "\(c.testDescription) \(backend.name)")
        }
    }

    // MARK: self-test cases

    /// The GPU self-test's normalization cases, with the fallback-GEMM CPU backend as the device.
    @Test func selfTestCasesPassOnTheCPU() throws {
        let cases = BackendSelfTest.normalizationCases(seed: 7)
        #expect(cases.count >= 8)
        for c in cases {
            let result = BackendSelfTest.compare(c.name, try c.run(TS.cpu), try c.run(BackendTests.fallback),
                                                 tolerance: c.tolerance)
            #expect(result.passed, "\(c.name): \(result.detail)")
        }
    }
}
