import CTRCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The fused element-wise kernels: dropout, bias + ReLU + dropout, the n-ary sum, sequence masks.
extension CPUBackend {
    public func sum(_ inputs: [Tensor], into out: Tensor, count: Int) {
        let po = out.hostPointer(as: Float.self)
        let first = inputs[0].hostPointer(as: Float.self)
        if first != po { po.update(from: first, count: count) }
        for input in inputs.dropFirst() {
            let p = input.hostPointer(as: Float.self)
            for i in 0..<count { po[i] += p[i] }
        }
    }

    public func sequenceMask(from: Tensor, to: Tensor, samples: Int, rows: Int, cols: Int, into mask: Tensor) {
        precondition(from.count >= samples && to.count >= samples && mask.count >= samples * rows * cols,
                     "sequenceMask: \(samples) masks of \(rows)×\(cols) do not fit")
        let pf = from.hostPointer(as: Float.self), pt = to.hostPointer(as: Float.self)
        let pm = mask.hostPointer(as: Float.self)
        for s in 0..<samples {
            let rowsIn = pf[s].rounded(.towardZero), colsIn = pt[s].rounded(.towardZero), m = pm + s * rows * cols
            for i in 0..<rows {
                for j in 0..<cols { m[i * cols + j] = Float(i) < rowsIn && Float(j) < colsIn ? 1 : 0 }
            }
        }
    }

    public func dropout(_ x: Tensor, into y: Tensor, mask: Tensor, count: Int, rate: Float, seed: UInt64, stream: UInt64) {
        let px = x.hostPointer(as: Float.self), py = y.hostPointer(as: Float.self)
        let pm = mask.hostPointer(as: Float.self)
        let draw = DropoutDraw(rate: rate, seed: seed, stream: stream)
        parallelFor((count + 3) / 4, threads: threads, grain: 8192) { range in
            for j in range {
                let i = 4 * j, n = min(4, count - i), m = draw.mask(j)
                storeGroup(pm, i, n, m)
                storeGroup(py, i, n, loadGroup(px, i, n) * m)
            }
        }
    }

    // The dropout loops below are written out rather than shared through a closure: a per-group
    // closure call measured three times slower (swiftctr bench --profile).
    public func reluDropout(_ x: Tensor, bias: Tensor?, width: Int, into y: Tensor, count: Int, rate: Float, seed: UInt64,
                            stream: UInt64) {
        let px = x.hostPointer(as: Float.self), py = y.hostPointer(as: Float.self), pb = bias?.hostPointer(as: Float.self)
        let draw = DropoutDraw(rate: rate, seed: seed, stream: stream)
        parallelFor((count + 3) / 4, threads: threads, grain: 8192) { range in
            var column = (4 * range.lowerBound) % width
            for j in range {
                let i = 4 * j, n = min(4, count - i)
                let v = loadGroup(px, i, n) + biasGroup(pb, column, width, n)
                storeGroup(py, i, n, v.replacing(with: 0, where: v .< 0) * draw.mask(j))
                column = nextColumn(column, width)
            }
        }
    }

    public func reluDropoutBackward(_ x: Tensor, bias: Tensor?, width: Int, _ dy: Tensor, into dx: Tensor, count: Int,
                                    rate: Float, seed: UInt64, stream: UInt64, biasGrad: Tensor?, partial: Tensor?) {
        let px = x.hostPointer(as: Float.self), pdy = dy.hostPointer(as: Float.self), pdx = dx.hostPointer(as: Float.self)
        let pb = bias?.hostPointer(as: Float.self)
        let draw = DropoutDraw(rate: rate, seed: seed, stream: stream)
        parallelFor((count + 3) / 4, threads: threads, grain: 8192) { range in
            var column = (4 * range.lowerBound) % width
            for j in range {
                let i = 4 * j, n = min(4, count - i)
                let v = loadGroup(px, i, n) + biasGroup(pb, column, width, n)
                storeGroup(pdx, i, n, (loadGroup(pdy, i, n) * draw.mask(j)).replacing(with: 0, where: v .<= 0))
                column = nextColumn(column, width)
            }
        }
        if let biasGrad { sumRows(dx, rows: count / width, cols: width, into: biasGrad, accumulate: true) }
    }
}

