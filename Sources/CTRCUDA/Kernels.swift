/// The CUDA C source of every kernel the CUDA backend launches, compiled once per device
/// architecture by NVRTC (and cached on disk). Each kernel mirrors one `Backend` method of the CPU
/// backend; `swiftctr selftest --device cuda` compares the two.
enum Kernels {
    /// Every `extern "C" __global__` function of `source`, in order.
    static var names: [String] {
        source.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("extern \"C\" __global__ void ") else { return nil }
            return line.dropFirst("extern \"C\" __global__ void ".count).split(separator: "(").first.map(String.init)
        }
    }

    static let source = #"""
typedef long long i64;
typedef unsigned long long u64;

#define GRID_STRIDE(i, n) for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (i64)blockDim.x * gridDim.x)
// Rows × columns without a division per element (launched by `launchRows`).
#define ROWS_COLS(r, c, rows, width) \
    for (i64 r = (i64)blockIdx.y * blockDim.y + threadIdx.y; r < (rows); r += (i64)blockDim.y * gridDim.y) \
        for (int c = blockIdx.x * blockDim.x + threadIdx.x; c < (width); c += blockDim.x * gridDim.x)

// Element types of tensors passed as `void*` with a type code: 0 fp32, 1 bf16, 2 fp16.
// fp32 -> bf16 with round-to-nearest-even (NaN stays NaN).
__device__ __forceinline__ unsigned short f32_to_bf16(float v) {
    unsigned int u = __float_as_uint(v);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (unsigned short)((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (unsigned short)(u >> 16);
}
__device__ __forceinline__ unsigned short f32_to_f16(float v) {
    unsigned short h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(v));
    return h;
}
__device__ __forceinline__ float f16_to_f32(unsigned short h) {
    float v;
    asm("cvt.f32.f16 %0, %1;" : "=f"(v) : "h"(h));
    return v;
}
__device__ __forceinline__ float load_as(const void* p, i64 i, int t) {
    if (t == 0) return ((const float*)p)[i];
    unsigned short h = ((const unsigned short*)p)[i];
    return t == 1 ? __uint_as_float((unsigned int)h << 16) : f16_to_f32(h);
}
__device__ __forceinline__ void store_as(void* p, i64 i, int t, float v) {
    if (t == 0) ((float*)p)[i] = v;
    else ((unsigned short*)p)[i] = t == 1 ? f32_to_bf16(v) : f32_to_f16(v);
}

// q = i / d, *r = i % d: shifts for a power of two (vector sizes), 32-bit division below 2³².
__device__ __forceinline__ i64 divmod(i64 i, int d, int* r) {
    if ((d & (d - 1)) == 0) { *r = (int)(i & (d - 1)); return i >> (__ffs(d) - 1); }
    if (i < 0xFFFFFFFFll) { unsigned q = (unsigned)i / (unsigned)d; *r = (int)((unsigned)i - q * (unsigned)d); return q; }
    *r = (int)(i % d);
    return i / d;
}

extern "C" __global__ void convert(const void* x, int xt, void* y, int yt, i64 n) {
    GRID_STRIDE(i, n) store_as(y, i, yt, load_as(x, i, xt));
}

extern "C" __global__ void fill_f32(float* x, float v, i64 n) { GRID_STRIDE(i, n) x[i] = v; }
extern "C" __global__ void fill_i64(i64* x, i64 v, i64 n) { GRID_STRIDE(i, n) x[i] = v; }

extern "C" __global__ void add_bias(float* y, const float* b, i64 rows, int cols) {
    ROWS_COLS(r, c, rows, cols) y[r * cols + c] += b[c];
}

// out[c] += sum over a chunk of rows of scale[r] * x[r, c] (scale may be null). One atomic per
// column per block; the caller zeroes `out` when it must be assigned.
extern "C" __global__ void sum_rows(const void* x, int xt, const float* scale, i64 rows, int cols, float* out,
                                    int rowsPerBlock) {
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= cols) return;
    i64 r0 = (i64)blockIdx.y * rowsPerBlock, r1 = min(rows, r0 + rowsPerBlock);
    float s = 0.f;
    for (i64 r = r0; r < r1; ++r) s += (scale ? scale[r] : 1.f) * load_as(x, r * cols + c, xt);
    atomicAdd(out + c, s);
}

