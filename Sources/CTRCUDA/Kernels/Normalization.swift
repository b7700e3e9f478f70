import CTRCore

/// Row-wise normalization: softmax and mean/variance normalization with their backwards; Dice,
/// column-wise.
///
/// A row is handled by `lanes` threads: one warp when it has at most 512 elements (8 rows per
/// block of 256), else a whole block of up to 1024 threads (about 4 elements each), with the
/// partial sums reduced by warp shuffles and, across a block's warps, in shared memory.
extension CUDABackend {
    public func softmaxRows(_ x: Tensor, rows: Int, width: Int, into y: Tensor) {
        checkNormalizationOperands(rows, width, x, y)
        launchRowwise("softmax_rows", rows: rows, width: width, [
            .pointer(address(x)), .int64(Int64(rows)), .int32(Int32(width)), .pointer(address(y)),
        ])
    }

    public func softmaxRowsBackward(y: Tensor, dy: Tensor, rows: Int, width: Int, into dx: Tensor) {
        checkNormalizationOperands(rows, width, y, dy, dx)
        launchRowwise("softmax_rows_backward", rows: rows, width: width, [
            .pointer(address(y)), .pointer(address(dy)), .int64(Int64(rows)), .int32(Int32(width)),
            .pointer(address(dx)),
        ])
    }

    public func normalizeRows(_ x: Tensor, rows: Int, width: Int, epsilon: Float, into y: Tensor, mean: Tensor,
                              inverseStd: Tensor) {
        checkNormalizationOperands(rows, width, x, y)
        precondition(mean.count >= rows && inverseStd.count >= rows, "normalizeRows: statistics need \(rows) rows")
        launchRowwise("normalize_rows", rows: rows, width: width, [
            .pointer(address(x)), .int64(Int64(rows)), .int32(Int32(width)), .float(epsilon), .pointer(address(y)),
            .pointer(address(mean)), .pointer(address(inverseStd)),
        ])
    }

    public func normalizeRowsBackward(x: Tensor, dy: Tensor, mean: Tensor, inverseStd: Tensor, rows: Int, width: Int,
                                      into dx: Tensor) {
        checkNormalizationOperands(rows, width, x, dy, dx)
        precondition(mean.count >= rows && inverseStd.count >= rows,
                     "normalizeRowsBackward: statistics need \(rows) rows")
        launchRowwise("normalize_rows_backward", rows: rows, width: width, [
            .pointer(address(x)), .pointer(address(dy)), .pointer(address(mean)), .pointer(address(inverseStd)),
            .int64(Int64(rows)), .int32(Int32(width)), .pointer(address(dx)),
        ])
    }

    public func dice(_ x: Tensor, rows: Int, width: Int, alpha: Float, epsilon: Float, into y: Tensor, mean: Tensor,
                     inverseStd: Tensor) {
        checkNormalizationOperands(rows, width, x, y)
        precondition(mean.count >= width && inverseStd.count >= width, "dice: statistics need \(width) columns")
        launchColumnwise("dice", rows: rows, width: width, [
            .pointer(address(x)), .int64(Int64(rows)), .int32(Int32(width)), .float(alpha), .float(epsilon),
            .pointer(address(y)), .pointer(address(mean)), .pointer(address(inverseStd)),
        ])
    }

    public func diceBackward(x: Tensor, dy: Tensor, mean: Tensor, inverseStd: Tensor, rows: Int, width: Int, alpha: Float,
                             into dx: Tensor) {
        checkNormalizationOperands(rows, width, x, dy, dx)
        precondition(mean.count >= width && inverseStd.count >= width, "diceBackward: statistics need \(width) columns")
        launchColumnwise("dice_backward", rows: rows, width: width, [
            .pointer(address(x)), .pointer(address(dy)), .pointer(address(mean)), .pointer(address(inverseStd)),
            .int64(Int64(rows)), .int32(Int32(width)), .float(alpha), .pointer(address(dx)),
        ])
    }

    /// Launches a `COLUMN_PARTS` kernel: a block of 256 threads per 32 columns, its 8 warps
    /// splitting the rows.
    private func launchColumnwise(_ kernel: String, rows: Int, width: Int, _ arguments: [KernelArgument]) {
        guard rows > 0, width > 0 else { return }
        launch(kernel, rows * width, arguments, block: 256, grid: ((width + 31) / 32, 1))
    }

    /// Launches a row-wise kernel (its last argument is `lanes`, the threads per row).
    private func launchRowwise(_ kernel: String, rows: Int, width: Int, _ arguments: [KernelArgument]) {
        guard rows > 0, width > 0 else { return }
        let lanes = width <= 512 ? 32 : min(1024, (width / 4 + 31) / 32 * 32)
        // A warp per row: 8 rows a block. A block per row: the block is the row's lanes.
        launch(kernel, rows * lanes, arguments + [.int32(Int32(lanes))], block: lanes == 32 ? 256 : lanes)
    }

