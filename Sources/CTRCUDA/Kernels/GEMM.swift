import CTRCore

/// GEMM: matrix products through cuBLAS (fp32, TF32, or bf16/fp16 operands with fp32
/// accumulation), a warp-per-row matrix-vector kernel, bias rows and axpy.
extension CUDABackend {
    /// Tensor-core GEMMs need 16-byte aligned rows: 8 elements of bf16, 4 of fp32.
    public var gemmAlignment: Int { 8 }

    public func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                     alpha: Float, a: Tensor, b: Tensor, beta: Float, c: Tensor) {
        if k == 0 {
            if beta == 0 { record { try device.memset(address(c), byte: 0, count: m * n * c.dtype.size, stream: stream) } }
            return
        }
        if alpha == 1, beta == 0 || beta == 1,
           matrixVector(transA: transA, m: m, n: n, k: k, a: a, b: b, accumulate: beta == 1, c: c) {
            return
        }
        // 16-bit operands, or mixed precision on a GEMM big enough for tensor cores: 16-bit inputs
        // (fp32 ones converted), fp32 accumulation, C as stored.
        let stored = [a.dtype, b.dtype, c.dtype].first { $0 != .float32 }
        if let half = stored ?? (min(m, n, k) >= 16 ? gemmPrecision.halfType : nil) {
            let a16 = operand(a, as: half, count: m * k, slot: 0), b16 = operand(b, as: half, count: k * n, slot: 1)
            let type: (DType) -> CUDADataType = { $0 == .bfloat16 ? .bfloat16 : $0 == .float16 ? .float16 : .float32 }
            markKernel(Self.gemmLabel(transA, transB, m, n, k, "\(half)→\(c.dtype)"))
            record {
                try blas.gemmExRowMajor(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a16,
                                        aType: type(half), b: b16, bType: type(half), beta: beta, c: address(c),
                                        cType: type(c.dtype), stream: stream)
            }
            return
        }
        markKernel(Self.gemmLabel(transA, transB, m, n, k, "fp32"))
        record {
            try blas.sgemmRowMajor(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                                   a: address(a), b: address(b), beta: beta, c: address(c), stream: stream)
        }
    }

    /// A GEMM's kernel-profile label, "gemm NT m×n×k type": Bench reads the shape back for its rate.
    static func gemmLabel(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ type: String) -> String {
        "gemm \(transA ? "T" : "N")\(transB ? "T" : "N") \(m)×\(n)×\(k) \(type)"
    }

    /// `y (+)= X·w`, the forward GEMM of a layer with one output (fp32 weights, any stored input
    /// type), as a warp per row: cuBLAS runs this shape slower. (Its backward shapes, `Xᵀ·dy` and
    /// `dy·wᵀ`, measured faster in cuBLAS than as plain kernels, so they stay there: on an H200 at
    /// 65536 rows, 8-columns-per-thread kernels took 0.35 ms where cuBLAS takes 0.26.)
    private func matrixVector(transA: Bool, m: Int, n: Int, k: Int, a: Tensor, b: Tensor, accumulate: Bool,
                              c: Tensor) -> Bool {
        guard n == 1, !transA, b.dtype == .float32, c.dtype == .float32, m >= 1 << 12 else { return false }
        launch("matrix_vector", m * 32, [.pointer(address(a)), code(a.dtype), .pointer(address(b)), .int64(Int64(m)),
                                         .int32(Int32(k)), .pointer(address(c)), .int32(accumulate ? 1 : 0)],
               grid: ((m * 32 + 255) / 256, 1))
        return true
    }

    public func addBias(_ y: Tensor, bias: Tensor, rows: Int, cols: Int) {
        launchRows("add_bias", rows: rows, width: cols, [.pointer(address(y)), .pointer(address(bias)), .int64(Int64(rows)),
                                                         .int32(Int32(cols))])
    }

    public func axpy(_ alpha: Float, _ x: Tensor, _ y: Tensor, count: Int) {
        launch("axpy", count, [.float(alpha), .pointer(address(x)), .pointer(address(y)), .int64(Int64(count))])
    }

    /// `cublasSgemmStridedBatched` (see `CUBLAS.sgemmStridedBatchedRowMajor`), in fp32 or, when
    /// `gemmPrecision` is `.tf32`, on TF32 tensor cores; the bf16/fp16 precisions keep it fp32.
    public func batchedGEMM(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                            a: Tensor, strideA: Int, b: Tensor, strideB: Int, beta: Float, c: Tensor, strideC: Int,
                            batchCount: Int) {
        precondition(m >= 0 && n >= 0 && k >= 0 && batchCount >= 0, "batchedGEMM: negative size")
        precondition(strideA >= 0 && strideB >= 0 && (batchCount <= 1 || strideC >= m * n),
                     "batchedGEMM: negative stride, or C's matrices overlap")
        precondition(a.dtype == .float32 && b.dtype == .float32 && c.dtype == .float32, "batchedGEMM is fp32 only")
        guard m > 0, n > 0, batchCount > 0 else { return }
        let last = batchCount - 1
        precondition(a.count >= last * strideA + m * k && b.count >= last * strideB + k * n
                     && c.count >= last * strideC + m * n, "batchedGEMM: operands too small")
        record {
            try blas.sgemmStridedBatchedRowMajor(
                transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: address(a), strideA: strideA,
                b: address(b), strideB: strideB, beta: beta, c: address(c), strideC: strideC, count: batchCount,
                stream: stream)
        }
    }
}

