import CTRCore

extension BackendSelfTest {
    /// The generic primitives of issue 7 (`unary`, `binary`, `reduce` and their backwards) on
    /// every op, broadcast mode and reduction shape class, with inputs inside each op's domain.
    static func primitiveCases(seed: UInt64) -> [Case] {
        var rng = CounterRNG(seed: seed, stream: 98)
        func normals(_ n: Int) -> [Float] { (0..<n).map { _ in Float(rng.nextNormal()) } }
        func doubles(_ b: any Backend, _ t: Tensor) -> [Double] { b.floats(t).map(Double.init) }
        let n = 4099, width = 17, rows = 4096 / width
        // Away from the kinks of relu, abs and elu; positive for log, sqrt and reciprocal.
        let x = normals(n).map { $0 >= 0 ? $0 + 0.05 : $0 - 0.05 }, positive = normals(n).map { abs($0) + 0.5 }
        let dy = normals(n), other = normals(n)
        // Every third pair ties, so maximum/minimum send the gradient to `a` there.
        let a = normals(n), b = other.indices.map { $0 % 3 == 0 ? a[$0] : other[$0] }
        let divisor = positive.indices.map { $0 % 2 == 0 ? positive[$0] : -positive[$0] }

        var list: [Case] = []
        let unaryOps: [UnaryOp] = [.relu, .sigmoid, .tanh, .elu(alpha: 0.7), .exp, .log, .negate, .abs, .sqrt,
                                   .reciprocal, .square, .scale(-1.5)]
        for op in unaryOps {
            let input = ([.log, .sqrt, .reciprocal] as [UnaryOp]).contains(op) ? positive : x
            list.append(Case(name: "unary \(op) (+ backward)", tolerance: 1e-5) { bk in
                let tx = bk.tensor(input, [n]), ty = bk.makeTensor([n], .float32), dx = bk.makeTensor([n], .float32)
                bk.unary(op, tx, into: ty, count: n)
                bk.unaryBackward(op, x: tx, y: ty, dy: bk.tensor(dy, [n]), into: dx, count: n)
                return doubles(bk, ty) + doubles(bk, dx)
            })
        }
        let binaryOps: [BinaryOp] = [.add, .subtract, .multiply, .divide, .maximum, .minimum]
        let modes: [(Broadcast, Int)] = [(.none, rows * width), (.row(width), width), (.column(width), rows)]
        for op in binaryOps {
            let right = op == .divide ? divisor : b
            for (mode, bCount) in modes {
                list.append(Case(name: "binary \(op), broadcast \(mode)", tolerance: 1e-5) { bk in
                    let count = rows * width, out = bk.makeTensor([count], .float32)
                    let ta = bk.tensor(Array(a.prefix(count)), [count])
                    let tb = bk.tensor(Array(right.prefix(bCount)), [bCount])
                    bk.binary(op, ta, tb, into: out, count: count, broadcast: mode)
                    return doubles(bk, out)
                })
            }
            list.append(Case(name: "binary \(op) backward (both, a only, b only)", tolerance: 1e-5) { bk in
                let ta = bk.tensor(a, [n]), tb = bk.tensor(right, [n]), g = bk.tensor(dy, [n])
                let da = bk.makeTensor([n], .float32), db = bk.makeTensor([n], .float32)
                let daOnly = bk.makeTensor([n], .float32), dbOnly = bk.makeTensor([n], .float32)
                bk.binaryBackward(op, a: ta, b: tb, dy: g, da: da, db: db, count: n)
                bk.binaryBackward(op, a: ta, b: tb, dy: g, da: daOnly, db: nil, count: n)
                bk.binaryBackward(op, a: ta, b: tb, dy: g, da: nil, db: dbOnly, count: n)
                return [da, db, daOnly, dbOnly].flatMap { doubles(bk, $0) }
            })
        }
        // A thread per output (7×13×43, 4099×1×1, 1×1×4099) and a block per output (a long
        // contiguous axis; a long axis with few outputs).
        let shapes = [(7, 13, 43), (4099, 1, 1), (1, 1, 4099), (1, 4099, 1), (3, 1000, 5), (2, 300, 1)]
        let values = normals(3 * 1000 * 5)
        for op in [ReduceOp.sum, .mean] {
            for (outer, axis, inner) in shapes {
                list.append(Case(name: "reduce \(op) \(outer)×\(axis)×\(inner) (+ backward)", tolerance: 1e-4) { bk in
                    let count = outer * axis * inner
                    let y = bk.makeTensor([outer * inner], .float32), dx = bk.makeTensor([count], .float32)
                    bk.reduce(op, bk.tensor(Array(values.prefix(count)), [count]), outer: outer, axis: axis, inner: inner,
                              into: y)
                    bk.reduceBackward(op, dy: bk.tensor(Array(dy.prefix(outer * inner)), [outer * inner]), outer: outer,
                                      axis: axis, inner: inner, into: dx)
                    return doubles(bk, y) + doubles(bk, dx)
                })
            }
        }
        return list
    }
}
