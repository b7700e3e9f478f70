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

    public func dice(_ x: Tensor, rows: Int, width: Int, alpha: Float, epsilon: Float, into y: Tensor, mean: Tensor,
                     inverseStd: Tensor) {
        checkNormalizationOperands(rows, width, x, y)
        precondition(mean.count >= width && inverseStd.count >= width, "dice: statistics need \(width) columns")
        let px = x.hostPointer(as: Float.self), py = y.hostPointer(as: Float.self)
        let pm = mean.hostPointer(as: Float.self), ps = inverseStd.hostPointer(as: Float.self)
        let n = Double(rows), eps = Double(epsilon)
        columnBlocks(rows: rows, width: width) { columns, sums in
            // Two passes: Σ(x − μ)² does not cancel the way Σx² − nμ² does.
            sumDown(rows: rows, width: width, columns, into: sums) { i, _ in Double(px[i]) }
            for c in columns { pm[c] = Float(sums[c - columns.lowerBound] / n) }
            sumDown(rows: rows, width: width, columns, into: sums) { i, c in
                let d = Double(px[i]) - Double(pm[c])
                return d * d
            }
            for c in columns {
                let v = sums[c - columns.lowerBound] / n + eps
                ps[c] = v > 0 ? Float(1 / v.squareRoot()) : 0
            }
            for r in 0..<rows {
                for c in columns {
                    let i = r * width + c, v = px[i]
                    py[i] = v * (alpha + (1 - alpha) * stableSigmoid((v - pm[c]) * ps[c]))
                }
            }
        }
    }

    public func diceBackward(x: Tensor, dy: Tensor, mean: Tensor, inverseStd: Tensor, rows: Int, width: Int, alpha: Float,
                             into dx: Tensor) {
        checkNormalizationOperands(rows, width, x, dy, dx)
        precondition(mean.count >= width && inverseStd.count >= width, "diceBackward: statistics need \(width) columns")
        let px = x.hostPointer(as: Float.self), pdy = dy.hostPointer(as: Float.self), pdx = dx.hostPointer(as: Float.self)
        let pm = mean.hostPointer(as: Float.self), ps = inverseStd.hostPointer(as: Float.self)
        let n = Double(rows)
        /// `(n, p, u)` of element i in column c.
        @inline(__always) func terms(_ i: Int, _ c: Int) -> (Float, Float, Float) {
            let v = px[i], normalized = (v - pm[c]) * ps[c], p = stableSigmoid(normalized)
            return (normalized, p, pdy[i] * (1 - alpha) * v * p * (1 - p))
        }
        columnBlocks(rows: rows, width: width, sums: 2) { columns, sums in
            let count = columns.count
            sumDown(rows: rows, width: width, columns, into: sums) { i, c in Double(terms(i, c).2) }
            sumDown(rows: rows, width: width, columns, into: sums + count) { i, c in
                let (normalized, _, u) = terms(i, c)
                return Double(u * normalized)
            }
            for k in 0..<2 * count { sums[k] /= n }
            for r in 0..<rows {
                for c in columns {
                    let i = r * width + c, (normalized, p, u) = terms(i, c), k = c - columns.lowerBound
                    pdx[i] = pdy[i] * (alpha + (1 - alpha) * p)
                        + ps[c] * (u - Float(sums[k]) - normalized * Float(sums[count + k]))
                }
            }
        }
    }

    /// Runs `body` on blocks of at most 64 columns, in parallel, each with scratch for `sums` × 64
    /// Doubles (on the stack: a warm step allocates nothing).
    private func columnBlocks(rows: Int, width: Int, sums: Int = 1,
                              _ body: (Range<Int>, UnsafeMutablePointer<Double>) -> Void) {
        let block = 64, blocks = (width + block - 1) / block
        parallelFor(blocks, threads: threads, grain: max(1, 16_384 / max(rows * block, 1))) { range in
            withUnsafeTemporaryAllocation(of: Double.self, capacity: sums * block) { scratch in
                for b in range { body(b * block..<min(width, (b + 1) * block), scratch.baseAddress!) }
            }
        }
    }

    /// `sums[c − columns.lowerBound] = Σ_r f(r·width + c, c)`, rows outermost so that each row is
    /// read contiguously.
    @inline(__always)
    private func sumDown(rows: Int, width: Int, _ columns: Range<Int>, into sums: UnsafeMutablePointer<Double>,
                         _ f: (Int, Int) -> Double) {
        for c in columns { sums[c - columns.lowerBound] = 0 }
        for r in 0..<rows {
            for c in columns { sums[c - columns.lowerBound] += f(r * width + c, c) }
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