// AUC histogram (see AUCHistogram): positives, negatives, NaN counter.
extern "C" __global__ void auc_accumulate(const float* p, const float* labels, int stride, i64 n, double* h, int bins) {
    GRID_STRIDE(i, n) {
        float v = p[i];
        if (v != v) { atomicAdd(h + 2 * bins, 1.0); continue; }
        int bin = (int)(__float_as_uint(fminf(fmaxf(v, 0.f), 1.f)) >> 10);
        double label = labels[i * stride];
        if (label != 0.0) atomicAdd(h + bin, label);
        if (label != 1.0) atomicAdd(h + bins + bin, 1.0 - label);
    }
}

// One block of 1024 threads: each scans a run of bins after an exclusive scan of the runs'
// negative weights; out = {area, positives, negatives, NaN count}.
extern "C" __global__ void auc_area(const double* h, int bins, double* out) {
    __shared__ double run[1024], a[1024], pos[1024];
    int t = threadIdx.x, per = (bins + 1023) / 1024, b0 = min(bins, t * per), b1 = min(bins, b0 + per);
    double negatives = 0.0;
    for (int b = b0; b < b1; ++b) negatives += h[bins + b];
    run[t] = negatives;
    __syncthreads();
    if (t == 0) {
        double sum = 0.0;
        for (int i = 0; i < 1024; ++i) { double v = run[i]; run[i] = sum; sum += v; }
        out[2] = sum;
    }
    __syncthreads();
    double below = run[t], area = 0.0, positives = 0.0;
    for (int b = b0; b < b1; ++b) {
        double p = h[b], q = h[bins + b];
        area += p * (below + 0.5 * q);
        below += q;
        positives += p;
    }
    a[t] = area;
    pos[t] = positives;
    __syncthreads();
    if (t == 0) {
        double total = 0.0, totalPositives = 0.0;
        for (int i = 0; i < 1024; ++i) { total += a[i]; totalPositives += pos[i]; }
        out[0] = total;
        out[1] = totalPositives;
        out[3] = h[2 * bins];
    }
}

extern "C" __global__ void add2(const float* a, const float* b, float* out, i64 n) { GRID_STRIDE(i, n) out[i] = a[i] + b[i]; }
extern "C" __global__ void axpy(float a, const float* x, float* y, i64 n) { GRID_STRIDE(i, n) y[i] += a * x[i]; }
extern "C" __global__ void multiply(const float* a, const float* b, float* out, i64 n) { GRID_STRIDE(i, n) out[i] = a[i] * b[i]; }

extern "C" __global__ void copy_columns(const void* src, int st, int srcW, int srcStart, void* dst, int dt, int dstW,
                                        int dstStart, i64 rows, int width, int accumulate) {
    ROWS_COLS(r, c, rows, width) {
        float v = load_as(src, r * srcW + srcStart + c, st);
        i64 d = r * dstW + dstStart + c;
        store_as(dst, d, dt, accumulate ? v + load_as(dst, d, dt) : v);
    }
}

extern "C" __global__ void reduce_sum(const float* x, i64 outer, int axis, int inner, float* y) {
    GRID_STRIDE(i, outer * inner) {
        i64 o = i / inner; int k = (int)(i % inner);
        float s = 0.f;
        for (int a = 0; a < axis; ++a) s += x[(o * axis + a) * inner + k];
        y[i] = s;
    }
}

extern "C" __global__ void reduce_sum_backward(const float* dy, i64 outer, int axis, int inner, float* dx) {
    GRID_STRIDE(i, outer * axis * inner) {
        i64 o = i / ((i64)axis * inner); int k = (int)(i % inner);
        dx[i] = dy[o * inner + k];
    }
}

extern "C" __global__ void relu(const float* x, float* y, i64 n) { GRID_STRIDE(i, n) y[i] = x[i] > 0.f ? x[i] : 0.f; }
extern "C" __global__ void relu_backward(const float* x, const float* dy, float* dx, i64 n) {
    GRID_STRIDE(i, n) dx[i] = x[i] > 0.f ? dy[i] : 0.f;
}

