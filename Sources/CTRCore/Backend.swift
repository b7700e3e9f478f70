/// The kernel contract: the composition of the op families under `Kernels/`. Layers, embeddings
/// and optimizers are written once against it; each backend (CPU, CUDA) implements every family,
/// in a file of the family's name (`CTRCPU/Kernels/Elementwise.swift`,
/// `CTRCUDA/Kernels/Elementwise.swift`). Tensors are row-major; counts are element counts. A
/// method may be as coarse as a whole layer step, so that a GPU backend can fuse.
public protocol Backend: MemoryKernels, GEMMKernels, ElementwiseKernels, ReductionKernels, NormalizationKernels,
    CrossInteractionKernels, LossKernels, OptimizerKernels, EmbeddingKernels, MetricKernels {}

extension Backend {
    public func crossInputGradient(g: Tensor, h: Tensor, e: Tensor, weights: Tensor, rows: Int, layers: Int, width: Int,
                                   into dx: Tensor) {
        scaleRows(g, scales: h, stride: layers + 1, offset: layers, bias: nil, rows: rows, width: width, into: dx)
        gemm(transA: false, transB: false, m: rows, n: width, k: layers, alpha: 1, a: e, b: weights, beta: 1, c: dx)
    }
}

extension Duration {
    /// The duration in seconds, as a Double.
    public var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
