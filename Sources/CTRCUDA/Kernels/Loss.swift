import CTRCore

/// Losses on logits with their gradient in one pass (binary, softmax and weighted multi-label
/// cross-entropy), and the L1/L2 weight penalty. Each sums its loss in double into scratch bytes
/// 24..<32, then one thread writes (or adds) the float result.
extension CUDABackend {
    public func binaryCrossEntropy(logits: Tensor, labels: Tensor, grad: Tensor, count: Int, rows: Int, gradScale: Float,
                                   loss: Tensor) {
        let sum = lossSum()
        launch("bce", count, [.pointer(address(logits)), .pointer(address(labels)), .pointer(address(grad)), .pointer(sum),
                              .int64(Int64(count)), .float(gradScale)], grid: (lossBlocks(count), 1))
        finishLoss(sum, loss: loss, divisor: count)
        zeroRows(grad, from: count, to: rows, width: 1)
    }

    public func softmaxCrossEntropy(logits: Tensor, labels: Tensor, labelWidth: Int, classes: Int, grad: Tensor, count: Int,
                                    rows: Int, gradScale: Float, loss: Tensor) {
        let sum = lossSum()
        launch("softmax_ce", count, [.pointer(address(logits)), .pointer(address(labels)), .int32(Int32(labelWidth)),
                                     .int32(Int32(classes)), .pointer(address(grad)), .pointer(sum), .int64(Int64(count)),
                                     .float(gradScale)], grid: (lossBlocks(count), 1))
        finishLoss(sum, loss: loss, divisor: count)
        zeroRows(grad, from: count, to: rows, width: classes)
    }

    public func multiCrossEntropy(logits: Tensor, labels: Tensor, weights: Tensor, width: Int, grad: Tensor, count: Int,
                                  rows: Int, gradScale: Float, loss: Tensor) {
        let sum = lossSum(), n = count * width
        launch("multi_ce", n, [.pointer(address(logits)), .pointer(address(labels)), .pointer(address(weights)),
                               .int32(Int32(width)), .pointer(address(grad)), .pointer(sum), .int64(Int64(n)),
                               .float(gradScale)], grid: (lossBlocks(n), 1))
        finishLoss(sum, loss: loss, divisor: n)
        zeroRows(grad, from: count, to: rows, width: width)
    }

    public func addPenalty(_ penalty: WeightPenalty, weights: [Tensor], grads: [Tensor]?, termScale: Float, gradScale: Float,
                           loss: Tensor) {
        let sum = lossSum()
        for (k, tensor) in weights.enumerated() {
            launch("penalty", tensor.count, [.pointer(address(tensor)), .pointer(grads.map { address($0[k]) } ?? 0),
                                             .int64(Int64(tensor.count)), .int32(penalty == .l2 ? 1 : 0),
                                             .float(gradScale), .pointer(sum)], grid: (lossBlocks(tensor.count), 1))
        }
        launch("add_loss", 1, [.pointer(sum), .pointer(address(loss)), .float(termScale)], block: 32, grid: (1, 1))
    }

    /// The zeroed double accumulator of a loss sum.
    private func lossSum() -> CUdeviceptr {
        let sum = scratch + 24
        record { try device.memset(sum, byte: 0, count: 8, stream: stream) }
        return sum
    }

    /// Blocks of 256 threads for `count` grid-stride elements, at most 1024 (one atomic each).
    private func lossBlocks(_ count: Int) -> Int { min(max(1, (count + 255) / 256), 1024) }

    private func finishLoss(_ sum: CUdeviceptr, loss: Tensor, divisor: Int) {
        launch("finish_loss", 1, [.pointer(sum), .pointer(address(loss)), .int64(Int64(divisor))], block: 32, grid: (1, 1))
    }

    /// Zeroes rows `from..<to` of a gradient with rows of `width` elements.
    private func zeroRows(_ grad: Tensor, from: Int, to: Int, width: Int) {
        guard to > from else { return }
        record {
            try device.memset(address(grad) + CUdeviceptr(from * width * 4), byte: 0, count: (to - from) * width * 4,
                              stream: stream)
        }
    }
}

