import CTRCore

/// Elementwise ops: the generic unary and binary op sets with their backwards (the op as an int
/// code), Dropout, the fused ReLU+Dropout (with bias), sums and sequence masks.
extension CUDABackend {
    public func unary(_ op: UnaryOp, _ x: Tensor, into y: Tensor, count: Int) {
        launch("unary_op", count, [.int32(op.kernelCode), .float(op.kernelParameter), .pointer(address(x)),
                                   .pointer(address(y)), .int64(Int64(count))])
    }

    public func unaryBackward(_ op: UnaryOp, x: Tensor, y: Tensor, dy: Tensor, into dx: Tensor, count: Int) {
        let source = op.backwardReadsOutput ? y : x
        launch("unary_op_backward", count, [.int32(op.kernelCode), .float(op.kernelParameter), .pointer(address(source)),
                                            .pointer(address(dy)), .pointer(address(dx)), .int64(Int64(count))])
    }

    public func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, into out: Tensor, count: Int, broadcast: Broadcast) {
        let (mode, width): (Int32, Int) = switch broadcast {
        case .none: (0, 1)
        case let .row(width): (1, width)
        case let .column(width): (2, width)
        }
        precondition(width > 0 && count % width == 0, "broadcast of \(width) over \(count) elements")
        launch("binary_op", count, [.int32(op.kernelCode), .pointer(address(a)), .pointer(address(b)),
                                    .pointer(address(out)), .int64(Int64(count)), .int32(mode), .int32(Int32(width))])
    }

    public func binaryBackward(_ op: BinaryOp, a: Tensor, b: Tensor, dy: Tensor, da: Tensor?, db: Tensor?, count: Int) {
        guard da != nil || db != nil else { return }
        launch("binary_op_backward", count, [.int32(op.kernelCode), .pointer(address(a)), .pointer(address(b)),
                                             .pointer(address(dy)), .pointer(da.map(address) ?? 0),
                                             .pointer(db.map(address) ?? 0), .int64(Int64(count))])
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
        if width % 8 == 0, count % 8 == 0, count < 1 << 32, aligned16(x, y), bias.map({ aligned16($0) }) ?? true {
            return launch("relu_dropout8", count / 8, [
                .pointer(address(x)), code(x.dtype), .pointer(bias.map(address) ?? 0), .int32(Int32(width)),
                .pointer(address(y)), code(y.dtype), .int64(Int64(count / 8)), .float(1 / (1 - rate)),
                .uint64(dropoutThreshold(rate)), .perStep(seed), .uint64(rngStream),
            ])
        }
        let wide = fourWide(count: count, width: width, bias: bias, x, y)
        launch(wide ? "relu_dropout4" : "relu_dropout", wide ? count / 4 : count, [
            .pointer(address(x)), code(x.dtype), .pointer(bias.map(address) ?? 0), .int32(Int32(width)), .pointer(address(y)),
            code(y.dtype), .int64(Int64(wide ? count / 4 : count)), .float(1 / (1 - rate)), .uint64(dropoutThreshold(rate)),
            .perStep(seed), .uint64(rngStream),
        ])
    }

    public func reluDropoutBackward(_ x: Tensor, bias: Tensor?, width: Int, _ dy: Tensor, into dx: Tensor, count: Int,
                                    rate: Float, seed: UInt64, stream rngStream: UInt64, biasGrad: Tensor?, partial: Tensor?) {
        // With the bias gradient and rows of 8-column groups: one pass that also sums the columns
        // (a partial sum per block of rows, then a sum of those), not a second pass over dx.
        if let biasGrad, let partial, width % 8 == 0, partial.count >= width, aligned16(x, dy, dx),
           bias.map({ aligned16($0) }) ?? true {
            let rows = count / width, gx = (width / 8 + 31) / 32
            let gy = min(partial.count / width, (rows + 7) / 8, max(1, device.multiprocessorCount * 8 / gx))
            launch("relu_dropout8_backward_bias", grid: (gx, rows > 0 ? gy : 0), block: (32, 8), shared: 0, [
                .pointer(address(x)), code(x.dtype), .pointer(bias.map(address) ?? 0), .int64(Int64(rows)),
                .int32(Int32(width)), .pointer(address(dy)), code(dy.dtype), .pointer(address(dx)), code(dx.dtype),
                .float(1 / (1 - rate)), .uint64(dropoutThreshold(rate)), .perStep(seed), .uint64(rngStream),
                .pointer(address(partial)),
            ])
            return sumRows(partial, rows: rows > 0 ? gy : 0, cols: width, into: biasGrad, accumulate: true)
        }
        defer { if let biasGrad { sumRows(dx, rows: count / width, cols: width, into: biasGrad, accumulate: true) } }
        let wide = fourWide(count: count, width: width, bias: bias, x, dy, dx)
        launch(wide ? "relu_dropout4_backward" : "relu_dropout_backward", wide ? count / 4 : count, [
            .pointer(address(x)), code(x.dtype), .pointer(bias.map(address) ?? 0), .int32(Int32(width)), .pointer(address(dy)),
            code(dy.dtype), .pointer(address(dx)), code(dx.dtype), .int64(Int64(wide ? count / 4 : count)),
            .float(1 / (1 - rate)), .uint64(dropoutThreshold(rate)), .perStep(seed), .uint64(rngStream),
        ])
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

    public func sequenceMask(from: Tensor, to: Tensor, samples: Int, rows: Int, cols: Int, into mask: Tensor) {
        launch("sequence_mask", samples * rows * cols, [
            .pointer(address(from)), .pointer(address(to)), .pointer(address(mask)), .int64(Int64(samples * rows * cols)),
            .int32(Int32(rows)), .int32(Int32(cols)),
        ])
    }
}

