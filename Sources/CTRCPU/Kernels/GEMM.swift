import CTRCore

/// GEMM through BLAS (or the built-in fallback) and the row/column updates around it.
extension CPUBackend {
    /// The two products `dw += xᵀ·dy` and `dx = dy·wᵀ` (`partial` is not needed).
    public func oneOutputBackward(x: Tensor, rows: Int, width: Int, dy: Tensor, w: Tensor, dw: Tensor, dx: Tensor?,
                                  partial: Tensor) {
        gemm(transA: true, transB: false, m: width, n: 1, k: rows, alpha: 1, a: x, b: dy, beta: 1, c: dw)
        if let dx { gemm(transA: false, transB: true, m: rows, n: width, k: 1, alpha: 1, a: dy, b: w, beta: 0, c: dx) }
    }

    public func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                     alpha: Float, a: Tensor, b: Tensor, beta: Float, c: Tensor) {
        precondition(a.count >= m * k && b.count >= k * n && c.count >= m * n, "gemm operands too small")
        let pa = UnsafePointer(a.hostPointer(as: Float.self))
        let pb = UnsafePointer(b.hostPointer(as: Float.self))
        let pc = c.hostPointer(as: Float.self)
        if m == 0 || n == 0 { return }
        if k == 0 {
            for i in 0..<(m * n) { pc[i] = beta == 0 ? 0 : beta * pc[i] }
            return
        }
        if let blas {
            blas.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: pa, b: pb, beta: beta, c: pc)
        } else {
            naiveGEMM(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                      a: pa, b: pb, beta: beta, c: pc, threads: threads)
        }
    }

    public func addBias(_ y: Tensor, bias: Tensor, rows: Int, cols: Int) {
        let py = y.hostPointer(as: Float.self), pb = bias.hostPointer(as: Float.self)
        parallelFor(rows, threads: threads, grain: max(1, 32_768 / max(cols, 1))) { range in
            for r in range {
                let row = py + r * cols
                for c in 0..<cols { row[c] += pb[c] }
            }
        }
    }

    public func axpy(_ alpha: Float, _ x: Tensor, _ y: Tensor, count: Int) {
        let px = x.hostPointer(as: Float.self), py = y.hostPointer(as: Float.self)
        parallelFor(count, threads: threads) { range in
            for i in range { py[i] += alpha * px[i] }
        }
    }
}
