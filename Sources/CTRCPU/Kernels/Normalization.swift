import CTRCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Row statistics accumulate in Double, so that a long row or a large common offset costs no
/// accuracy; each row is one task of the parallel-for.
extension CPUBackend {
    public func softmaxRows(_ x: Tensor, rows: Int, width: Int, into y: Tensor) {
        checkNormalizationOperands(rows, width, x, y)
        let px = x.hostPointer(as: Float.self), py = y.hostPointer(as: Float.self)
        parallelFor(rows, threads: threads, grain: normalizationGrain(width)) { range in
            for r in range {
                let xr = px + r * width, yr = py + r * width
                var top = -Float.infinity
                for k in 0..<width { top = max(top, xr[k]) }
                var sum = 0.0
                for k in 0..<width {
                    let e = expf(xr[k] - top)
                    yr[k] = e
                    sum += Double(e)
                }
                let inverse = Float(1 / sum)
                for k in 0..<width { yr[k] *= inverse }
            }
        }
    }

    public func softmaxRowsBackward(y: Tensor, dy: Tensor, rows: Int, width: Int, into dx: Tensor) {
        checkNormalizationOperands(rows, width, y, dy, dx)
        let py = y.hostPointer(as: Float.self), pdy = dy.hostPointer(as: Float.self)
        let pdx = dx.hostPointer(as: Float.self)
        parallelFor(rows, threads: threads, grain: normalizationGrain(width)) { range in
            for r in range {
                let yr = py + r * width, dyr = pdy + r * width, dxr = pdx + r * width
                var dot = 0.0
                for k in 0..<width { dot += Double(dyr[k]) * Double(yr[k]) }
                let d = Float(dot)
                for k in 0..<width { dxr[k] = yr[k] * (dyr[k] - d) }
            }
        }
    }

    public func normalizeRows(_ x: Tensor, rows: Int, width: Int, epsilon: Float, into y: Tensor, mean: Tensor,
                              inverseStd: Tensor) {
        checkNormalizationOperands(rows, width, x, y)
        precondition(mean.count >= rows && inverseStd.count >= rows, "normalizeRows: statistics need \(rows) rows")
        let px = x.hostPointer(as: Float.self), py = y.hostPointer(as: Float.self)
        let pm = mean.hostPointer(as: Float.self), ps = inverseStd.hostPointer(as: Float.self)
        let n = Double(width), eps = Double(epsilon)
        parallelFor(rows, threads: threads, grain: normalizationGrain(width)) { range in
            for r in range {
                let xr = px + r * width, yr = py + r * width
                var sum = 0.0
                for k in 0..<width { sum += Double(xr[k]) }
                let mu = sum / n
                // Two passes: Σ(x − μ)² does not cancel the way Σx² − nμ² does.
                var squares = 0.0
                for k in 0..<width {
                    let d = Double(xr[k]) - mu
                    squares += d * d
                }
                let m = Float(mu), s = Float(1 / (squares / n + eps).squareRoot())
                for k in 0..<width { yr[k] = (xr[k] - m) * s }
                pm[r] = m
                ps[r] = s
            }
        }
    }

    public func normalizeRowsBackward(x: Tensor, dy: Tensor, mean: Tensor, inverseStd: Tensor, rows: Int, width: Int,
                                      into dx: Tensor) {
        checkNormalizationOperands(rows, width, x, dy, dx)
        precondition(mean.count >= rows && inverseStd.count >= rows,
                     "normalizeRowsBackward: statistics need \(rows) rows")
        let px = x.hostPointer(as: Float.self), pdy = dy.hostPointer(as: Float.self)
        let pdx = dx.hostPointer(as: Float.self)
        let pm = mean.hostPointer(as: Float.self), ps = inverseStd.hostPointer(as: Float.self)
        let n = Double(width)
        parallelFor(rows, threads: threads, grain: normalizationGrain(width)) { range in
            for r in range {
                let xr = px + r * width, dyr = pdy + r * width, dxr = pdx + r * width
                let m = pm[r], s = ps[r]
                var sumDy = 0.0, sumDyXhat = 0.0
                for k in 0..<width {
                    let g = Double(dyr[k])
                    sumDy += g
                    sumDyXhat += g * Double((xr[k] - m) * s)
                }
                let meanDy = Float(sumDy / n), meanDyXhat = Float(sumDyXhat / n)
                for k in 0..<width { dxr[k] = s * (dyr[k] - meanDy - (xr[k] - m) * s * meanDyXhat) }
            }
        }
    }

    /// About 16 K elements per parallel chunk.
    private func normalizationGrain(_ width: Int) -> Int { max(1, 16_384 / max(width, 1)) }

    private func checkNormalizationOperands(_ rows: Int, _ width: Int, _ tensors: Tensor...,
                                            function: StaticString = #function) {
        precondition(rows >= 0 && width >= 0, "\(function): negative size rows=\(rows) width=\(width)")
        for t in tensors {
            precondition(t.dtype == .float32 && t.count >= rows * width,
                         "\(function): \(t) is not \(rows)×\(width) fp32")
        }
    }
}
