import CTRCore

/// The generic element-wise and axis-reduction primitives on the GPU (issue 7): `unary`,
/// `binary` and `reduce` with their backwards, each one grid-stride kernel taking the op as an
/// int code. Kept in one file while `CTRCUDA` is being split by family; its launches belong in
/// `Kernels/Elementwise.swift` and `Kernels/Reduction.swift`, its CUDA C beside them.
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

    /// Every `extern "C" __global__` function of `elementwiseSource`, in order.
    static var elementwiseKernelNames: [String] {
        let prefix = "extern \"C\" __global__ void "
        return elementwiseSource.split(separator: "\n").compactMap { line in
            guard line.hasPrefix(prefix) else { return nil }
            return line.dropFirst(prefix.count).split(separator: "(").first.map(String.init)
        }
    }

    /// The kernels, appended to `Kernels.source` (whose prelude gives `GRID_STRIDE`, `i64`,
    /// `divmod` and `stable_sigmoid`). Op codes are the order of the Swift enums' cases.
    static let elementwiseSource = #"""

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