    private func checkNormalizationOperands(_ rows: Int, _ width: Int, _ tensors: Tensor...,
                                            function: StaticString = #function) {
        precondition(rows >= 0 && width >= 0 && width <= Int(Int32.max),
                     "\(function): size rows=\(rows) width=\(width) out of range")
        for t in tensors {
            precondition(t.dtype == .float32 && t.count >= rows * width,
                         "\(function): \(t) is not \(rows)×\(width) fp32")
        }
    }
}

extension KernelSource {
    /// Each row read twice forward (statistics, then the output) and three times backward; a few
    /// FLOPs per element: memory-bound. Dice reads each column three times forward and twice
    /// backward (with an exponential per element and pass).
    static let normalization = #"""

// Row-wise kernels: `lanes` threads share a row, one warp (32) or the whole block (blockDim.x);
// a block holds blockDim.x / lanes rows at a time and strides over the rows. With a block per row
// every thread of the block sees the same rows, so the barriers of norm_row_sum are uniform.
#define ROW_LANES(r, lane, rows, lanes) \
    const int lane = threadIdx.x % (lanes); \
    for (i64 r = (i64)blockIdx.x * (blockDim.x / (lanes)) + threadIdx.x / (lanes); r < (rows); \
         r += (i64)gridDim.x * (blockDim.x / (lanes)))

__device__ __forceinline__ float norm_warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ __forceinline__ float norm_warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}
// The sum (max) over a row's lanes, in every lane. A block per row passes the warps' partials
// through `buf` (32 floats of shared memory); the first barrier keeps the previous reduction's
// reads of `buf` ahead of this one's writes.
__device__ float norm_row_sum(float v, int lanes, float* buf) {
    v = norm_warp_sum(v);
    if (lanes == 32) return v;
    const int lane = threadIdx.x & 31;
    __syncthreads();
    if (lane == 0) buf[threadIdx.x >> 5] = v;
    __syncthreads();
    return norm_warp_sum(lane < (int)(blockDim.x >> 5) ? buf[lane] : 0.f);
}
__device__ float norm_row_max(float v, int lanes, float* buf) {
    const float lowest = __int_as_float(0xff800000u);
    v = norm_warp_max(v);
    if (lanes == 32) return v;
    const int lane = threadIdx.x & 31;
    __syncthreads();
    if (lane == 0) buf[threadIdx.x >> 5] = v;
    __syncthreads();
    return norm_warp_max(lane < (int)(blockDim.x >> 5) ? buf[lane] : lowest);
}

// Column-wise kernels (Dice): a block of 256 threads owns 32 columns and every row; lane c of
// warp `part` reads rows part, part + 8, … of column c, so each warp reads 32 adjacent floats.
#define COLUMN_PARTS(c, part, live, width) \
    const int part = threadIdx.x >> 5; \
    const int c = blockIdx.x * 32 + (threadIdx.x & 31); \
    const bool live = c < (width)

// The sum of v over a column's 8 parts, in each of them (buf: 256 floats of shared memory). The
// first barrier keeps the previous call's reads of `buf` ahead of this one's writes; every thread
// of the block must call it.
__device__ float column_parts_sum(float v, float* buf) {
    __syncthreads();
    buf[threadIdx.x] = v;
    __syncthreads();
    const int lane = threadIdx.x & 31;
    float s = 0.f;
    for (int p = 0; p < 8; ++p) s += buf[p * 32 + lane];
    return s;
}

// Dice with the batch statistics of each column: y = x·(α + (1 − α)·σ((x − μ)·s)), s = 1/√(σ² + ε)
// (0 when σ² + ε ≤ 0), the variance taken around μ (two passes).
extern "C" __global__ void dice(const float* x, i64 rows, int width, float alpha, float epsilon, float* y,
                                float* mean, float* inverse_std) {
    __shared__ float buf[256];
    COLUMN_PARTS(c, part, live, width);
    float sum = 0.f;
    if (live) for (i64 r = part; r < rows; r += 8) sum += x[r * width + c];
    const float mu = column_parts_sum(sum, buf) / (float)rows;
    float squares = 0.f;
    if (live) {
        for (i64 r = part; r < rows; r += 8) {
            const float d = x[r * width + c] - mu;
            squares += d * d;
        }
    }
    const float v = column_parts_sum(squares, buf) / (float)rows + epsilon;
    const float s = v > 0.f ? rsqrtf(v) : 0.f;
    if (!live) return;
    for (i64 r = part; r < rows; r += 8) {
        const i64 i = r * width + c;
        const float xv = x[i];
        y[i] = xv * (alpha + (1.f - alpha) * stable_sigmoid((xv - mu) * s));
    }
    if (part == 0) {
        mean[c] = mu;
        inverse_std[c] = s;
    }
}

