import CTRCore

/// MultiCross (DCN) and Interaction (DLRM) as whole-layer kernels.
extension CUDABackend {
    public func rowDot(_ a: Tensor, _ b: Tensor, rows: Int, width: Int, into out: Tensor) {
        launch("row_dot", rows * 32, [.pointer(address(a)), .pointer(address(b)), .int64(Int64(rows)), .int32(Int32(width)),
                                      .pointer(address(out))], grid: ((rows * 32 + 255) / 256, 1))
    }

    public func scaleRows(_ x: Tensor, scales: Tensor, stride: Int, offset: Int, bias: Tensor?, rows: Int, width: Int,
                          into out: Tensor) {
        launchRows("scale_rows", rows: rows, width: width, [
            .pointer(address(x)), .pointer(address(scales)), .int32(Int32(stride)), .int32(Int32(offset)),
            .pointer(bias.map(address) ?? 0), .int64(Int64(rows)), .int32(Int32(width)), .pointer(address(out)),
        ])
    }

    public func crossInputGradient(g: Tensor, h: Tensor, e: Tensor, weights: Tensor, rows: Int, layers: Int, width: Int,
                                   into dx: Tensor) {
        launchRows("cross_input_gradient", rows: rows, width: width, [
            .pointer(address(g)), .pointer(address(h)), .pointer(address(e)), .pointer(address(weights)),
            .int64(Int64(rows)), .int32(Int32(layers)), .int32(Int32(width)), .pointer(address(dx)),
        ])
    }

    public func addScaledRows(_ src: Tensor, scales: Tensor, rows: Int, width: Int, into dst: Tensor) {
        launchRows("add_scaled_rows", rows: rows, width: width, [.pointer(address(src)), .pointer(address(scales)), .int64(Int64(rows)),
                                                 .int32(Int32(width)), .pointer(address(dst))])
    }

    public func prefixSumRows(_ x: Tensor, rows: Int, width: Int, into out: Tensor) {
        launch("prefix_sum_rows", width, [.pointer(address(x)), .int64(Int64(rows)), .int32(Int32(width)),
                                          .pointer(address(out))])
    }

    public func crossScalars(d: Tensor, c: Tensor, rows: Int, layers: Int, into h: Tensor) {
        launch("cross_scalars", rows, [.pointer(address(d)), .pointer(address(c)), .int64(Int64(rows)),
                                       .int32(Int32(layers)), .pointer(address(h))])
    }

    public func crossScalarsBackward(d: Tensor, h: Tensor, s: Tensor, rows: Int, layers: Int, e: Tensor, upstream: Tensor) {
        launch("cross_scalars_backward", rows, [.pointer(address(d)), .pointer(address(h)), .pointer(address(s)),
                                                .int64(Int64(rows)), .int32(Int32(layers)), .pointer(address(e)),
                                                .pointer(address(upstream))])
    }

    public func lowRankCross(x0: Tensor, h: Tensor, bias: Tensor, x: Tensor, rows: Int, width: Int, into out: Tensor,
                             outWidth: Int) {
        if width % 8 == 0, aligned16(x0, h, x) {
            let outVec = outWidth % 8 == 0 && aligned16(out)
            return launchRows("low_rank_cross8", rows: rows, width: (outWidth + 7) / 8, [
                .pointer(address(x0)), code(x0.dtype), .pointer(address(h)), code(h.dtype), .pointer(address(bias)),
                .pointer(address(x)), code(x.dtype), .int64(Int64(rows)), .int32(Int32(width)), .pointer(address(out)),
                code(out.dtype), .int32(Int32(outWidth)), .int32(outVec ? 1 : 0),
            ])
        }
        launchRows("low_rank_cross", rows: rows, width: outWidth, [
            .pointer(address(x0)), code(x0.dtype), .pointer(address(h)), code(h.dtype), .pointer(address(bias)),
            .pointer(address(x)), code(x.dtype), .int64(Int64(rows)), .int32(Int32(width)), .pointer(address(out)),
            code(out.dtype), .int32(Int32(outWidth)),
        ])
    }

