import CTRCore

/// Elementwise ops: ReLU, Sigmoid, Dropout, the fused ReLU+Dropout (with bias), products and sums.
extension CUDABackend {
    public func relu(_ x: Tensor, into y: Tensor, count: Int) {
        launch("relu", count, [.pointer(address(x)), .pointer(address(y)), .int64(Int64(count))])
    }

    public func reluBackward(_ x: Tensor, _ dy: Tensor, into dx: Tensor, count: Int) {
        launch("relu_backward", count, [.pointer(address(x)), .pointer(address(dy)), .pointer(address(dx)), .int64(Int64(count))])
    }

    public func sigmoid(_ x: Tensor, into y: Tensor, count: Int) {
        launch("sigmoid", count, [.pointer(address(x)), .pointer(address(y)), .int64(Int64(count))])
    }

    public func sigmoidBackward(_ y: Tensor, _ dy: Tensor, into dx: Tensor, count: Int) {
        launch("sigmoid_backward", count, [.pointer(address(y)), .pointer(address(dy)), .pointer(address(dx)), .int64(Int64(count))])
    }

    public func dropout(_ x: Tensor, into y: Tensor, mask: Tensor, count: Int, rate: Float, seed: UInt64, stream rngStream: UInt64) {
        launch("dropout", count, [
            .pointer(address(x)), .pointer(address(y)), .pointer(address(mask)), .int64(Int64(count)),
            .float(1 / (1 - rate)), .uint64(dropoutThreshold(rate)), .perStep(seed), .uint64(rngStream),
        ])
    }

    /// Whether the ReLU+Dropout pair can run four elements per thread: whole groups per row, aligned
    /// vectors, and fewer than 2³² elements.
    private func fourWide(count: Int, width: Int, bias: Tensor?, _ tensors: Tensor...) -> Bool {
        count % 4 == 0 && count < 1 << 32 && (bias == nil || width % 4 == 0)
            && (tensors + (bias.map { [$0] } ?? [])).allSatisfy { address($0) % UInt64(4 * $0.dtype.size) == 0 }
    }

    public func reluDropout(_ x: Tensor, bias: Tensor?, width: Int, into y: Tensor, count: Int, rate: Float, seed: UInt64,
                            stream rngStream: UInt64) {
        let wide = fourWide(count: count, width: width, bias: bias, x, y)
        launch(wide ? "relu_dropout4" : "relu_dropout", wide ? count / 4 : count, [
            .pointer(address(x)), code(x.dtype), .pointer(bias.map(address) ?? 0), .int32(Int32(width)), .pointer(address(y)),
            code(y.dtype), .int64(Int64(wide ? count / 4 : count)), .float(1 / (1 - rate)), .uint64(dropoutThreshold(rate)),
            .perStep(seed), .uint64(rngStream),
        ])
    }

    public func reluDropoutBackward(_ x: Tensor, bias: Tensor?, width: Int, _ dy: Tensor, into dx: Tensor, count: Int,
                                    rate: Float, seed: UInt64, stream rngStream: UInt64) {
        let wide = fourWide(count: count, width: width, bias: bias, x, dy, dx)
        launch(wide ? "relu_dropout4_backward" : "relu_dropout_backward", wide ? count / 4 : count, [
            .pointer(address(x)), code(x.dtype), .pointer(bias.map(address) ?? 0), .int32(Int32(width)), .pointer(address(dy)),
            code(dy.dtype), .pointer(address(dx)), code(dx.dtype), .int64(Int64(wide ? count / 4 : count)),
            .float(1 / (1 - rate)), .uint64(dropoutThreshold(rate)), .perStep(seed), .uint64(rngStream),
        ])
    }

    public func multiply(_ a: Tensor, _ b: Tensor, into out: Tensor, count: Int) {
        launch("multiply", count, [.pointer(address(a)), .pointer(address(b)), .pointer(address(out)), .int64(Int64(count))])
    }

    public func sum(_ inputs: [Tensor], into out: Tensor, count: Int) {
        // Two inputs (an implicit Slice's backward): one pass instead of a copy and an axpy.
        if inputs.count == 2, address(inputs[0]) != address(out), address(inputs[1]) != address(out) {
            return launch("add2", count, [.pointer(address(inputs[0])), .pointer(address(inputs[1])), .pointer(address(out)),
                                          .int64(Int64(count))])
        }
        if address(inputs[0]) != address(out) {
            record { try device.copy(toDevice: address(out), fromDevice: address(inputs[0]), bytes: count * 4, stream: stream) }
        }
        for input in inputs.dropFirst() { axpy(1, input, out, count: count) }
    }
}