__device__ __forceinline__ float stable_sigmoid(float x) {
    return x >= 0.f ? 1.f / (1.f + expf(-x)) : expf(x) / (1.f + expf(x));
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
                                        u64 threshold, u64 seed, const u64* seedAt, u64 stream) {
    if (seedAt) seed = *seedAt;  // a captured graph reads the step's seed here
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
__device__ __forceinline__ float4 load4_as(const void* p, i64 g, int t);
__device__ __forceinline__ float4 bias_plus4(const void* x, int xt, const float* bias, int width, i64 g) {
    float4 v = load4_as(x, g, xt);
    if (bias) {
        float4 b = *(const float4*)(bias + (unsigned)((u64)g * 4) % (unsigned)width);  // n < 2^32
        v.x += b.x; v.y += b.y; v.z += b.z; v.w += b.w;
    }
    return v;
}
__device__ __forceinline__ float4 load4_as(const void* p, i64 g, int t) {
    if (t == 0) return ((const float4*)p)[g];
    uint2 u = ((const uint2*)p)[g];
    if (t == 1) return make_float4(__uint_as_float(u.x << 16), __uint_as_float(u.x & 0xFFFF0000u),
                                   __uint_as_float(u.y << 16), __uint_as_float(u.y & 0xFFFF0000u));
    return make_float4(f16_to_f32((unsigned short)u.x), f16_to_f32((unsigned short)(u.x >> 16)),
                       f16_to_f32((unsigned short)u.y), f16_to_f32((unsigned short)(u.y >> 16)));
}
__device__ __forceinline__ void store4_as(void* p, i64 g, int t, float4 v) {
    if (t == 0) { ((float4*)p)[g] = v; return; }
    unsigned int a = t == 1 ? f32_to_bf16(v.x) : f32_to_f16(v.x), b = t == 1 ? f32_to_bf16(v.y) : f32_to_f16(v.y);
    unsigned int c = t == 1 ? f32_to_bf16(v.z) : f32_to_f16(v.z), d = t == 1 ? f32_to_bf16(v.w) : f32_to_f16(v.w);
    ((uint2*)p)[g] = make_uint2(a | (b << 16), c | (d << 16));
}

extern "C" __global__ void relu_dropout4(const void* x, int xt, const float* bias, int width, void* y, int yt, i64 groups,
                                         float keep, u64 threshold, u64 seed, const u64* seedAt, u64 stream) {
    if (seedAt) seed = *seedAt;  // a captured graph reads the step's seed here
    GRID_STRIDE(g, groups) {
        float4 v = bias_plus4(x, xt, bias, width, g), m = keep4(g, keep, threshold, seed, stream);
        store4_as(y, g, yt, make_float4(fmaxf(v.x, 0.f) * m.x, fmaxf(v.y, 0.f) * m.y, fmaxf(v.z, 0.f) * m.z,
                                        fmaxf(v.w, 0.f) * m.w));
    }
}

extern "C" __global__ void relu_dropout4_backward(const void* x, int xt, const float* bias, int width, const void* dy, int dyt,
                                                  void* dx, int dxt, i64 groups, float keep, u64 threshold, u64 seed, const u64* seedAt,
                                                  u64 stream) {
    if (seedAt) seed = *seedAt;  // a captured graph reads the step's seed here
    GRID_STRIDE(g, groups) {
        float4 v = bias_plus4(x, xt, bias, width, g), m = keep4(g, keep, threshold, seed, stream), d = load4_as(dy, g, dyt);
        store4_as(dx, g, dxt, make_float4(v.x > 0.f ? d.x * m.x : 0.f, v.y > 0.f ? d.y * m.y : 0.f,
                                          v.z > 0.f ? d.z * m.z : 0.f, v.w > 0.f ? d.w * m.w : 0.f));
    }
}

extern "C" __global__ void relu_dropout_backward(const void* x, int xt, const float* bias, int width, const void* dy, int dyt,
                                                 void* dx, int dxt, i64 n, float keep, u64 threshold, u64 seed, const u64* seedAt, u64 stream) {
    if (seedAt) seed = *seedAt;  // a captured graph reads the step's seed here
    GRID_STRIDE(i, n) {
        float v = load_as(x, i, xt) + (bias ? bias[i % width] : 0.f);
        store_as(dx, i, dxt, v > 0.f ? load_as(dy, i, dyt) * dropout_scale(i, keep, threshold, seed, stream) : 0.f);
    }
}

// One hash per four elements, 16 bits each, as the CPU backend draws them.
extern "C" __global__ void dropout(const float* x, float* y, float* mask, i64 n, float keep, u64 threshold, u64 seed, const u64* seedAt, u64 stream) {
    if (seedAt) seed = *seedAt;  // a captured graph reads the step's seed here
    GRID_STRIDE(i, n) {
        u64 bits = counter_hash(seed, stream, (u64)(i >> 2)) >> (16 * (i & 3));
        float m = (bits & 0xFFFFull) < threshold ? 0.f : keep;
        mask[i] = m;
        y[i] = x[i] * m;
    }
}

// One warp per row: out[r] = <a[r], b[r]>.
extern "C" __global__ void row_dot(const float* a, const float* b, i64 rows, int width, float* out) {
    i64 r = ((i64)blockIdx.x * blockDim.x + threadIdx.x) / 32;
    int lane = threadIdx.x & 31;
    if (r >= rows) return;
    const float* ra = a + r * width;
    const float* rb = b + r * width;
    float dot = 0.f;
    for (int k = lane; k < width; k += 32) dot += ra[k] * rb[k];
    for (int o = 16; o > 0; o >>= 1) dot += __shfl_xor_sync(0xffffffffu, dot, o);
    if (lane == 0) out[r] = dot;
}

extern "C" __global__ void scale_rows(const float* x, const float* scales, int stride, int offset, const float* bias,
                                      i64 rows, int width, float* out) {
    ROWS_COLS(r, k, rows, width) {
        i64 i = r * width + k;
        float v = x[i] * scales[r * stride + offset];
        out[i] = bias ? v + bias[k] : v;
    }
}

extern "C" __global__ void cross_input_gradient(const float* g, const float* h, const float* e, const float* w, i64 rows,
                                                int layers, int width, float* dx) {
    ROWS_COLS(r, c, rows, width) {
        float v = g[r * width + c] * h[r * (layers + 1) + layers];
        for (int l = 0; l < layers; ++l) v += e[r * layers + l] * w[l * width + c];
        dx[r * width + c] = v;
    }
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

extern "C" __global__ void add_scaled_rows(const float* src, const float* scales, i64 rows, int width, float* dst) {
    ROWS_COLS(r, k, rows, width) dst[r * width + k] += scales[r] * src[r * width + k];
}

extern "C" __global__ void prefix_sum_rows(const float* x, i64 rows, int width, float* out) {
    GRID_STRIDE(k, (i64)width) {
        float acc = 0.f;
        out[k] = 0.f;
        for (i64 r = 0; r < rows; ++r) { acc += x[r * width + k]; out[(r + 1) * width + k] = acc; }
    }
}

extern "C" __global__ void cross_scalars(const float* d, const float* c, i64 rows, int layers, float* h) {
    GRID_STRIDE(r, rows) {
        float hl = 1.f;
        h[r * (layers + 1)] = hl;
        for (int l = 0; l < layers; ++l) {
            hl = hl * (1.f + d[r * layers + l]) + c[l];
            h[r * (layers + 1) + l + 1] = hl;
        }
    }
}

extern "C" __global__ void cross_scalars_backward(const float* d, const float* h, const float* s, i64 rows, int layers,
                                                  float* e, float* upstream) {
    GRID_STRIDE(r, rows) {
        float a = s[r];
        for (int l = layers - 1; l >= 0; --l) {
            e[r * layers + l] = a * h[r * (layers + 1) + l];
            upstream[r * layers + l] = a;
            a *= 1.f + d[r * layers + l];
        }
    }
}

extern "C" __global__ void cross_bias_gradients(const float* g, const float* c, const float* w, int layers, int width, float* db) {
    GRID_STRIDE(k, (i64)width) {
        float running = 0.f;
        for (int j = layers - 1; j >= 0; --j) {
            db[j * width + k] = g[k] + running;
            running += c[j] * w[j * width + k];
        }
    }
}

// Stages sample b's Z = [x0; emb] (n x w) in shared memory; returns the output row width.
__device__ __forceinline__ int stage_interaction(float* z, const float* x0, const float* emb, i64 b, int features, int width) {
    int n = features + 1;
    for (int i = threadIdx.x; i < n * width; i += blockDim.x)
        z[i] = i < width ? x0[b * width + i] : emb[b * features * width + (i - width)];
    __syncthreads();
    return width + n * (n - 1) / 2 + 1;
}

// DLRM dot interaction, one block per sample.
extern "C" __global__ void interaction(const float* x0, const float* emb, float* y, int features, int width) {
    extern __shared__ float z[];
    i64 b = blockIdx.x;
    int n = features + 1;
    int outW = stage_interaction(z, x0, emb, b, features, width);
    float* row = y + b * outW;
    for (int i = threadIdx.x; i < width; i += blockDim.x) row[i] = z[i];
    int pairs = n * (n - 1) / 2;
    for (int p = threadIdx.x; p < pairs; p += blockDim.x) {
        int j = (int)((1.f + sqrtf(1.f + 8.f * p)) / 2.f);
        while (j * (j - 1) / 2 > p) --j;
        while ((j + 1) * j / 2 <= p) ++j;
        int i = p - j * (j - 1) / 2;
        float dot = 0.f;
        for (int k = 0; k < width; ++k) dot += z[i * width + k] * z[j * width + k];
        row[width + p] = dot;
    }
    if (threadIdx.x == 0) row[outW - 1] = 0.f;
}

extern "C" __global__ void interaction_backward(const float* x0, const float* emb, const float* dy, float* dx0, float* demb,
                                                int features, int width) {
    extern __shared__ float z[];
    i64 b = blockIdx.x;
    int n = features + 1;
    int outW = stage_interaction(z, x0, emb, b, features, width);
    const float* g = dy + b * outW;
    // dZ_i[k] = sum_j G_ij Z_j[k], G symmetric with zero diagonal.
    for (int e = threadIdx.x; e < n * width; e += blockDim.x) {
        int i = e / width, k = e % width;
        float s = 0.f;
        for (int j = 0; j < n; ++j) {
            if (j == i) continue;
            int lo = min(i, j), hi = max(i, j);
            s += g[width + hi * (hi - 1) / 2 + lo] * z[j * width + k];
        }
        if (i == 0) dx0[b * width + k] = g[k] + s;
        else demb[b * features * width + (i - 1) * width + k] = s;
    }
}

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

extern "C" __global__ void adam(float* w, const float* g, float* m, float* v, i64 n, float alpha, const u64* alphaAt,
                                float beta1, float beta2, float eps, float gradScale) {
    if (alphaAt) alpha = __uint_as_float((unsigned)*alphaAt);
    GRID_STRIDE(i, n) {
        float gi = g[i] * gradScale;
        float mi = beta1 * m[i] + (1.f - beta1) * gi;
        float vi = beta2 * v[i] + (1.f - beta2) * gi * gi;
        m[i] = mi; v[i] = vi;
        w[i] -= alpha * mi / (sqrtf(vi) + eps);
    }
}

extern "C" __global__ void sgd(float* w, const float* g, i64 n, float step, const u64* stepAt) {
    if (stepAt) step = __uint_as_float((unsigned)*stepAt);
    GRID_STRIDE(i, n) w[i] -= step * g[i];
}

__device__ __forceinline__ u64 mix_key(i64 key) {
    u64 z = (u64)key * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 32)) * 0xD6E8FEB86659FD93ull;
    return z ^ (z >> 32);
}

