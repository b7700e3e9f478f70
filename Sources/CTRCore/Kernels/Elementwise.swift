/// Element-wise maps and activations: a generic unary and binary op set with its backward, so a
/// new element-wise layer needs no new backend method, plus measured fused paths (dropout, bias +
/// ReLU + dropout, the n-ary sum).
public protocol ElementwiseKernels: AnyObject, Sendable {
    /// `y[i] = f(x[i])` for `count` elements (`y` may be `x`). Cost: `count` evaluations of `f`,
    /// 8 bytes moved per element.
    func unary(_ op: UnaryOp, _ x: Tensor, into y: Tensor, count: Int)
    /// `dx[i] = dy[i]·f′(x[i])`, from the forward input `x` or output `y`, whichever the op reads
    /// (`UnaryOp.backwardReadsOutput`; the other tensor is not touched and may be any tensor).
    /// `dx` may be `dy`. Cost: 12 bytes moved per element.
    func unaryBackward(_ op: UnaryOp, x: Tensor, y: Tensor, dy: Tensor, into dx: Tensor, count: Int)
    /// `out[i] = a[i] ∘ b[j]` for `count` elements, `j` as `broadcast` says (`out` may be `a`).
    /// Cost: `count` ops, 8–12 bytes moved per element.
    func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, into out: Tensor, count: Int, broadcast: Broadcast)
    /// The gradients of `out = a ∘ b` for equal shapes, assigned: `da = dy·∂out/∂a`,
    /// `db = dy·∂out/∂b`; a nil side is skipped. For maximum/minimum the gradient goes to the
    /// larger/smaller operand, ties to `a`. `da` and `db` must not overlap `a`, `b` or `dy`.
    /// (The gradient of a broadcast `b` is this one reduced: `sumRows` for `.row`,
    /// `reduce(.sum, …, inner: 1)` for `.column`.) Cost: 16–20 bytes moved per element.
    func binaryBackward(_ op: BinaryOp, a: Tensor, b: Tensor, dy: Tensor, da: Tensor?, db: Tensor?, count: Int)
    /// Training dropout: `mask[i] ∈ {0, 1/(1−rate)}` drawn from `(seed, stream)`; `y = x·mask`.
    func dropout(_ x: Tensor, into y: Tensor, mask: Tensor, count: Int, rate: Float, seed: UInt64, stream: UInt64)
    /// Bias, ReLU and training dropout in one pass over rows of `width`:
    /// `y = max(x + bias, 0)·m` (no bias when nil) with the mask `m` that `dropout` draws for the
    /// same `(seed, stream)`; no mask is stored. Rate 0 keeps every element. `y` may be `x`.
    func reluDropout(_ x: Tensor, bias: Tensor?, width: Int, into y: Tensor, count: Int, rate: Float, seed: UInt64,
                     stream: UInt64)
    /// Its backward: `dx = x + bias > 0 ? dy·m : 0`, the mask drawn again. `dx` may be `dy`. With
    /// `biasGrad` also `biasGrad[c] += Σ_rows dx[r, c]` (the bias gradient of the InnerProduct whose
    /// bias the pass adds), summed in the same pass where the backend can, with `partial` (fp32,
    /// a multiple of `width` elements) as scratch for per-block sums.
    func reluDropoutBackward(_ x: Tensor, bias: Tensor?, width: Int, _ dy: Tensor, into dx: Tensor, count: Int, rate: Float,
                             seed: UInt64, stream: UInt64, biasGrad: Tensor?, partial: Tensor?)
    /// `out = Σ inputs` element-wise over `count` elements.
    func sum(_ inputs: [Tensor], into out: Tensor, count: Int)
    /// Attention masks from sequence lengths (SequenceMask): `mask[s, i, j] = 1` when
    /// `i < trunc(from[s])` and `j < trunc(to[s])`, else 0, for `samples` masks of rows×cols;
    /// `from` and `to` hold one length per sample, truncated toward zero (HugeCTR's int cast).
    /// Cost: 4 bytes written per mask element.
    func sequenceMask(from: Tensor, to: Tensor, samples: Int, rows: Int, cols: Int, into mask: Tensor)
}