/// The generic unary and binary ops and their gradients.
extension CPUBackend {
    public func unary(_ op: UnaryOp, _ x: Tensor, into y: Tensor, count: Int) {
        switch op {
        case .relu: mapElements(x, into: y, count: count) { $0 > 0 ? $0 : 0 }
        case .sigmoid: mapElements(x, into: y, count: count) { stableSigmoid($0) }
        case .tanh: mapElements(x, into: y, count: count) { tanhf($0) }
        case let .elu(alpha): mapElements(x, into: y, count: count) { $0 < 0 ? alpha * expm1f($0) : $0 }
        case .exp: mapElements(x, into: y, count: count) { expf($0) }
        case .log: mapElements(x, into: y, count: count) { logf($0) }
        case .negate: mapElements(x, into: y, count: count) { -$0 }
        case .abs: mapElements(x, into: y, count: count) { $0.magnitude }
        case .sqrt: mapElements(x, into: y, count: count) { $0.squareRoot() }
        case .reciprocal: mapElements(x, into: y, count: count) { 1 / $0 }
        case .square: mapElements(x, into: y, count: count) { $0 * $0 }
        case let .scale(s): mapElements(x, into: y, count: count) { s * $0 }
        }
    }

    public func unaryBackward(_ op: UnaryOp, x: Tensor, y: Tensor, dy: Tensor, into dx: Tensor, count: Int) {
        let source = op.backwardReadsOutput ? y : x
        switch op {
        case .relu: mapPairs(source, dy, into: dx, count: count, .none) { x, g in x > 0 ? g : 0 }
        case .sigmoid: mapPairs(source, dy, into: dx, count: count, .none) { y, g in g * y * (1 - y) }
        case .tanh: mapPairs(source, dy, into: dx, count: count, .none) { y, g in g * (1 - y * y) }
        case let .elu(alpha):
            mapPairs(source, dy, into: dx, count: count, .none) { x, g in x < 0 ? g * (alpha * expf(x)) : g }
        case .exp: mapPairs(source, dy, into: dx, count: count, .none) { y, g in g * y }
        case .log: mapPairs(source, dy, into: dx, count: count, .none) { x, g in g / x }
        case .negate: mapElements(dy, into: dx, count: count) { -$0 }
        case .abs: mapPairs(source, dy, into: dx, count: count, .none) { x, g in x > 0 ? g : x < 0 ? -g : 0 }
        case .sqrt: mapPairs(source, dy, into: dx, count: count, .none) { y, g in g / (2 * y) }
        case .reciprocal: mapPairs(source, dy, into: dx, count: count, .none) { y, g in -g * (y * y) }
        case .square: mapPairs(source, dy, into: dx, count: count, .none) { x, g in 2 * x * g }
        case let .scale(s): mapElements(dy, into: dx, count: count) { s * $0 }
        }
    }