// Open addressing with linear probing. A bucket is claimed by CAS of its row from -1 to -2, then
// gets its key and finally its row (a new one from `size`). Readers wait while a row is -2.
// `status[0]` is set when the table is full.
extern "C" __global__ void hash_lookup(i64* bucketKeys, i64* bucketRows, u64 mask, const i64* keys, i64* rows, i64 count,
                                       i64* size, i64 capacity, int insert, int* status) {
    GRID_STRIDE(i, count) {
        i64 key = keys[i];
        u64 b = mix_key(key) & mask;
        while (true) {
            volatile i64* slot = bucketRows + b;
            i64 row = *slot;
            if (row == -1) {
                if (!insert) { rows[i] = -1; break; }
                i64 old = (i64)atomicCAS((u64*)(bucketRows + b), (u64)-1ll, (u64)-2ll);
                if (old == -1) {
                    i64 r = (i64)atomicAdd((u64*)size, 1ull);
                    if (r >= capacity) { status[0] = 1; r = -1; }
                    ((volatile i64*)bucketKeys)[b] = key;
                    __threadfence();
                    *slot = r < 0 ? -3 : r;
                    rows[i] = r;
                    break;
                }
                continue;
            }
            while (row == -2) row = *slot;
            if (((volatile i64*)bucketKeys)[b] == key) { rows[i] = row >= 0 ? row : -1; break; }
            b = (b + 1) & mask;
        }
    }
}

