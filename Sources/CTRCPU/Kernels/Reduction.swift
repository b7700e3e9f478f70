import CTRCore

/// Reductions along an axis and their broadcasts back.
extension CPUBackend {
    public func sumRows(_ x: Tensor, rows: Int, cols: Int, into out: Tensor, accumulate: Bool) {
        let px = x.hostPointer(as: Float.self), po = out.hostPointer(as: Float.self)
        if !accumulate { po.update(repeating: 0, count: cols) }
        // Threads split the columns, so each output element has one writer.
        parallelFor(cols, threads: threads, grain: max(16, 262_144 / max(rows, 1))) { range in
            for r in 0..<rows {
                let row = px + r * cols
                for c in range { po[c] += row[c] }
            }
        }
    }

    /// Threads split the outer index when there are enough of them, else the inner one; either
    /// way each output element is summed by one thread in order of the axis.
    public func reduce(_ op: ReduceOp, _ x: Tensor, outer: Int, axis: Int, inner: Int, into y: Tensor) {
        let px = x.hostPointer(as: Float.self), py = y.hostPointer(as: Float.self)
        let divisor = Float(axis), mean = op == .mean
        func block(_ o: Int, _ columns: Range<Int>) {
            let out = py + o * inner
            for i in columns { out[i] = 0 }
            for a in 0..<axis {
                let row = px + (o * axis + a) * inner
                for i in columns { out[i] += row[i] }
            }
            if mean { for i in columns { out[i] /= divisor } }
        }
        let work = max(1, axis * inner)
        if outer >= threads || inner < 64 {
            parallelFor(outer, threads: threads, grain: max(1, 32_768 / work)) { range in
                for o in range { block(o, 0..<inner) }
            }
        } else {
            for o in 0..<outer {
                parallelFor(inner, threads: threads, grain: max(16, 32_768 / max(axis, 1))) { range in block(o, range) }
            }
        }
    }

    public func reduceBackward(_ op: ReduceOp, dy: Tensor, outer: Int, axis: Int, inner: Int, into dx: Tensor) {
        let pdy = dy.hostPointer(as: Float.self), pdx = dx.hostPointer(as: Float.self)
        let divisor = Float(axis), mean = op == .mean
        parallelFor(outer * axis, threads: threads, grain: max(1, 32_768 / max(inner, 1))) { range in
            for row in range {
                let src = pdy + row / axis * inner, dst = pdx + row * inner
                if mean {
                    for i in 0..<inner { dst[i] = src[i] / divisor }
                } else {
                    dst.update(from: src, count: inner)
                }
            }
        }
    }
}