    public func lowRankCrossBackward(g: Tensor, gWidth: Int, x0: Tensor, h: Tensor, bias: Tensor, rows: Int, width: Int,
                                     s0: Tensor, dx: Tensor, accumulate: Bool, addG: Bool, gCopy: Tensor?,
                                     biasGrad: Tensor, partial: Tensor) {
        let copy: [KernelArgument] = [.pointer(gCopy.map(address) ?? 0), gCopy.map { code($0.dtype) } ?? .int32(0)]
        let common: [KernelArgument] = [
            .pointer(address(x0)), code(x0.dtype), .pointer(address(h)), code(h.dtype), .pointer(address(bias)),
            .int64(Int64(rows)), .int32(Int32(width)), .pointer(address(s0)), code(s0.dtype), .pointer(address(dx)),
            code(dx.dtype), .int32(accumulate ? 1 : 0), .int32(addG ? 1 : 0),
        ] + copy
        let partialRows = partial.count / max(width, 1)
        if width % 8 == 0, partialRows >= 1, aligned16(x0, h, s0, dx), gCopy.map({ aligned16($0) }) ?? true {
            let gVec = gWidth % 8 == 0 && aligned16(g)
            let gx = (width / 8 + 31) / 32
            let gy = min(partialRows, (rows + 7) / 8, max(1, device.multiprocessorCount * 8 / gx))
            launch("low_rank_cross_backward8", grid: (gx, rows > 0 ? gy : 0), block: (32, 8), shared: 0,
                   [.pointer(address(g)), code(g.dtype), .int32(Int32(gWidth)), .int32(gVec ? 1 : 0)] + common
                   + [.pointer(address(partial))])
            sumRows(partial, rows: rows > 0 ? gy : 0, cols: width, into: biasGrad, accumulate: true)
            return
        }
        launchRows("low_rank_cross_backward", rows: rows, width: width,
                   [.pointer(address(g)), code(g.dtype), .int32(Int32(gWidth))] + common)
        sumRows(s0, rows: rows, cols: width, into: biasGrad, accumulate: true)
    }

    /// Whether every tensor's first element is 16-byte aligned (the vector kernels' loads).
    func aligned16(_ tensors: Tensor...) -> Bool { tensors.allSatisfy { address($0) % 16 == 0 } }

    public func crossBiasGradients(g: Tensor, c: Tensor, weights: Tensor, layers: Int, width: Int, into db: Tensor) {
        launch("cross_bias_gradients", width, [.pointer(address(g)), .pointer(address(c)), .pointer(address(weights)),
                                               .int32(Int32(layers)), .int32(Int32(width)), .pointer(address(db))])
    }

    /// Interaction keeps a sample's (F+1) vectors of `width` floats in shared memory: opts the two
    /// kernels in to that much, or throws when the device has less.
    public func validateInteraction(features: Int, width: Int) throws {
        let bytes = Self.interactionSharedBytes(features: features, width: width)
        guard bytes <= sharedMemoryLimit else {
            throw SwiftCTRError(.device, "Interaction over \(features) embedding features of vector size \(width) needs "
                + "(F+1)·w·4 = \(bytes) bytes of shared memory per thread block; \(device.name) allows at most "
                + "\(sharedMemoryLimit). Use fewer embedding features or a smaller embedding vector size.")
        }
        for kernel in ["interaction", "interaction_backward"] { try allowSharedMemory(bytes, for: kernel) }
    }

    /// The dynamic shared memory of one Interaction block: the sample's x0 and F embedding vectors.
    static func interactionSharedBytes(features: Int, width: Int) -> Int { (features + 1) * width * 4 }

    public func interaction(x0: Tensor, emb: Tensor, into y: Tensor, batch: Int, features: Int, width: Int) {
        launch("interaction", batch, [.pointer(address(x0)), .pointer(address(emb)), .pointer(address(y)),
                                      .int32(Int32(features)), .int32(Int32(width))],
               block: 128, shared: Self.interactionSharedBytes(features: features, width: width), grid: (batch, 1))
    }

    public func interactionBackward(x0: Tensor, emb: Tensor, dy: Tensor, dx0: Tensor, demb: Tensor, batch: Int,
                                    features: Int, width: Int) {
        launch("interaction_backward", batch, [.pointer(address(x0)), .pointer(address(emb)), .pointer(address(dy)),
                                               .pointer(address(dx0)), .pointer(address(demb)),
                                               .int32(Int32(features)), .int32(Int32(width))],
               block: 128, shared: Self.interactionSharedBytes(features: features, width: width), grid: (batch, 1))
    }
}