// One thread per (segment, element): out[s, k] = pooled rows of segment s.
extern "C" __global__ void embedding_pool(const float* values, const i64* rows, const i64* offsets, i64 segments, int vec,
                                          int mean, float* out) {
    GRID_STRIDE(i, segments * vec) {
        int k; i64 s = divmod(i, vec, &k);
        i64 start = offsets[s], end = offsets[s + 1];
        float acc = 0.f;
        for (i64 j = start; j < end; ++j) {
            i64 r = rows[j];
            if (r >= 0) acc += values[r * vec + k];
        }
        if (mean && end - start > 1) acc /= (float)(end - start);
        out[i] = acc;
    }
}

// The same with a thread per (segment, four elements); `quads` = vec / 4.
extern "C" __global__ void embedding_pool4(const float4* values, const i64* rows, const i64* offsets, i64 segments,
                                           int quads, int mean, float4* out) {
    GRID_STRIDE(i, segments * quads) {
        int k; i64 s = divmod(i, quads, &k);
        i64 start = offsets[s], end = offsets[s + 1];
        float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
        for (i64 j = start; j < end; ++j) {
            i64 r = rows[j];
            if (r >= 0) {
                float4 v = values[r * quads + k];
                acc.x += v.x; acc.y += v.y; acc.z += v.z; acc.w += v.w;
            }
        }
        if (mean && end - start > 1) {
            float n = (float)(end - start);
            acc.x /= n; acc.y /= n; acc.z /= n; acc.w /= n;
        }
        out[i] = acc;
    }
}

