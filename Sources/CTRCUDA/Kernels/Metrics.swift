import CTRCore

/// Metrics: AUC over a histogram of predictions, accumulated on the device per batch.
extension CUDABackend {
    public func aucAccumulate(predictions: Tensor, predictionStride: Int, labels: Tensor, labelStride: Int, count: Int,
                              histogram: Tensor) {
        launch("auc_accumulate", count, [.pointer(address(predictions)), .int32(Int32(predictionStride)),
                                         .pointer(address(labels)), .int32(Int32(labelStride)), .int64(Int64(count)),
                                         .pointer(address(histogram)), .int32(Int32(AUCHistogram.bins))])
    }

    public func aucFromHistogram(_ histogram: Tensor) -> Double {
        // Scratch bytes 32..<64 take the four sums.
        launch("auc_area", 1024, [.pointer(address(histogram)), .int32(Int32(AUCHistogram.bins)), .pointer(scratch + 32)],
               block: 1024, grid: (1, 1))
        var sums = [Double](repeating: 0, count: 4)
        record {
            try sums.withUnsafeMutableBytes { try device.copy(toHost: $0.baseAddress!, from: scratch + 32, bytes: 32, stream: stream) }
            try device.memset(address(histogram), byte: 0, count: AUCHistogram.count * 8, stream: stream)
            try stream!.synchronize()
        }
        guard sums[3] == 0, sums[1] > 0, sums[2] > 0 else { return .nan }
        return sums[0] / (sums[1] * sums[2])
    }
}

extension KernelSource {
    /// `auc_accumulate`: two double atomics per prediction; `auc_area`: one block of 1024 threads
    /// scanning the histogram's bins once.
    static let metrics = #"""
// AUC histogram (see AUCHistogram): positives, negatives, NaN counter. A label below -0.5 is
// missing: the pair is skipped.
extern "C" __global__ void auc_accumulate(const float* p, int pstride, const float* labels, int stride, i64 n, double* h,
                                          int bins) {
    GRID_STRIDE(i, n) {
        double label = labels[i * stride];
        if (label < -0.5) continue;
        float v = p[i * pstride];
        if (v != v) { atomicAdd(h + 2 * bins, 1.0); continue; }
        int bin = (int)(__float_as_uint(fminf(fmaxf(v, 0.f), 1.f)) >> 10);
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
"""#
}
