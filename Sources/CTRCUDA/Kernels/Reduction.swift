import CTRCore

/// Reductions: column sums (bias gradients) and sum or mean over one axis with its backward.
extension CUDABackend {
    private func columnSums(_ x: Tensor, scale: CUdeviceptr, rows: Int, cols: Int, into out: CUdeviceptr) {
        let rowsPerBlock = max(32, (rows + 255) / 256)
        let grid = ((cols + 127) / 128, (rows + rowsPerBlock - 1) / rowsPerBlock)
        guard rows > 0 else { return }
        launch("sum_rows", rows * cols, [.pointer(address(x)), code(x.dtype), .pointer(scale), .int64(Int64(rows)), .int32(Int32(cols)),
                                         .pointer(out), .int32(Int32(rowsPerBlock))], block: 128, grid: grid)
    }

    public func sumRows(_ x: Tensor, rows: Int, cols: Int, into out: Tensor, accumulate: Bool) {
        if !accumulate { record { try device.memset(address(out), byte: 0, count: cols * 4, stream: stream) } }
        columnSums(x, scale: 0, rows: rows, cols: cols, into: address(out))
    }

    /// One thread per output element, summing down the axis; a block per output (256 threads
    /// and a tree in shared memory) when the axis is long and the outputs are few or the axis is
    /// the contiguous one, where a thread per output would leave the GPU idle or read uncoalesced.
    public func reduce(_ op: ReduceOp, _ x: Tensor, outer: Int, axis: Int, inner: Int, into y: Tensor) {
        let outputs = outer * inner, mean: Int32 = op == .mean ? 1 : 0
        guard outputs > 0 else { return }
        if axis >= 256 && (inner == 1 || outputs < device.multiprocessorCount * 256) {
            launch("reduce_axis_blocks", outputs, [.pointer(address(x)), .int64(Int64(outputs)), .int32(Int32(axis)),
                                                   .int32(Int32(inner)), .pointer(address(y)), .int32(mean)],
                   block: 256, grid: (min(outputs, device.multiprocessorCount * 32), 1))
        } else {
            launch("reduce_axis", outputs, [.pointer(address(x)), .int64(Int64(outer)), .int32(Int32(axis)),
                                            .int32(Int32(inner)), .pointer(address(y)), .int32(mean)])
        }
    }

    public func reduceBackward(_ op: ReduceOp, dy: Tensor, outer: Int, axis: Int, inner: Int, into dx: Tensor) {
        launch("reduce_axis_backward", outer * axis * inner, [.pointer(address(dy)), .int64(Int64(outer)),
                                                              .int32(Int32(axis)), .int32(Int32(inner)),
                                                              .pointer(address(dx)), .int32(op == .mean ? 1 : 0)])
    }
}

extension KernelSource {
    /// `sum_rows`: rows × cols adds, each element read once, one atomic per column per block;
    /// `reduce_axis`: outer × axis × inner adds; its backward writes outer × axis × inner floats.
    static let reduction = #"""
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

// y[o, k] = sum over a of x[o, a, k] (divided by axis when mean), one thread per output.
extern "C" __global__ void reduce_axis(const float* x, i64 outer, int axis, int inner, float* y, int mean) {
    GRID_STRIDE(i, outer * inner) {
        int k;
        i64 o = divmod(i, inner, &k);
        const float* p = x + o * axis * inner + k;
        float s = 0.f;
        for (int a = 0; a < axis; ++a) s += p[(i64)a * inner];
        y[i] = mean ? s / (float)axis : s;
    }
}

// The same with a block of 256 threads per output: strided partial sums, then a tree in shared memory.
extern "C" __global__ void reduce_axis_blocks(const float* x, i64 outputs, int axis, int inner, float* y, int mean) {
    __shared__ float partial[256];
    for (i64 i = blockIdx.x; i < outputs; i += gridDim.x) {
        int k;
        i64 o = divmod(i, inner, &k);
        const float* p = x + o * axis * inner + k;
        float s = 0.f;
        for (int a = threadIdx.x; a < axis; a += blockDim.x) s += p[(i64)a * inner];
        partial[threadIdx.x] = s;
        __syncthreads();
        for (int h = blockDim.x / 2; h > 0; h >>= 1) {
            if (threadIdx.x < h) partial[threadIdx.x] += partial[threadIdx.x + h];
            __syncthreads();
        }
        if (threadIdx.x == 0) y[i] = mean ? partial[0] / (float)axis : partial[0];
        __syncthreads();
    }
}

// dx[o, a, k] = dy[o, k] (divided by axis when mean).
extern "C" __global__ void reduce_axis_backward(const float* dy, i64 outer, int axis, int inner, float* dx, int mean) {
    GRID_STRIDE(i, outer * axis * inner) {
        int k, a;
        i64 row = divmod(i, inner, &k);
        i64 o = divmod(row, axis, &a);
        float g = dy[o * inner + k];
        dx[i] = mean ? g / (float)axis : g;
    }
}
"""#
}