extern "C" __global__ void segment_ids(const i64* offsets, i64 segments, i64* segmentOf) {
    GRID_STRIDE(s, segments) for (i64 j = offsets[s]; j < offsets[s + 1]; ++j) segmentOf[j] = s;
}

// Gives each distinct row a slot in the unique list (first come, first served).
extern "C" __global__ void claim_rows(const i64* rows, i64 count, i64* rowSlot, i64* uniqueRows, i64* uniqueCount) {
    GRID_STRIDE(j, count) {
        i64 r = rows[j];
        if (r < 0) continue;
        if (atomicCAS((u64*)(rowSlot + r), (u64)-1ll, (u64)-2ll) == (u64)-1ll) {
            i64 s = (i64)atomicAdd((u64*)uniqueCount, 1ull);
            uniqueRows[s] = r;
            __threadfence();
            ((volatile i64*)rowSlot)[r] = s;
        }
    }
}

extern "C" __global__ void zero_unique(float* grads, const i64* uniqueCount, int vec, i64 capacity) {
    i64 n = min(*uniqueCount, capacity) * vec;
    GRID_STRIDE(i, n) grads[i] = 0.f;
}

extern "C" __global__ void scatter_grads(const float* dout, const i64* rows, const i64* segmentOf, const i64* offsets,
                                         const i64* rowSlot, i64 count, int vec, int mean, float* grads) {
    GRID_STRIDE(i, count * vec) {
        int k; i64 j = divmod(i, vec, &k);
        i64 r = rows[j];
        if (r < 0) continue;
        i64 s = segmentOf[j];
        i64 n = offsets[s + 1] - offsets[s];
        float scale = (mean && n > 1) ? 1.f / (float)n : 1.f;
        atomicAdd(grads + rowSlot[r] * vec + k, scale * dout[s * vec + k]);
    }
}

