import CTRCore

/// Losses: binary cross-entropy on logits, with its gradient, in one pass.
extension CUDABackend {
    public func binaryCrossEntropy(logits: Tensor, labels: Tensor, grad: Tensor, count: Int, rows: Int, gradScale: Float,
                                   loss: Tensor) {
        let sum = scratch + 24
        record { try device.memset(sum, byte: 0, count: 8, stream: stream) }
        launch("bce", count, [.pointer(address(logits)), .pointer(address(labels)), .pointer(address(grad)), .pointer(sum),
                              .int64(Int64(count)), .float(gradScale)], grid: (min(max(1, (count + 255) / 256), 1024), 1))
        launch("finish_loss", 1, [.pointer(sum), .pointer(address(loss)), .int64(Int64(count))], block: 32, grid: (1, 1))
        if rows > count {
            record { try device.memset(address(grad) + CUdeviceptr(count * 4), byte: 0, count: (rows - count) * 4, stream: stream) }
        }
    }
}

extension KernelSource {
    /// `bce`: one pass over the logits (8 bytes read, 4 written, a log1p and an exp per row), a
    /// block reduction in double and one atomic per block; `finish_loss`: one thread.
    static let loss = #"""
// Per row: grad = (sigmoid(x) - y) * scale; the loss sum goes to a double accumulator.
extern "C" __global__ void bce(const float* x, const float* y, float* grad, double* loss, i64 count, float scale) {
    __shared__ double partial[256];
    double local = 0.0;
    GRID_STRIDE(i, count) {
        float xi = x[i], yi = y[i];
        local += xi >= 0.f ? (double)xi * (1.0 - yi) + log1p(exp(-(double)xi)) : -(double)xi * yi + log1p(exp((double)xi));
        grad[i] = (stable_sigmoid(xi) - yi) * scale;
    }
    partial[threadIdx.x] = local;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) partial[threadIdx.x] += partial[threadIdx.x + s];
        __syncthreads();
    }
    if (threadIdx.x == 0) atomicAdd(loss, partial[0]);
}

extern "C" __global__ void finish_loss(const double* sum, float* loss, i64 count) {
    if (threadIdx.x == 0 && blockIdx.x == 0) loss[0] = count > 0 ? (float)(*sum / (double)count) : 0.f;
}
"""#
}