extension KernelSource {
    /// One thread per element (four for the `4` variants), each a few FLOPs: memory-bound at
    /// 8–16 bytes per element (4–10 for 16-bit activations); dropout adds one counter hash per
    /// four elements.
    static let elementwise = #"""
extern "C" __global__ void add2(const float* a, const float* b, float* out, i64 n) { GRID_STRIDE(i, n) out[i] = a[i] + b[i]; }
extern "C" __global__ void multiply(const float* a, const float* b, float* out, i64 n) { GRID_STRIDE(i, n) out[i] = a[i] * b[i]; }

extern "C" __global__ void relu(const float* x, float* y, i64 n) { GRID_STRIDE(i, n) y[i] = x[i] > 0.f ? x[i] : 0.f; }
extern "C" __global__ void relu_backward(const float* x, const float* dy, float* dx, i64 n) {
    GRID_STRIDE(i, n) dx[i] = x[i] > 0.f ? dy[i] : 0.f;
}

extern "C" __global__ void sigmoid(const float* x, float* y, i64 n) { GRID_STRIDE(i, n) y[i] = stable_sigmoid(x[i]); }
extern "C" __global__ void sigmoid_backward(const float* y, const float* dy, float* dx, i64 n) {
    GRID_STRIDE(i, n) dx[i] = dy[i] * y[i] * (1.f - y[i]);
}

// The CPU backend's CounterRNG.hash, bit for bit, so both draw the same dropout mask.
__device__ __forceinline__ u64 counter_hash(u64 seed, u64 stream, u64 counter) {
    u64 z = seed + stream * 0xD1B54A32D192ED03ull + counter * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

__device__ __forceinline__ float dropout_scale(i64 i, float keep, u64 threshold, u64 seed, u64 stream) {
    u64 bits = counter_hash(seed, stream, (u64)(i >> 2)) >> (16 * (i & 3));
    return (bits & 0xFFFFull) < threshold ? 0.f : keep;
}

extern "C" __global__ void relu_dropout(const void* x, int xt, const float* bias, int width, void* y, int yt, i64 n, float keep,
                                        u64 threshold, step_scalar seedStep, u64 stream) {
    u64 seed = step_value(seedStep);
    GRID_STRIDE(i, n) {
        float v = load_as(x, i, xt) + (bias ? bias[i % width] : 0.f);
        store_as(y, i, yt, fmaxf(v, 0.f) * dropout_scale(i, keep, threshold, seed, stream));
    }
}

// The same in groups of four elements (one hash each) when rows hold whole groups: vector loads
// and stores, and a column index per group instead of a division per element.
__device__ __forceinline__ float4 keep4(u64 g, float keep, u64 threshold, u64 seed, u64 stream) {
    u64 bits = counter_hash(seed, stream, g);
    return make_float4((bits & 0xFFFFull) < threshold ? 0.f : keep, ((bits >> 16) & 0xFFFFull) < threshold ? 0.f : keep,
                       ((bits >> 32) & 0xFFFFull) < threshold ? 0.f : keep, (bits >> 48) < threshold ? 0.f : keep);
}
__device__ __forceinline__ float4 bias_plus4(const void* x, int xt, const float* bias, int width, i64 g) {
    float4 v = load4_as(x, g, xt);
    if (bias) {
        float4 b = *(const float4*)(bias + (unsigned)((u64)g * 4) % (unsigned)width);  // n < 2^32
        v.x += b.x; v.y += b.y; v.z += b.z; v.w += b.w;
    }
    return v;
}

extern "C" __global__ void relu_dropout4(const void* x, int xt, const float* bias, int width, void* y, int yt, i64 groups,
                                         float keep, u64 threshold, step_scalar seedStep, u64 stream) {
    u64 seed = step_value(seedStep);
    GRID_STRIDE(g, groups) {
        float4 v = bias_plus4(x, xt, bias, width, g), m = keep4(g, keep, threshold, seed, stream);
        store4_as(y, g, yt, make_float4(fmaxf(v.x, 0.f) * m.x, fmaxf(v.y, 0.f) * m.y, fmaxf(v.z, 0.f) * m.z,
                                        fmaxf(v.w, 0.f) * m.w));
    }
}

extern "C" __global__ void relu_dropout4_backward(const void* x, int xt, const float* bias, int width, const void* dy, int dyt,
                                                  void* dx, int dxt, i64 groups, float keep, u64 threshold, step_scalar seedStep,
                                                  u64 stream) {
    u64 seed = step_value(seedStep);
    GRID_STRIDE(g, groups) {
        float4 v = bias_plus4(x, xt, bias, width, g), m = keep4(g, keep, threshold, seed, stream), d = load4_as(dy, g, dyt);
        store4_as(dx, g, dxt, make_float4(v.x > 0.f ? d.x * m.x : 0.f, v.y > 0.f ? d.y * m.y : 0.f,
                                          v.z > 0.f ? d.z * m.z : 0.f, v.w > 0.f ? d.w * m.w : 0.f));
    }
}

extern "C" __global__ void relu_dropout_backward(const void* x, int xt, const float* bias, int width, const void* dy, int dyt,
                                                 void* dx, int dxt, i64 n, float keep, u64 threshold, step_scalar seedStep, u64 stream) {
    u64 seed = step_value(seedStep);
    GRID_STRIDE(i, n) {
        float v = load_as(x, i, xt) + (bias ? bias[i % width] : 0.f);
        store_as(dx, i, dxt, v > 0.f ? load_as(dy, i, dyt) * dropout_scale(i, keep, threshold, seed, stream) : 0.f);
    }
}

// One hash per four elements, 16 bits each, as the CPU backend draws them.
extern "C" __global__ void dropout(const float* x, float* y, float* mask, i64 n, float keep, u64 threshold, step_scalar seedStep, u64 stream) {
    u64 seed = step_value(seedStep);
    GRID_STRIDE(i, n) {
        u64 bits = counter_hash(seed, stream, (u64)(i >> 2)) >> (16 * (i & 3));
        float m = (bits & 0xFFFFull) < threshold ? 0.f : keep;
        mask[i] = m;
        y[i] = x[i] * m;
    }
}
"""#
}
