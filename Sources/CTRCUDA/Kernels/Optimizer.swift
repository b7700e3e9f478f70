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

    public func adaGrad(weight: Tensor, grad: Tensor, accum: Tensor, count: Int, lr: Float, epsilon: Float,
                        gradScale: Float) {
        launch("adagrad", count, [.pointer(address(weight)), .pointer(address(grad)), .pointer(address(accum)),
                                  .int64(Int64(count)), .perStep(UInt64(lr.bitPattern)), .float(epsilon),
                                  .float(gradScale)])
    }

    public func momentumSGD(weight: Tensor, grad: Tensor, momentum: Tensor, count: Int, lr: Float, factor: Float,
                            gradScale: Float) {
        launch("momentum_sgd", count, [.pointer(address(weight)), .pointer(address(grad)), .pointer(address(momentum)),
                                       .int64(Int64(count)), .perStep(UInt64(lr.bitPattern)), .float(factor),
                                       .float(gradScale)])
    }

    public func nesterov(weight: Tensor, grad: Tensor, accum: Tensor, count: Int, lr: Float, mu: Float, gradScale: Float) {
        launch("nesterov", count, [.pointer(address(weight)), .pointer(address(grad)), .pointer(address(accum)),
                                   .int64(Int64(count)), .perStep(UInt64(lr.bitPattern)), .float(mu), .float(gradScale)])
    }

    public func ftrl(weight: Tensor, grad: Tensor, n: Tensor, z: Tensor, count: Int, lr: Float, beta: Float,
                     lambda1: Float, lambda2: Float, gradScale: Float) {
        launch("ftrl", count, [.pointer(address(weight)), .pointer(address(grad)), .pointer(address(n)),
                               .pointer(address(z)), .int64(Int64(count)), .perStep(UInt64(lr.bitPattern)),
                               .float(beta), .float(lambda1), .float(lambda2), .float(gradScale)])
    }
}

extension KernelSource {
    /// `adam`: 10 FLOPs and a square root per weight, 28 bytes moved; `sgd`: 2 FLOPs, 12 bytes;
    /// `adagrad`: 6 FLOPs and a square root, 20 bytes; `momentum_sgd`, `nesterov`: 4–8 FLOPs, 20
    /// bytes; `ftrl`: ~15 FLOPs, three square roots and three divisions, 28 bytes. The learning
    /// rate is a per-step scalar. The `*_step` functions are the per-element math that the
    /// sparse updates (Kernels/Embedding.swift) share.
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

__device__ __forceinline__ void adagrad_step(float* w, float* a, float g, float lr, float eps) {
    float ai = *a + g * g;
    *a = ai;
    *w -= lr * g / (eps + sqrtf(ai));
}
__device__ __forceinline__ void momentum_step(float* w, float* m, float g, float lr, float factor) {
    float mi = factor * *m - lr * g;
    *m = mi;
    *w += mi;
}
__device__ __forceinline__ void nesterov_step(float* w, float* m, float g, float lr, float mu) {
    float old = *m, next = mu * old - lr * g;
    *m = next;
    *w += -mu * old + (1.f + mu) * next;
}

extern "C" __global__ void adagrad(float* w, const float* g, float* a, i64 n, step_scalar lrStep, float eps,
                                   float gradScale) {
    float lr = step_float(lrStep);
    GRID_STRIDE(i, n) adagrad_step(w + i, a + i, g[i] * gradScale, lr, eps);
}

extern "C" __global__ void momentum_sgd(float* w, const float* g, float* m, i64 n, step_scalar lrStep, float factor,
                                        float gradScale) {
    float lr = step_float(lrStep);
    GRID_STRIDE(i, n) momentum_step(w + i, m + i, g[i] * gradScale, lr, factor);
}

extern "C" __global__ void nesterov(float* w, const float* g, float* m, i64 n, step_scalar lrStep, float mu,
                                    float gradScale) {
    float lr = step_float(lrStep);
    GRID_STRIDE(i, n) nesterov_step(w + i, m + i, g[i] * gradScale, lr, mu);
}

// e = FLT_EPSILON inside the square roots; a zero learning rate changes nothing.
extern "C" __global__ void ftrl(float* w, const float* g, float* nAcc, float* zAcc, i64 n, step_scalar lrStep,
                                float beta, float lambda1, float lambda2, float gradScale) {
    float lr = step_float(lrStep);
    if (lr == 0.f) return;
    const float e = 1.1920929e-7f;
    float l2 = lambda2 + beta / lr;
    GRID_STRIDE(i, n) {
        float gi = g[i] * gradScale, wi = w[i], ni = nAcc[i] + gi * gi;
        float zi = zAcc[i] + gi + (sqrtf(nAcc[i] + e) - sqrtf(ni + e)) * wi / lr;
        float x = lambda1 * (signbit(zi) ? -1.f : 1.f) - zi;
        float y = sqrtf(ni + e) / lr + l2;
        nAcc[i] = ni;
        zAcc[i] = zi;
        w[i] = fabsf(zi) > lambda1 ? x / y : 0.f;
    }
}
"""#
}