extension CUDABackend {
    /// One kernel in blocks of 32 × 8 threads, each thread 8 columns down a share of the rows
    /// (16-byte vectors where rows allow), the weight gradient summed per block into `partial`
    /// and then over the blocks: cuBLAS runs the two products with one output at 1–2 TFLOPS.
    public func oneOutputBackward(x: Tensor, rows: Int, width: Int, dy: Tensor, w: Tensor, dw: Tensor, dx: Tensor?,
                                  partial: Tensor) {
        let vec = width % 8 == 0 && aligned16(x) && (dx.map { aligned16($0) } ?? true)
        let gx = (width + 255) / 256
        let gy = min(partial.count / max(width, 1), (rows + 7) / 8, max(1, device.multiprocessorCount * 8 / gx))
        launch("one_output_backward8", grid: (gx, rows > 0 && gy > 0 ? gy : 0), block: (32, 8), shared: 0, [
            .pointer(address(x)), code(x.dtype), .int64(Int64(rows)), .int32(Int32(width)), .int32(vec ? 1 : 0),
            .pointer(address(dy)), code(dy.dtype), .pointer(address(w)), .pointer(dx.map(address) ?? 0),
            dx.map { code($0.dtype) } ?? .int32(0), .pointer(address(partial)),
        ])
        sumRows(partial, rows: rows > 0 ? gy : 0, cols: width, into: dw, accumulate: true)
    }
}

extension KernelSource {
    /// `add_bias`: rows × cols adds (12 bytes moved each); `matrix_vector`: 2·rows·width FLOPs,
    /// a warp per row reading the row once; `axpy`: 2 FLOPs and 12 bytes per element.
    static let gemm = #"""
extern "C" __global__ void add_bias(float* y, const float* b, i64 rows, int cols) {
    ROWS_COLS(r, c, rows, cols) y[r * cols + c] += b[c];
}

// y (+)= X·w, a GEMM with one output column, with a warp per row.
extern "C" __global__ void matrix_vector(const void* x, int xt, const float* w, i64 rows, int width, float* y,
                                         int accumulate) {
    i64 r = ((i64)blockIdx.x * blockDim.x + threadIdx.x) / 32;
    int lane = threadIdx.x & 31;
    if (r >= rows) return;
    float dot = 0.f;
    for (int k = lane; k < width; k += 32) dot += load_as(x, r * width + k, xt) * w[k];
    for (int o = 16; o > 0; o >>= 1) dot += __shfl_xor_sync(0xffffffffu, dot, o);
    if (lane == 0) y[r] = accumulate ? y[r] + dot : dot;
}

// oneOutputBackward: a thread per 8 columns (columns at or past `width` skipped) and a share of
// the rows; the block's 8 row lanes summed in shared memory into partial[blockIdx.y].
extern "C" __global__ void one_output_backward8(const void* x, int xt, i64 rows, int width, int vec, const void* dy,
                                                int dyt, const float* w, void* dx, int dxt, float* partial) {
    __shared__ float sums[8][8][32];
    int c = (blockIdx.x * 32 + threadIdx.x) * 8;
    float acc[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
    if (c < width) {
        float wv[8];
#pragma unroll
        for (int j = 0; j < 8; j++) wv[j] = c + j < width ? w[c + j] : 0.f;
        for (i64 r = (i64)blockIdx.y * 8 + threadIdx.y; r < rows; r += 8 * (i64)gridDim.y) {
            float d = load_as(dy, r, dyt), v[8], o[8];
            load8_row(x, xt, r, width, c, width, vec, v);
#pragma unroll
            for (int j = 0; j < 8; j++) { acc[j] += v[j] * d; o[j] = d * wv[j]; }
            if (dx) store8_row(dx, dxt, r, width, c, width, vec, o);
        }
    }
#pragma unroll
    for (int j = 0; j < 8; j++) sums[j][threadIdx.y][threadIdx.x] = acc[j];
    __syncthreads();
    if (threadIdx.y == 0) {
        for (int j = 0; j < 8 && c + j < width; j++) {
            float t = 0.f;
            for (int y = 0; y < 8; y++) t += sums[j][y][threadIdx.x];
            partial[(i64)blockIdx.y * width + c + j] = t;
        }
    }
}

extern "C" __global__ void axpy(float a, const float* x, float* y, i64 n) { GRID_STRIDE(i, n) y[i] += a * x[i]; }
"""#
}
