import CTRCore
import CTRCPU
import CTRCUDA
@testable import SwiftCTR
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The generic primitives (`unary`, `binary`, `reduce` and their backwards) on the CPU backend
/// against plain float64 loops, finite differences for the unary derivatives, and the old
/// specific kernels' loops (relu, sigmoid, multiply, reduceSum), which the conveniences must
/// still match bit for bit.
@Suite("Primitives")
struct PrimitiveTests {
    static let unaryOps: [UnaryOp] = [.relu, .sigmoid, .tanh, .elu(alpha: 0.7), .exp, .log, .negate, .abs, .sqrt,
                                      .reciprocal, .square, .scale(-1.5)]
    static let binaryOps: [BinaryOp] = [.add, .subtract, .multiply, .divide, .maximum, .minimum]
    /// 70 001 elements split over threads in `parallelFor`; the others run inline.
    static let counts = [1, 37, 70_001]

    // MARK: float64 references

    static func forward(_ op: UnaryOp, _ x: Double) -> Double {
        switch op {
        case .relu: x > 0 ? x : 0
        case .sigmoid: 1 / (1 + exp(-x))
        case .tanh: tanh(x)
        case let .elu(alpha): x < 0 ? Double(alpha) * (exp(x) - 1) : x
        case .exp: exp(x)
        case .log: log(x)
        case .negate: -x
        case .abs: Swift.abs(x)
        case .sqrt: x.squareRoot()
        case .reciprocal: 1 / x
        case .square: x * x
        case let .scale(s): Double(s) * x
        }
    }

    /// f′(x), written from the math rather than from the kernels' choice of x or y.
    static func derivative(_ op: UnaryOp, _ x: Double) -> Double {
        switch op {
        case .relu: x > 0 ? 1 : 0
        case .sigmoid: forward(.sigmoid, x) * (1 - forward(.sigmoid, x))
        case .tanh: 1 / (cosh(x) * cosh(x))
        case let .elu(alpha): x < 0 ? Double(alpha) * exp(x) : 1
        case .exp: exp(x)
        case .log: 1 / x
        case .negate: -1
        case .abs: x > 0 ? 1 : x < 0 ? -1 : 0
        case .sqrt: 0.5 / x.squareRoot()
        case .reciprocal: -1 / (x * x)
        case .square: 2 * x
        case let .scale(s): Double(s)
        }
    }

    static func forward(_ op: BinaryOp, _ a: Double, _ b: Double) -> Double {
        switch op {
        case .add: a + b
        case .subtract: a - b
        case .multiply: a * b
        case .divide: a / b
        case .maximum: a >= b ? a : b
        case .minimum: a <= b ? a : b
        }
    }

    /// (∂/∂a, ∂/∂b), ties of maximum/minimum to a.
    static func partials(_ op: BinaryOp, _ a: Double, _ b: Double) -> (Double, Double) {
        switch op {
        case .add: (1, 1)
        case .subtract: (1, -1)
        case .multiply: (b, a)
        case .divide: (1 / b, -a / (b * b))
        case .maximum: a >= b ? (1, 0) : (0, 1)
        case .minimum: a <= b ? (1, 0) : (0, 1)
        }
    }

    /// Inputs inside the op's domain and at least 0.05 from a kink (relu, abs, elu at 0).
    static func inputs(_ op: UnaryOp, _ count: Int, seed: UInt64) -> [Float] {
        switch op {
        case .log, .sqrt, .reciprocal: TS.uniforms(count, seed: seed, 0.5, 3)
        case .exp: TS.uniforms(count, seed: seed, -4, 4)
        default: TS.awayFromZero(count, seed: seed)
        }
    }

    /// `b` for a binary op: ties with `a` every third element (maximum/minimum), away from zero for divide.
    static func rightInputs(_ op: BinaryOp, _ a: [Float], _ count: Int, seed: UInt64) -> [Float] {
        let b = TS.normals(count, seed: seed)
        if op == .divide { return b.map { $0 >= 0 ? $0 + 0.5 : $0 - 0.5 } }
        return b.indices.map { $0 % 3 == 0 && $0 < a.count ? a[$0] : b[$0] }
    }

