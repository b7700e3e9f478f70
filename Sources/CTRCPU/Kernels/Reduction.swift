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

    public func reduceSum(_ x: Tensor, outer: Int, axis: Int, inner: Int, into y: Tensor) {
        let px = x.hostPointer(as: Float.self), py = y.hostPointer(as: Float.self)
        for o in 0..<outer {
            let out = py + o * inner
            out.update(repeating: 0, count: inner)
            for a in 0..<axis {
                let row = px + (o * axis + a) * inner
                for i in 0..<inner { out[i] += row[i] }
            }
        }
    }

    public func reduceSumBackward(_ dy: Tensor, outer: Int, axis: Int, inner: Int, into dx: Tensor) {
        let pdy = dy.hostPointer(as: Float.self), pdx = dx.hostPointer(as: Float.self)
        for o in 0..<outer {
            for a in 0..<axis {
                (pdx + (o * axis + a) * inner).update(from: pdy + o * inner, count: inner)
            }
        }
    }
}
