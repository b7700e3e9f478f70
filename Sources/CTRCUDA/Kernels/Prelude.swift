extension KernelSource {
    /// What every family's kernels share: the integer types, the grid-stride and rows × columns
    /// loops, loads and stores of fp32/bf16/fp16 tensors, `divmod`, the stable sigmoid, and
    /// `step_scalar` (a per-step value that captured CUDA graphs read from a device slot).
    static let prelude = #"""
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
// The same for four elements at once (group g = elements 4g..4g+3, 16- or 8-byte aligned).
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

// Eight elements at once (group g = elements 8g..8g+7, 16-byte aligned): two float4 of fp32 or
// one uint4 of 16-bit values.
__device__ __forceinline__ float half_bits_as(unsigned int bits, int t) {
    return t == 1 ? __uint_as_float(bits << 16) : f16_to_f32((unsigned short)bits);
}
__device__ __forceinline__ unsigned int half_bits(float v, int t) { return t == 1 ? f32_to_bf16(v) : f32_to_f16(v); }
__device__ __forceinline__ void load8_as(const void* p, i64 g, int t, float* v) {
    if (t == 0) {
        float4 a = ((const float4*)p)[2 * g], b = ((const float4*)p)[2 * g + 1];
        v[0] = a.x; v[1] = a.y; v[2] = a.z; v[3] = a.w; v[4] = b.x; v[5] = b.y; v[6] = b.z; v[7] = b.w;
        return;
    }
    uint4 u = ((const uint4*)p)[g];
    unsigned int w[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
    for (int j = 0; j < 4; j++) { v[2 * j] = half_bits_as(w[j], t); v[2 * j + 1] = half_bits_as(w[j] >> 16, t); }
}
__device__ __forceinline__ void store8_as(void* p, i64 g, int t, const float* v) {
    if (t == 0) {
        ((float4*)p)[2 * g] = make_float4(v[0], v[1], v[2], v[3]);
        ((float4*)p)[2 * g + 1] = make_float4(v[4], v[5], v[6], v[7]);
        return;
    }
    unsigned int w[4];
#pragma unroll
    for (int j = 0; j < 4; j++) w[j] = half_bits(v[2 * j], t) | (half_bits(v[2 * j + 1], t) << 16);
    ((uint4*)p)[g] = make_uint4(w[0], w[1], w[2], w[3]);
}
// Columns c..c+7 of row r of a matrix with `ld` columns: one vector access when `vec` (ld % 8 == 0,
// 16-byte aligned), else element by element, the columns at or past `limit` read as 0 or not stored.
__device__ __forceinline__ void load8_row(const void* p, int t, i64 r, int ld, int c, int limit, int vec, float* v) {
    if (vec) { load8_as(p, (r * ld + c) >> 3, t, v); return; }
#pragma unroll
    for (int j = 0; j < 8; j++) v[j] = c + j < limit ? load_as(p, r * ld + c + j, t) : 0.f;
}
__device__ __forceinline__ void store8_row(void* p, int t, i64 r, int ld, int c, int limit, int vec, const float* v) {
    if (vec) { store8_as(p, (r * ld + c) >> 3, t, v); return; }
#pragma unroll
    for (int j = 0; j < 8; j++) if (c + j < limit) store_as(p, r * ld + c + j, t, v[j]);
}

// q = i / d, *r = i % d: shifts for a power of two (vector sizes), 32-bit division below 2³².
__device__ __forceinline__ i64 divmod(i64 i, int d, int* r) {
    if ((d & (d - 1)) == 0) { *r = (int)(i & (d - 1)); return i >> (__ffs(d) - 1); }
    if (i < 0xFFFFFFFFll) { unsigned q = (unsigned)i / (unsigned)d; *r = (int)((unsigned)i - q * (unsigned)d); return q; }
    *r = (int)(i % d);
    return i / d;
}

// Sigmoid without overflow for large |x| (the Sigmoid layer and the BCE loss).
__device__ __forceinline__ float stable_sigmoid(float x) {
    return x >= 0.f ? 1.f / (1.f + expf(-x)) : expf(x) / (1.f + expf(x));
}

// A scalar that changes from step to step (a dropout seed, a learning rate as float bits):
// `value` outside CUDA graphs; in a captured graph `slot` points at the device word the host
// rewrites before each replay (CUDABackend.repeated). 16 bytes, passed by value.
struct step_scalar { u64 value; const u64* slot; };
__device__ __forceinline__ u64 step_value(step_scalar s) { return s.slot ? *s.slot : s.value; }
__device__ __forceinline__ float step_float(step_scalar s) { return __uint_as_float((unsigned)step_value(s)); }
"""#
}