    public func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, into out: Tensor, count: Int, broadcast: Broadcast) {
        switch op {
        case .add: mapPairs(a, b, into: out, count: count, broadcast) { $0 + $1 }
        case .subtract: mapPairs(a, b, into: out, count: count, broadcast) { $0 - $1 }
        case .multiply: mapPairs(a, b, into: out, count: count, broadcast) { $0 * $1 }
        case .divide: mapPairs(a, b, into: out, count: count, broadcast) { $0 / $1 }
        case .maximum: mapPairs(a, b, into: out, count: count, broadcast) { $0 >= $1 ? $0 : $1 }
        case .minimum: mapPairs(a, b, into: out, count: count, broadcast) { $0 <= $1 ? $0 : $1 }
        }
    }

    public func binaryBackward(_ op: BinaryOp, a: Tensor, b: Tensor, dy: Tensor, da: Tensor?, db: Tensor?, count: Int) {
        switch op {
        case .add:
            if let da { mapElements(dy, into: da, count: count) { $0 } }
            if let db { mapElements(dy, into: db, count: count) { $0 } }
        case .subtract:
            if let da { mapElements(dy, into: da, count: count) { $0 } }
            if let db { mapElements(dy, into: db, count: count) { -$0 } }
        case .multiply:
            if let da { mapPairs(b, dy, into: da, count: count, .none) { b, g in g * b } }
            if let db { mapPairs(a, dy, into: db, count: count, .none) { a, g in g * a } }
        case .divide:
            if let da { mapPairs(b, dy, into: da, count: count, .none) { b, g in g / b } }
            if let db { mapTriples(a, b, dy, into: db, count: count) { a, b, g in -g * a / (b * b) } }
        case .maximum:
            if let da { mapTriples(a, b, dy, into: da, count: count) { a, b, g in a >= b ? g : 0 } }
            if let db { mapTriples(a, b, dy, into: db, count: count) { a, b, g in a >= b ? 0 : g } }
        case .minimum:
            if let da { mapTriples(a, b, dy, into: da, count: count) { a, b, g in a <= b ? g : 0 } }
            if let db { mapTriples(a, b, dy, into: db, count: count) { a, b, g in a <= b ? 0 : g } }
        }
    }

    // The loops below are inlined with the operation's closure literal, so each op compiles to its
    // own concrete, vectorized loop (the switch above runs once per call, not per element).

    /// `y[i] = f(x[i])`.
    @inline(__always)
    func mapElements(_ x: Tensor, into y: Tensor, count: Int, _ f: (Float) -> Float) {
        let px = x.hostPointer(as: Float.self), py = y.hostPointer(as: Float.self)
        parallelFor(count, threads: threads) { range in
            for i in range { py[i] = f(px[i]) }
        }
    }

    /// `out[i] = f(a[i], b[j])` with `j` as `broadcast` says; both loads are unconditional, so a
    /// select vectorizes instead of branching.
    @inline(__always)
    func mapPairs(_ a: Tensor, _ b: Tensor, into out: Tensor, count: Int, _ broadcast: Broadcast,
                  _ f: (Float, Float) -> Float) {
        let pa = a.hostPointer(as: Float.self), pb = b.hostPointer(as: Float.self), po = out.hostPointer(as: Float.self)
        switch broadcast {
        case .none:
            parallelFor(count, threads: threads) { range in
                for i in range { po[i] = f(pa[i], pb[i]) }
            }
        case let .row(width):
            precondition(width > 0 && count % width == 0, "row broadcast of \(width) over \(count) elements")
            parallelFor(count / width, threads: threads, grain: max(1, 32_768 / width)) { range in
                for r in range {
                    let ra = pa + r * width, ro = po + r * width
                    for c in 0..<width { ro[c] = f(ra[c], pb[c]) }
                }
            }
        case let .column(width):
            precondition(width > 0 && count % width == 0, "column broadcast of \(width) over \(count) elements")
            parallelFor(count / width, threads: threads, grain: max(1, 32_768 / width)) { range in
                for r in range {
                    let ra = pa + r * width, ro = po + r * width, s = pb[r]
                    for c in 0..<width { ro[c] = f(ra[c], s) }
                }
            }
        }
    }

    /// `out[i] = f(a[i], b[i], c[i])`.
    @inline(__always)
    func mapTriples(_ a: Tensor, _ b: Tensor, _ c: Tensor, into out: Tensor, count: Int,
                    _ f: (Float, Float, Float) -> Float) {
        let pa = a.hostPointer(as: Float.self), pb = b.hostPointer(as: Float.self), pc = c.hostPointer(as: Float.self)
        let po = out.hostPointer(as: Float.self)
        parallelFor(count, threads: threads) { range in
            for i in range { po[i] = f(pa[i], pb[i], pc[i]) }
        }
    }
}

@inline(__always)
func stableSigmoid(_ x: Float) -> Float {
    x >= 0 ? 1 / (1 + expf(-x)) : expf(x) / (1 + expf(x))
}
