import CTRCore

/// Dense optimizers. The step size changes from step to step, so it is a `.perStep` argument
/// (its float bits) that a captured CUDA graph reads from its slot.
extension CUDABackend {
    public func adam(weight: Tensor, grad: Tensor, m: Tensor, v: Tensor, count: Int, lr: Float, beta1: Float, beta2: Float,
                     epsilon: Float, step: Int, gradScale: Float) {
        let alpha = adamAlpha(lr: lr, beta1: beta1, beta2: beta2, step: step)
        launch("adam", count, [
            .pointer(address(weight)), .pointer(address(grad)), .pointer(address(m)), .pointer(address(v)),
            .int64(Int64(count)), .perStep(UInt64(alpha.bitPattern)), .float(beta1), .float(beta2), .float(epsilon),
            .float(gradScale),
        ])
    }

    public func sgd(weight: Tensor, grad: Tensor, count: Int, lr: Float, gradScale: Float) {
        let step = lr * gradScale
        launch("sgd", count, [.pointer(address(weight)), .pointer(address(grad)), .int64(Int64(count)),
                              .perStep(UInt64(step.bitPattern))])
    }
}

extension KernelSource {
    /// `adam`: 10 FLOPs and a square root per weight, 28 bytes moved; `sgd`: 2 FLOPs, 12 bytes.
    static let optimizer = #"""
extern "C" __global__ void adam(float* w, const float* g, float* m, float* v, i64 n, step_scalar alphaStep,
                                float beta1, float beta2, float eps, float gradScale) {
    float alpha = step_float(alphaStep);
    GRID_STRIDE(i, n) {
        float gi = g[i] * gradScale;
        float mi = beta1 * m[i] + (1.f - beta1) * gi;
        float vi = beta2 * v[i] + (1.f - beta2) * gi * gi;
        m[i] = mi; v[i] = vi;
        w[i] -= alpha * mi / (sqrtf(vi) + eps);
    }
}

extern "C" __global__ void sgd(float* w, const float* g, i64 n, step_scalar stepSize) {
    float step = step_float(stepSize);
    GRID_STRIDE(i, n) w[i] -= step * g[i];
}
"""#
}