extension ElementwiseKernels {
    /// `out[i] = a[i] ∘ b[i]` (no broadcast).
    public func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, into out: Tensor, count: Int) {
        binary(op, a, b, into: out, count: count, broadcast: .none)
    }

    /// `y = max(x, 0)`.
    public func relu(_ x: Tensor, into y: Tensor, count: Int) { unary(.relu, x, into: y, count: count) }

    /// `dx = x > 0 ? dy : 0`.
    public func reluBackward(_ x: Tensor, _ dy: Tensor, into dx: Tensor, count: Int) {
        unaryBackward(.relu, x: x, y: x, dy: dy, into: dx, count: count)
    }

    /// `y = 1/(1 + e^−x)`, computed without overflow.
    public func sigmoid(_ x: Tensor, into y: Tensor, count: Int) { unary(.sigmoid, x, into: y, count: count) }

    /// `dx = dy·y·(1−y)` from the forward output `y`.
    public func sigmoidBackward(_ y: Tensor, _ dy: Tensor, into dx: Tensor, count: Int) {
        unaryBackward(.sigmoid, x: y, y: y, dy: dy, into: dx, count: count)
    }

    /// `out = a ⊙ b`.
    public func multiply(_ a: Tensor, _ b: Tensor, into out: Tensor, count: Int) {
        binary(.multiply, a, b, into: out, count: count, broadcast: .none)
    }
}

/// A function of one element, with its derivative.
///
/// ```swift
/// backend.unary(.elu(alpha: 1), x, into: y, count: n)
/// backend.unaryBackward(.elu(alpha: 1), x: x, y: y, dy: dy, into: dx, count: n)
/// ```
public enum UnaryOp: Sendable, Equatable {
    /// `y = x > 0 ? x : 0`; `dx = x > 0 ? dy : 0` (HugeCTR ReLU; NaN gives 0).
    case relu
    /// `y = 1/(1 + e^−x)`; `dx = dy·y·(1−y)`.
    case sigmoid
    /// `y = tanh x`; `dx = dy·(1 − y²)`.
    case tanh
    /// `y = x < 0 ? α(eˣ − 1) : x`; `dx = x < 0 ? dy·α·eˣ : dy` (HugeCTR ELU, strict `<`).
    case elu(alpha: Float)
    /// `y = eˣ`; `dx = dy·y`.
    case exp
    /// `y = ln x`; `dx = dy / x`.
    case log
    /// `y = −x`; `dx = −dy`.
    case negate
    /// `y = |x|`; `dx = dy·sign(x)` (0 at 0).
    case abs
    /// `y = √x`; `dx = dy / (2y)`.
    case sqrt
    /// `y = 1/x`; `dx = −dy·y²`.
    case reciprocal
    /// `y = x²`; `dx = 2·x·dy`.
    case square
    /// `y = s·x`; `dx = s·dy`.
    case scale(Float)

    /// Whether the backward reads the forward output `y` (else the input `x`, or neither for
    /// `negate` and `scale`): a layer keeps that tensor, and may compute the other in place.
    public var backwardReadsOutput: Bool {
        switch self {
        case .sigmoid, .tanh, .exp, .sqrt, .reciprocal: true
        case .relu, .elu, .log, .negate, .abs, .square, .scale: false
        }
    }
}

/// A function of two elements.
public enum BinaryOp: Sendable, Equatable {
    /// `a + b`; `da = dy`, `db = dy`.
    case add
    /// `a − b`; `da = dy`, `db = −dy`.
    case subtract
    /// `a·b`; `da = dy·b`, `db = dy·a`.
    case multiply
    /// `a / b`; `da = dy / b`, `db = −dy·a / b²`.
    case divide
    /// `a ≥ b ? a : b`; the gradient goes to the larger, ties to `a`.
    case maximum
    /// `a ≤ b ? a : b`; the gradient goes to the smaller, ties to `a`.
    case minimum
}

/// Which element of `b` meets element `i` of `a` in `binary`: `a` is rows of `width` (row-major,
/// `count` a multiple of `width`).
public enum Broadcast: Sendable, Equatable {
    /// `b[i]`: `b` has the `count` elements of `a`.
    case none
    /// `b[i % width]`: `b` is one row of `width` elements, a value per column (a bias).
    case row(Int)
    /// `b[i / width]`: `b` has `count / width` elements, a scalar per row.
    case column(Int)
}

/// Dropout compares a 16-bit random draw with this: the element is dropped when draw < threshold.
public func dropoutThreshold(_ rate: Float) -> UInt64 {
    UInt64((Double(rate) * 65_536).rounded())
}
