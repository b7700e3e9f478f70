import CTRCore

/// Reductions: column sums (bias gradients) and ReduceSum over one axis with its backward.
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

    public func reduceSum(_ x: Tensor, outer: Int, axis: Int, inner: Int, into y: Tensor) {
        launch("reduce_sum", outer * inner, [.pointer(address(x)), .int64(Int64(outer)), .int32(Int32(axis)),
                                             .int32(Int32(inner)), .pointer(address(y))])
    }

    public func reduceSumBackward(_ dy: Tensor, outer: Int, axis: Int, inner: Int, into dx: Tensor) {
        launch("reduce_sum_backward", outer * axis * inner, [.pointer(address(dy)), .int64(Int64(outer)),
                                                             .int32(Int32(axis)), .int32(Int32(inner)), .pointer(address(dx))])
    }
}

extension KernelSource {
    /// `sum_rows`: rows × cols adds, each element read once, one atomic per column per block;
    /// `reduce_sum`: outer × axis × inner adds; its backward writes outer × axis × inner floats.
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
"""#
}