    static func tensor(_ values: [Float]) -> Tensor { TS.cpu.tensor(values, [values.count]) }

    /// A tensor of NaNs: an input that the kernel must not read.
    static func poison(_ count: Int) -> Tensor { tensor([Float](repeating: .nan, count: count)) }

    // MARK: unary

    @Test(arguments: unaryOps, counts)
    func unaryMatchesFloat64Loop(op: UnaryOp, count: Int) {
        let x = Self.inputs(op, count, seed: 21), dy = TS.normals(count, seed: 22)
        let tx = Self.tensor(x), ty = TS.cpu.makeTensor([count], .float32), dx = TS.cpu.makeTensor([count], .float32)
        TS.cpu.unary(op, tx, into: ty, count: count)
        TS.expectClose(TS.floats(ty), x.map { Self.forward(op, Double($0)) }, rtol: 1e-5, atol: 1e-6, "\(op) forward")
        // The tensor the op does not read is NaN, so reading it would show.
        let readsY = op.backwardReadsOutput
        let readX = readsY ? Self.poison(count) : tx, readY = readsY ? ty : Self.poison(count)
        TS.cpu.unaryBackward(op, x: readX, y: readY, dy: Self.tensor(dy), into: dx, count: count)
        let expected = x.indices.map { Double(dy[$0]) * Self.derivative(op, Double(x[$0])) }
        TS.expectClose(TS.floats(dx), expected, rtol: 1e-5, atol: 1e-6, "\(op) backward")
    }

    /// `dx` from `unaryBackward` against `(f(x+h) − f(x−h)) / 2h` of the forward kernel.
    @Test(arguments: unaryOps)
    func unaryBackwardMatchesFiniteDifferences(op: UnaryOp) {
        let count = 257, h: Float = 1e-2
        let x = Self.inputs(op, count, seed: 23), dy = TS.normals(count, seed: 24)
        let tx = Self.tensor(x), ty = TS.cpu.makeTensor([count], .float32), dx = TS.cpu.makeTensor([count], .float32)
        TS.cpu.unary(op, tx, into: ty, count: count)
        TS.cpu.unaryBackward(op, x: tx, y: ty, dy: Self.tensor(dy), into: dx, count: count)
        let plus = TS.cpu.makeTensor([count], .float32), minus = TS.cpu.makeTensor([count], .float32)
        let xPlus = x.map { $0 + h }, xMinus = x.map { $0 - h }
        TS.cpu.unary(op, Self.tensor(xPlus), into: plus, count: count)
        TS.cpu.unary(op, Self.tensor(xMinus), into: minus, count: count)
        let (fPlus, fMinus) = (TS.floats(plus), TS.floats(minus))
        let numeric = x.indices.map { i in
            Double(dy[i]) * (Double(fPlus[i]) - Double(fMinus[i])) / (Double(xPlus[i]) - Double(xMinus[i]))
        }
        TS.expectClose(TS.floats(dx), numeric, rtol: 1e-2, atol: 1e-3, "\(op) finite differences")
    }

    @Test func unaryRunsInPlace() {
        let x = TS.normals(1000, seed: 25), t = Self.tensor(x)
        TS.cpu.unary(.elu(alpha: 2), t, into: t, count: 1000)
        let expected = x.map { Self.forward(.elu(alpha: 2), Double($0)) }
        TS.expectClose(TS.floats(t), expected, rtol: 1e-6, atol: 1e-7, "elu in place")
    }

    @Test func backwardReadsOutputNamesTheOpsDefinedByTheirOutput() {
        #expect(Self.unaryOps.filter(\.backwardReadsOutput) == [.sigmoid, .tanh, .exp, .sqrt, .reciprocal])
    }

    // MARK: binary