extension KernelSource {
    /// `bce` and `multi_ce`: one pass over the logits (8–12 bytes read, 4 written, a log1p and an
    /// exp per element); `softmax_ce`: one thread per row, two passes over its `classes` logits;
    /// `penalty`: one pass over a weight tensor (4 bytes read, 8 more with a gradient). Each sums
    /// its block in double and adds it with one atomic per block; `finish_loss` and `add_loss`:
    /// one thread.
    static let loss = #"""
// Sums `local` over the block of 256 threads and adds the total to *out (one atomic per block).
__device__ __forceinline__ void block_add(double local, double* out) {
    __shared__ double partial[256];
    partial[threadIdx.x] = local;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) partial[threadIdx.x] += partial[threadIdx.x + s];
        __syncthreads();
    }
    if (threadIdx.x == 0) atomicAdd(out, partial[0]);
}

// -y log(sigmoid(x)) - (1 - y) log(1 - sigmoid(x)) in double, without overflow.
__device__ __forceinline__ double sigmoid_ce(float x, float y) {
    return x >= 0.f ? (double)x * (1.0 - y) + log1p(exp(-(double)x)) : -(double)x * y + log1p(exp((double)x));
}

// Per row: grad = (sigmoid(x) - y) * scale; the loss sum goes to a double accumulator.
extern "C" __global__ void bce(const float* x, const float* y, float* grad, double* loss, i64 count, float scale) {
    double local = 0.0;
    GRID_STRIDE(i, count) {
        float xi = x[i], yi = y[i];
        local += sigmoid_ce(xi, yi);
        grad[i] = (stable_sigmoid(xi) - yi) * scale;
    }
    block_add(local, loss);
}

// Per row of `classes` logits: softmax with the maximum subtracted; labels are `classes` weights
// per row, or one class index per row (label_width 1, rounded to the nearest class).
extern "C" __global__ void softmax_ce(const float* x, const float* y, int label_width, int classes, float* grad,
                                      double* loss, i64 count, float scale) {
    double local = 0.0;
    GRID_STRIDE(r, count) {
        const float* xr = x + r * classes;
        const float* yr = y + r * label_width;
        float* gr = grad + r * classes;
        float m = xr[0];
        for (int k = 1; k < classes; ++k) m = fmaxf(m, xr[k]);
        float s = 0.f;
        for (int k = 0; k < classes; ++k) s += expf(xr[k] - m);
        double lse = (double)m + (double)logf(s);
        if (label_width == 1) {
            float v = yr[0];
            int c = v != v ? 0 : (int)fminf(fmaxf(floorf(v + 0.5f), 0.f), (float)(classes - 1));
            local += lse - (double)xr[c];
            for (int k = 0; k < classes; ++k) gr[k] = (expf(xr[k] - m) / s - (k == c ? 1.f : 0.f)) * scale;
        } else {
            float mass = 0.f;
            for (int k = 0; k < classes; ++k) {
                mass += yr[k];
                local += (double)yr[k] * (lse - (double)xr[k]);
            }
            for (int k = 0; k < classes; ++k) gr[k] = (expf(xr[k] - m) / s * mass - yr[k]) * scale;
        }
    }
    block_add(local, loss);
}

// Per element of rows of `width` labels: weight w[j]; a label below -0.5 is ignored.
extern "C" __global__ void multi_ce(const float* x, const float* y, const float* w, int width, float* grad,
                                    double* loss, i64 n, float scale) {
    double local = 0.0;
    GRID_STRIDE(i, n) {
        int j;
        divmod(i, width, &j);
        float yi = y[i];
        if (yi < -0.5f) { grad[i] = 0.f; continue; }
        float xi = x[i], wj = w[j];
        local += (double)wj * sigmoid_ce(xi, yi);
        grad[i] = wj * (stable_sigmoid(xi) - yi) * scale;
    }
    block_add(local, loss);
}

// L1 (|w|, gradient sign w with sign 0 = 0) or L2 (w^2 / 2, gradient w) over one weight tensor;
// `grad` may be null (evaluation: the term only).
extern "C" __global__ void penalty(const float* w, float* grad, i64 n, int l2, float scale, double* sum) {
    double local = 0.0;
    GRID_STRIDE(i, n) {
        float v = w[i];
        local += l2 ? 0.5 * (double)v * (double)v : fabs((double)v);
        if (grad) grad[i] += scale * (l2 ? v : (float)((v > 0.f) - (v < 0.f)));
    }
    block_add(local, sum);
}

extern "C" __global__ void finish_loss(const double* sum, float* loss, i64 count) {
    if (threadIdx.x == 0 && blockIdx.x == 0) loss[0] = count > 0 ? (float)(*sum / (double)count) : 0.f;
}

extern "C" __global__ void add_loss(const double* sum, float* loss, float scale) {
    if (threadIdx.x == 0 && blockIdx.x == 0) loss[0] += (float)(*sum * (double)scale);
}
"""#
}