extern "C" __global__ void clear_row_slots(i64* rowSlot, const i64* uniqueRows, const i64* uniqueCount, i64 maxCount) {
    i64 count = min(*uniqueCount, maxCount);
    GRID_STRIDE(j, count) rowSlot[uniqueRows[j]] = -1;
}

extern "C" __global__ void sparse_sgd(float* w, const i64* uniqueRows, const float* g, const i64* uniqueCount, i64 maxCount,
                                      int vec, float step) {
    i64 count = min(*uniqueCount, maxCount);
    GRID_STRIDE(i, count * vec) {
        int k; i64 j = divmod(i, vec, &k);
        w[uniqueRows[j] * vec + k] -= step * g[i];
    }
}

extern "C" __global__ void sparse_adam_local(float* w, float* m, float* v, const i64* uniqueRows, const float* g,
                                             const i64* uniqueCount, i64 maxCount, int vec, float alpha, float beta1,
                                             float beta2, float eps, float gradScale) {
    i64 count = min(*uniqueCount, maxCount);
    GRID_STRIDE(i, count * vec) {
        int k; i64 j = divmod(i, vec, &k);
        i64 e = uniqueRows[j] * vec + k;
        float gi = g[i] * gradScale;
        float mi = beta1 * m[e] + (1.f - beta1) * gi;
        float vi = beta2 * v[e] + (1.f - beta2) * gi * gi;
        m[e] = mi; v[e] = vi;
        w[e] -= alpha * mi / (sqrtf(vi) + eps);
    }
}

extern "C" __global__ void sparse_adam_global(float* w, float* m, float* v, const i64* rowSlot, const float* g,
                                              const i64* tableSize, i64 capacity, int vec, float alpha, float beta1,
                                              float beta2, float eps, float gradScale) {
    i64 usedRows = min(*tableSize, capacity);
    GRID_STRIDE(e, usedRows * vec) {
        int k; i64 r = divmod(e, vec, &k);
        i64 s = rowSlot[r];
        float gi = s >= 0 ? g[s * vec + k] * gradScale : 0.f;
        float mi = beta1 * m[e] + (1.f - beta1) * gi;
        float vi = beta2 * v[e] + (1.f - beta2) * gi * gi;
        m[e] = mi; v[e] = vi;
        w[e] -= alpha * mi / (sqrtf(vi) + eps);
    }
}

extern "C" __global__ void sparse_adam_lazy(float* w, float* m, float* v, i64* lastStep, const i64* uniqueRows, const float* g,
                                            const i64* uniqueCount, i64 maxCount, int vec, float lr, float beta1, float beta2,
                                            float eps, float gradScale, i64 step) {
    i64 count = min(*uniqueCount, maxCount);
    GRID_STRIDE(i, count * vec) {
        int k; i64 j = divmod(i, vec, &k);
        i64 row = uniqueRows[j];
        i64 previous = lastStep[row] == 0 ? 1 : lastStep[row];
        float skipped = (float)(step - previous);
        float t = (float)step;
        float alpha = lr / (1.f - beta1) * sqrtf(1.f - powf(beta2, t)) / (1.f - powf(beta1, t)) * (1.f - powf(beta1, skipped));
        i64 e = row * vec + k;
        float gi = g[i] * gradScale;
        w[e] -= alpha * m[e] / (sqrtf(v[e]) + eps);
        m[e] = powf(beta1, skipped) * m[e] + (1.f - beta1) * gi;
        v[e] = powf(beta2, skipped) * v[e] + (1.f - beta2) * gi * gi;
    }
}

// Runs after sparse_adam_lazy, so that no element of a row reads an already advanced step.
extern "C" __global__ void set_last_step(i64* lastStep, const i64* uniqueRows, const i64* uniqueCount, i64 maxCount, i64 step) {
    i64 count = min(*uniqueCount, maxCount);
    GRID_STRIDE(j, count) lastStep[uniqueRows[j]] = step;
}
"""#
}