// Its backward through μ and σ²: u = dy·(1 − α)·x·p·(1 − p), n = (x − μ)·s,
// dx = dy·(α + (1 − α)·p) + s·(u − mean(u) − n·mean(u·n)).
extern "C" __global__ void dice_backward(const float* x, const float* dy, const float* mean, const float* inverse_std,
                                         i64 rows, int width, float alpha, float* dx) {
    __shared__ float buf[256];
    COLUMN_PARTS(c, part, live, width);
    const float mu = live ? mean[c] : 0.f, s = live ? inverse_std[c] : 0.f;
    float sum_u = 0.f, sum_un = 0.f;
    if (live) {
        for (i64 r = part; r < rows; r += 8) {
            const i64 i = r * width + c;
            const float xv = x[i], n = (xv - mu) * s, p = stable_sigmoid(n), u = dy[i] * (1.f - alpha) * xv * p * (1.f - p);
            sum_u += u;
            sum_un += u * n;
        }
    }
    const float mean_u = column_parts_sum(sum_u, buf) / (float)rows;
    const float mean_un = column_parts_sum(sum_un, buf) / (float)rows;
    if (!live) return;
    for (i64 r = part; r < rows; r += 8) {
        const i64 i = r * width + c;
        const float xv = x[i], g = dy[i], n = (xv - mu) * s, p = stable_sigmoid(n), u = g * (1.f - alpha) * xv * p * (1.f - p);
        dx[i] = g * (alpha + (1.f - alpha) * p) + s * (u - mean_u - n * mean_un);
    }
}

// y = exp(x − max) / Σ exp(x − max) per row.
extern "C" __global__ void softmax_rows(const float* x, i64 rows, int width, float* y, int lanes) {
    __shared__ float buf[32];
    ROW_LANES(r, lane, rows, lanes) {
        const float* xr = x + r * width;
        float* yr = y + r * width;
        float top = __int_as_float(0xff800000u);
        for (int k = lane; k < width; k += lanes) top = fmaxf(top, xr[k]);
        top = norm_row_max(top, lanes, buf);
        float sum = 0.f;
        for (int k = lane; k < width; k += lanes) sum += expf(xr[k] - top);
        const float inverse = 1.f / norm_row_sum(sum, lanes, buf);
        for (int k = lane; k < width; k += lanes) yr[k] = expf(xr[k] - top) * inverse;
    }
}

// dx = y ⊙ (dy − ⟨dy, y⟩) per row.
extern "C" __global__ void softmax_rows_backward(const float* y, const float* dy, i64 rows, int width, float* dx,
                                                 int lanes) {
    __shared__ float buf[32];
    ROW_LANES(r, lane, rows, lanes) {
        const float* yr = y + r * width;
        const float* dyr = dy + r * width;
        float* dxr = dx + r * width;
        float dot = 0.f;
        for (int k = lane; k < width; k += lanes) dot += dyr[k] * yr[k];
        dot = norm_row_sum(dot, lanes, buf);
        for (int k = lane; k < width; k += lanes) dxr[k] = yr[k] * (dyr[k] - dot);
    }
}

// y = (x − μ)·s, s = 1/√(σ² + ε) with the biased variance taken around μ (two passes).
extern "C" __global__ void normalize_rows(const float* x, i64 rows, int width, float epsilon, float* y, float* mean,
                                          float* inverse_std, int lanes) {
    __shared__ float buf[32];
    ROW_LANES(r, lane, rows, lanes) {
        const float* xr = x + r * width;
        float* yr = y + r * width;
        float sum = 0.f;
        for (int k = lane; k < width; k += lanes) sum += xr[k];
        const float mu = norm_row_sum(sum, lanes, buf) / (float)width;
        float squares = 0.f;
        for (int k = lane; k < width; k += lanes) {
            const float d = xr[k] - mu;
            squares += d * d;
        }
        const float s = rsqrtf(norm_row_sum(squares, lanes, buf) / (float)width + epsilon);
        for (int k = lane; k < width; k += lanes) yr[k] = (xr[k] - mu) * s;
        if (lane == 0) {
            mean[r] = mu;
            inverse_std[r] = s;
        }
    }
}

// dx = s·(dy − mean(dy) − x̂·mean(dy ⊙ x̂)), x̂ = (x − μ)·s.
extern "C" __global__ void normalize_rows_backward(const float* x, const float* dy, const float* mean,
                                                   const float* inverse_std, i64 rows, int width, float* dx,
                                                   int lanes) {
    __shared__ float buf[32];
    ROW_LANES(r, lane, rows, lanes) {
        const float* xr = x + r * width;
        const float* dyr = dy + r * width;
        float* dxr = dx + r * width;
        const float mu = mean[r], s = inverse_std[r];
        float sum_dy = 0.f, sum_dy_xhat = 0.f;
        for (int k = lane; k < width; k += lanes) {
            sum_dy += dyr[k];
            sum_dy_xhat += dyr[k] * (xr[k] - mu) * s;
        }
        const float mean_dy = norm_row_sum(sum_dy, lanes, buf) / (float)width;
        const float mean_dy_xhat = norm_row_sum(sum_dy_xhat, lanes, buf) / (float)width;
        for (int k = lane; k < width; k += lanes) dxr[k] = s * (dyr[k] - mean_dy - (xr[k] - mu) * s * mean_dy_xhat);
    }
}
"""#
}