extension KernelSource {
    /// MultiCross: `row_dot` 2·rows·width FLOPs (a warp per row), `scale_rows`/`add_scaled_rows`
    /// 1–2 FLOPs per element, `cross_input_gradient` 2·(layers+1) FLOPs per element, the scalar
    /// recursions O(rows·layers). Interaction: one block per sample staging (F+1)·w floats in
    /// shared memory, then n(n−1)/2 dot products of w (n = F+1); the backward n²·w FLOPs per sample.
    static let crossInteraction = #"""
// DCN v2: out = x0 ⊙ (h + bias) + x, over the first outWidth of width columns.
extern "C" __global__ void low_rank_cross(const void* x0, int t0, const void* h, int th, const float* bias,
                                          const void* x, int tx, i64 rows, int width, void* out, int to, int outWidth) {
    ROWS_COLS(r, c, rows, outWidth) {
        i64 i = r * width + c;
        store_as(out, r * outWidth + c, to, load_as(x0, i, t0) * (load_as(h, i, th) + bias[c]) + load_as(x, i, tx));
    }
}

// The same over groups of 8 columns (width % 8 == 0, 16-byte aligned states): vector loads, and
// the output stored one element at a time where outVec is 0 (outWidth % 8 ≠ 0 or unaligned).
extern "C" __global__ void low_rank_cross8(const void* x0, int t0, const void* h, int th, const float* bias,
                                           const void* x, int tx, i64 rows, int width, void* out, int to, int outWidth,
                                           int outVec) {
    ROWS_COLS(r, group, rows, (outWidth + 7) / 8) {
        int c = group * 8;
        i64 e = (r * width + c) >> 3;
        float a[8], hv[8], xv[8], y[8];
        load8_as(x0, e, t0, a);
        load8_as(h, e, th, hv);
        load8_as(x, e, tx, xv);
#pragma unroll
        for (int j = 0; j < 8; j++) y[j] = a[j] * (hv[j] + bias[c + j]) + xv[j];
        store8_row(out, to, r, outWidth, c, outWidth, outVec, y);
    }
}

// Its backward: s0 = g ⊙ x0, dx (+)= g ⊙ (h + bias) (+ g), gCopy = g with a zero tail; g has
// gWidth ≤ width columns. The bias gradient (Σ_rows s0) is left to a column sum of s0.
extern "C" __global__ void low_rank_cross_backward(const void* g, int tg, int gWidth, const void* x0, int t0,
                                                   const void* h, int th, const float* bias, i64 rows, int width,
                                                   void* s0, int ts, void* dx, int tdx, int accumulate, int addG,
                                                   void* gCopy, int tc) {
    ROWS_COLS(r, c, rows, width) {
        i64 i = r * width + c;
        float gv = c < gWidth ? load_as(g, r * gWidth + c, tg) : 0.f;
        store_as(s0, i, ts, gv * load_as(x0, i, t0));
        float direct = gv * (load_as(h, i, th) + bias[c]) + (addG ? gv : 0.f);
        store_as(dx, i, tdx, accumulate ? load_as(dx, i, tdx) + direct : direct);
        if (gCopy) store_as(gCopy, i, tc, gv);
    }
}

// The same over groups of 8 columns (width % 8 == 0, 16-byte aligned), in blocks of 32 × 8
// threads: a thread walks its 8 columns down a share of the rows, summing s0 in registers, and
// the block's 8 row lanes are summed in shared memory into partial[blockIdx.y] (a column sum of
// the gridDim.y partial rows then gives the bias gradient, instead of a pass over s0).
extern "C" __global__ void low_rank_cross_backward8(const void* g, int tg, int gWidth, int gVec, const void* x0, int t0,
                                                    const void* h, int th, const float* bias, i64 rows, int width,
                                                    void* s0, int ts, void* dx, int tdx, int accumulate, int addG,
                                                    void* gCopy, int tc, float* partial) {
    __shared__ float sums[8][8][32];
    int c = (blockIdx.x * 32 + threadIdx.x) * 8;
    float acc[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
    if (c < width) {
        float b[8];
#pragma unroll
        for (int j = 0; j < 8; j++) b[j] = bias[c + j];
        for (i64 r = (i64)blockIdx.y * 8 + threadIdx.y; r < rows; r += 8 * (i64)gridDim.y) {
            float gv[8], a[8], hv[8], s[8], d[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
            load8_row(g, tg, r, gWidth, c, gWidth, gVec, gv);
            i64 e = (r * width + c) >> 3;
            load8_as(x0, e, t0, a);
            load8_as(h, e, th, hv);
            if (accumulate) load8_as(dx, e, tdx, d);
#pragma unroll
            for (int j = 0; j < 8; j++) {
                s[j] = gv[j] * a[j];
                acc[j] += s[j];
                d[j] += gv[j] * (hv[j] + b[j]) + (addG ? gv[j] : 0.f);
            }
            store8_as(s0, e, ts, s);
            store8_as(dx, e, tdx, d);
            if (gCopy) store8_as(gCopy, e, tc, gv);
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
"""#
}