extension KernelSource {
    /// One thread per element (four for the `4` variants), each a few FLOPs: memory-bound at
    /// 8–16 bytes per element (4–10 for 16-bit activations); dropout adds one counter hash per
    /// four elements.
    static let elementwise = #"""
extern "C" __global__ void add2(const float* a, const float* b, float* out, i64 n) { GRID_STRIDE(i, n) out[i] = a[i] + b[i]; }

// tanh through expm1f, which -use_fast_math leaves accurate (its tanhf measured off by 8e-6 on an
// H200, 4e-5 in the backward's 1 − y²); tanh(9) rounds to 1 in fp32.
__device__ __forceinline__ float accurate_tanh(float x) {
    float a = fabsf(x), e = expm1f(2.f * a);
    return copysignf(a > 9.f ? 1.f : e / (e + 2.f), x);
}

// UnaryOp: 0 relu, 1 sigmoid, 2 tanh, 3 elu(p), 4 exp, 5 log, 6 negate, 7 abs, 8 sqrt,
// 9 reciprocal, 10 square, 11 scale(p).
__device__ __forceinline__ float unary_forward(int op, float p, float x) {
    switch (op) {
    case 0: return x > 0.f ? x : 0.f;
    case 1: return stable_sigmoid(x);
    case 2: return accurate_tanh(x);
    case 3: return x < 0.f ? p * expm1f(x) : x;
    case 4: return expf(x);
    case 5: return logf(x);
    case 6: return -x;
    case 7: return fabsf(x);
    case 8: return sqrtf(x);
    case 9: return 1.f / x;
    case 10: return x * x;
    default: return p * x;
    }
}

// dy·f'(·) from s, the forward input x or output y, whichever the op reads (UnaryOp.backwardReadsOutput).
__device__ __forceinline__ float unary_derivative(int op, float p, float s, float g) {
    switch (op) {
    case 0: return s > 0.f ? g : 0.f;
    case 1: return g * s * (1.f - s);
    case 2: return g * (1.f - s * s);
    case 3: return s < 0.f ? g * (p * expf(s)) : g;
    case 4: return g * s;
    case 5: return g / s;
    case 6: return -g;
    case 7: return s > 0.f ? g : (s < 0.f ? -g : 0.f);
    case 8: return g / (2.f * s);
    case 9: return -g * (s * s);
    case 10: return 2.f * s * g;
    default: return p * g;
    }
}

extern "C" __global__ void unary_op(int op, float p, const float* x, float* y, i64 n) {
    GRID_STRIDE(i, n) y[i] = unary_forward(op, p, x[i]);
}

extern "C" __global__ void unary_op_backward(int op, float p, const float* s, const float* dy, float* dx, i64 n) {
    GRID_STRIDE(i, n) dx[i] = unary_derivative(op, p, s[i], dy[i]);
}

// BinaryOp: 0 add, 1 subtract, 2 multiply, 3 divide, 4 maximum, 5 minimum (ties to a).
__device__ __forceinline__ float binary_forward(int op, float a, float b) {
    switch (op) {
    case 0: return a + b;
    case 1: return a - b;
    case 2: return a * b;
    case 3: return a / b;
    case 4: return a >= b ? a : b;
    default: return a <= b ? a : b;
    }
}

// Broadcast mode 0: b[i]; 1 (row): b[i % width]; 2 (column): b[i / width].
extern "C" __global__ void binary_op(int op, const float* a, const float* b, float* out, i64 n, int mode, int width) {
    GRID_STRIDE(i, n) {
        i64 j = i;
        if (mode != 0) {
            int c;
            i64 r = divmod(i, width, &c);
            j = mode == 1 ? (i64)c : r;
        }
        out[i] = binary_forward(op, a[i], b[j]);
    }
}

// Gradients of out = a op b for equal shapes, assigned; a null da or db is skipped.
extern "C" __global__ void binary_op_backward(int op, const float* a, const float* b, const float* dy, float* da,
                                              float* db, i64 n) {
    GRID_STRIDE(i, n) {
        float x = a[i], y = b[i], g = dy[i], ga, gb;
        switch (op) {
        case 0: ga = g; gb = g; break;
        case 1: ga = g; gb = -g; break;
        case 2: ga = g * y; gb = g * x; break;
        case 3: ga = g / y; gb = -g * x / (y * y); break;
        case 4: ga = x >= y ? g : 0.f; gb = x >= y ? 0.f : g; break;
        default: ga = x <= y ? g : 0.f; gb = x <= y ? 0.f : g; break;
        }
        if (da) da[i] = ga;
        if (db) db[i] = gb;
    }
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

// Groups of 8 (width % 8 == 0, 16-byte aligned): one 16-byte access per thread for 16-bit
// tensors, the masks of `relu_dropout4`'s two groups.
extern "C" __global__ void relu_dropout8(const void* x, int xt, const float* bias, int width, void* y, int yt, i64 groups,
                                         float keep, u64 threshold, step_scalar seedStep, u64 stream) {
    u64 seed = step_value(seedStep);
    GRID_STRIDE(g, groups) {
        float v[8];
        load8_as(x, g, xt, v);
        float4 m0 = keep4(2 * g, keep, threshold, seed, stream), m1 = keep4(2 * g + 1, keep, threshold, seed, stream);
        float m[8] = {m0.x, m0.y, m0.z, m0.w, m1.x, m1.y, m1.z, m1.w};
        int c = (int)((unsigned)((u64)g * 8) % (unsigned)width);  // n < 2^32
#pragma unroll
        for (int j = 0; j < 8; j++) v[j] = fmaxf(v[j] + (bias ? bias[c + j] : 0.f), 0.f) * m[j];
        store8_as(y, g, yt, v);
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

// The backward over groups of 8 columns (width % 8 == 0, 16-byte aligned) in blocks of 32 × 8
// threads, each walking its 8 columns down a share of the rows and summing dx in registers; the
// block's 8 row lanes are summed in shared memory into partial[blockIdx.y] (the bias gradient is
// then the column sum of the gridDim.y partial rows). The masks are `keep4`'s of the same groups.
extern "C" __global__ void relu_dropout8_backward_bias(const void* x, int xt, const float* bias, i64 rows, int width,
                                                       const void* dy, int dyt, void* dx, int dxt, float keep,
                                                       u64 threshold, step_scalar seedStep, u64 stream, float* partial) {
    __shared__ float sums[8][8][32];
    u64 seed = step_value(seedStep);
    int c = (blockIdx.x * 32 + threadIdx.x) * 8;
    float acc[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
    if (c < width) {
        float b[8];
#pragma unroll
        for (int j = 0; j < 8; j++) b[j] = bias ? bias[c + j] : 0.f;
        for (i64 r = (i64)blockIdx.y * 8 + threadIdx.y; r < rows; r += 8 * (i64)gridDim.y) {
            i64 e = (r * width + c) >> 3;
            float v[8], d[8], o[8];
            load8_as(x, e, xt, v);
            load8_as(dy, e, dyt, d);
            float4 m0 = keep4(2 * e, keep, threshold, seed, stream), m1 = keep4(2 * e + 1, keep, threshold, seed, stream);
            float m[8] = {m0.x, m0.y, m0.z, m0.w, m1.x, m1.y, m1.z, m1.w};
#pragma unroll
            for (int j = 0; j < 8; j++) {
                o[j] = v[j] + b[j] > 0.f ? d[j] * m[j] : 0.f;
                acc[j] += o[j];
            }
            store8_as(dx, e, dxt, o);
        }
    }
#pragma unroll
    for (int j = 0; j < 8; j++) sums[j][threadIdx.y][threadIdx.x] = acc[j];
    __syncthreads();
    if (threadIdx.y == 0 && c < width) {
#pragma unroll
        for (int j = 0; j < 8; j++) {
            float t = 0.f;
            for (int y = 0; y < 8; y++) t += sums[j][y][threadIdx.x];
            partial[(i64)blockIdx.y * width + c + j] = t;
        }
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

// mask[s, i, j] = i < trunc(from[s]) && j < trunc(to[s]) (compared as floats: no int overflow).
extern "C" __global__ void sequence_mask(const float* from, const float* to, float* mask, i64 n, int rows, int cols) {
    GRID_STRIDE(e, n) {
        int j, i;
        i64 s = divmod(divmod(e, cols, &j), rows, &i);
        mask[e] = ((float)i < truncf(from[s]) && (float)j < truncf(to[s])) ? 1.f : 0.f;
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

extension UnaryOp {
    /// The op's code in the kernels (the order of the cases).
    var kernelCode: Int32 {
        switch self {
        case .relu: 0
        case .sigmoid: 1
        case .tanh: 2
        case .elu: 3
        case .exp: 4
        case .log: 5
        case .negate: 6
        case .abs: 7
        case .sqrt: 8
        case .reciprocal: 9
        case .square: 10
        case .scale: 11
        }
    }

    /// ELU's alpha or the scale factor; 0 for the others.
    var kernelParameter: Float {
        switch self {
        case let .elu(alpha): alpha
        case let .scale(s): s
        default: 0
        }
    }
}

extension BinaryOp {
    /// The op's code in the kernels (the order of the cases).
    var kernelCode: Int32 {
        switch self {
        case .add: 0
        case .subtract: 1
        case .multiply: 2
        case .divide: 3
        case .maximum: 4
        case .minimum: 5
        }
    }
}
