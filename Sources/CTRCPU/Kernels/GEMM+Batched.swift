import CTRCore

extension CPUBackend {
    /// One `gemm` per matrix on views of the operands; each product uses every thread (through
    /// BLAS or the built-in GEMM), so the loop over the batch runs in order.
    public func batchedGEMM(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                            a: Tensor, strideA: Int, b: Tensor, strideB: Int, beta: Float, c: Tensor, strideC: Int,
                            batchCount: Int) {
        precondition(m >= 0 && n >= 0 && k >= 0 && batchCount >= 0, "batchedGEMM: negative size")
        precondition(strideA >= 0 && strideB >= 0 && (batchCount <= 1 || strideC >= m * n),
                     "batchedGEMM: negative stride, or C's matrices overlap")
        precondition(a.dtype == .float32 && b.dtype == .float32 && c.dtype == .float32, "batchedGEMM is fp32 only")
        for i in 0..<batchCount {
            gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                 a: a.view(from: i * strideA, [m * k]), b: b.view(from: i * strideB, [k * n]),
                 beta: beta, c: c.view(from: i * strideC, [m * n]))
        }
    }
}