    @Test(arguments: binaryOps, [1, 13, 12_000])
    func binaryMatchesFloat64LoopInEveryBroadcast(op: BinaryOp, rows: Int) {
        let width = 7, count = rows * width
        let a = TS.normals(count, seed: 31)
        for (mode, bCount) in [(Broadcast.none, count), (.row(width), width), (.column(width), rows)] {
            let b = Self.rightInputs(op, a, bCount, seed: 32)
            let out = TS.cpu.makeTensor([count], .float32)
            TS.cpu.binary(op, Self.tensor(a), Self.tensor(b), into: out, count: count, broadcast: mode)
            let expected = (0..<count).map { i in
                let j = switch mode {
                case .none: i
                case .row: i % width
                case .column: i / width
                }
                return Self.forward(op, Double(a[i]), Double(b[j]))
            }
            TS.expectClose(TS.floats(out), expected, rtol: 1e-6, atol: 1e-7, "\(op) broadcast \(mode)")
        }
    }

    @Test(arguments: binaryOps, counts)
    func binaryBackwardMatchesFloat64Loop(op: BinaryOp, count: Int) {
        let a = TS.normals(count, seed: 33), b = Self.rightInputs(op, a, count, seed: 34), dy = TS.normals(count, seed: 35)
        let ta = Self.tensor(a), tb = Self.tensor(b), g = Self.tensor(dy)
        let da = Self.poison(count), db = Self.poison(count)
        TS.cpu.binaryBackward(op, a: ta, b: tb, dy: g, da: da, db: db, count: count)
        let expected = a.indices.map { Self.partials(op, Double(a[$0]), Double(b[$0])) }
        TS.expectClose(TS.floats(da), a.indices.map { Double(dy[$0]) * expected[$0].0 }, rtol: 1e-6, atol: 1e-7, "\(op) da")
        TS.expectClose(TS.floats(db), a.indices.map { Double(dy[$0]) * expected[$0].1 }, rtol: 1e-6, atol: 1e-7, "\(op) db")
        // One side alone gives the same values and leaves the other tensor as it was.
        let daOnly = Self.poison(count), untouched = Self.poison(count)
        TS.cpu.binaryBackward(op, a: ta, b: tb, dy: g, da: daOnly, db: nil, count: count)
        #expect(TS.floats(daOnly) == TS.floats(da), "\(op) da alone")
        TS.cpu.binaryBackward(op, a: ta, b: tb, dy: g, da: nil, db: untouched, count: count)
        #expect(TS.floats(untouched) == TS.floats(db), "\(op) db alone")
    }

    @Test func maximumAndMinimumSendTiesToA() {
        let a = Self.tensor([1, 2, 3]), b = Self.tensor([1, 5, 0]), g = Self.tensor([10, 20, 30])
        let da = TS.cpu.makeTensor([3], .float32), db = TS.cpu.makeTensor([3], .float32)
        TS.cpu.binaryBackward(.maximum, a: a, b: b, dy: g, da: da, db: db, count: 3)
        #expect(TS.floats(da) == [10, 0, 30] && TS.floats(db) == [0, 20, 0])
        TS.cpu.binaryBackward(.minimum, a: a, b: b, dy: g, da: da, db: db, count: 3)
        #expect(TS.floats(da) == [10, 20, 0] && TS.floats(db) == [0, 0, 30])
    }

    // MARK: reduce

    /// Each of outer, axis and inner alone, all three, and shapes large enough for the CPU's two
    /// ways of splitting the work over threads (by outer, by inner).
    static let shapes = [(1, 1, 1), (9, 1, 1), (1, 9, 1), (1, 1, 9), (2, 3, 4), (5, 7, 3), (64, 50, 20), (1, 100, 5000),
                         (3, 2000, 1)]

    @Test(arguments: [ReduceOp.sum, .mean], shapes)
    func reduceMatchesFloat64Loop(op: ReduceOp, shape: (Int, Int, Int)) {
        let (outer, axis, inner) = shape, count = outer * axis * inner
        let x = TS.normals(count, seed: 41), dy = TS.normals(outer * inner, seed: 42)
        let y = Self.poison(outer * inner), dx = Self.poison(count)
        TS.cpu.reduce(op, Self.tensor(x), outer: outer, axis: axis, inner: inner, into: y)
        var expected = [Double](repeating: 0, count: outer * inner), expectedDx = [Double](repeating: 0, count: count)
        for o in 0..<outer {
            for i in 0..<inner {
                var s = 0.0
                for a in 0..<axis { s += Double(x[(o * axis + a) * inner + i]) }
                expected[o * inner + i] = op == .mean ? s / Double(axis) : s
                for a in 0..<axis {
                    let g = Double(dy[o * inner + i])
                    expectedDx[(o * axis + a) * inner + i] = op == .mean ? g / Double(axis) : g
                }
            }
        }
        // Float sums of `axis` N(0,1) terms: rounding grows with the axis.
        let atol = op == .mean ? 5e-7 : 5e-7 * Double(axis)
        TS.expectClose(TS.floats(y), expected, rtol: 1e-5, atol: atol, "reduce \(op) \(shape)")
        TS.cpu.reduceBackward(op, dy: Self.tensor(dy), outer: outer, axis: axis, inner: inner, into: dx)
        TS.expectClose(TS.floats(dx), expectedDx, rtol: 1e-6, atol: 1e-7, "reduceBackward \(op) \(shape)")
    }

    // MARK: the conveniences, bit for bit

    /// The loops of the specific kernels that the conveniences replaced, in Float as they were.
    @Test(arguments: counts)
    func conveniencesMatchTheOldKernelsBitForBit(count: Int) {
        let x = TS.normals(count, seed: 51) + ([0, -0.0, .nan] as [Float]).prefix(count), n = x.count
        let dy = TS.normals(n, seed: 52), other = TS.normals(n, seed: 53)
        let tx = Self.tensor(x), tdy = Self.tensor(dy), out = TS.cpu.makeTensor([n], .float32)
        func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

        TS.cpu.relu(tx, into: out, count: n)
        #expect(bits(TS.floats(out)) == bits(x.map { $0 > 0 ? $0 : 0 }), "relu")
        TS.cpu.reluBackward(tx, tdy, into: out, count: n)
        #expect(bits(TS.floats(out)) == bits(x.indices.map { x[$0] > 0 ? dy[$0] : 0 }), "reluBackward")
        let sigmoid = x.map { $0 >= 0 ? 1 / (1 + expf(-$0)) : expf($0) / (1 + expf($0)) }
        TS.cpu.sigmoid(tx, into: out, count: n)
        #expect(bits(TS.floats(out)) == bits(sigmoid), "sigmoid")
        TS.cpu.sigmoidBackward(Self.tensor(sigmoid), tdy, into: out, count: n)
        #expect(bits(TS.floats(out)) == bits(x.indices.map { dy[$0] * sigmoid[$0] * (1 - sigmoid[$0]) }), "sigmoidBackward")
        TS.cpu.multiply(tx, Self.tensor(other), into: out, count: n)
        #expect(bits(TS.floats(out)) == bits(x.indices.map { x[$0] * other[$0] }), "multiply")
    }

    @Test(arguments: shapes)
    func reduceSumMatchesTheOldLoopBitForBit(shape: (Int, Int, Int)) {
        let (outer, axis, inner) = shape, x = TS.normals(outer * axis * inner, seed: 54)
        var expected = [Float](repeating: 0, count: outer * inner)
        for o in 0..<outer {
            for a in 0..<axis {
                for i in 0..<inner { expected[o * inner + i] += x[(o * axis + a) * inner + i] }
            }
        }
        let y = Self.poison(outer * inner)
        TS.cpu.reduceSum(Self.tensor(x), outer: outer, axis: axis, inner: inner, into: y)
        #expect(TS.floats(y).map(\.bitPattern) == expected.map(\.bitPattern))
    }

    // MARK: device self-test cases

    /// The self-test cases run on the fallback-GEMM CPU backend as the "device" (on a GPU machine
    /// also on the CUDA backend) and agree with the CPU backend.
    @Test func selfTestCasesPass() throws {
        var devices: [any Backend] = [BackendTests.fallback]
        if CUDADriver.isAvailable() { devices.append(try CUDABackend()) }
        for device in devices {
            let cases = BackendSelfTest.primitiveCases(seed: 7)
            #expect(cases.count > 40)
            for c in cases {
                let result = BackendSelfTest.compare(c.name, try c.run(TS.cpu), try c.run(device), tolerance: c.tolerance)
                try device.check()
                #expect(result.passed, "\(device.name) \(result.name): \(result.detail), max abs \(result.maxAbsError)")
            }
        }
    }
}
