import CTRCore

/// `MatrixMultiply`: the matrix product `C = A·B` of its two bottoms. Backward: `dA = dC·Bᵀ`,
/// `dB = Aᵀ·dC`. Cost: 2·m·n·k FLOPs per product forward, twice that backward.
///
/// - 2D×2D: `(m, n)·(n, k) → (m, k)`. A's rows are the batch; B is one matrix used whole (its first
///   dimension is the inner dimension n, not a batch), and `dB` sums over the batch's rows.
/// - 2D×3D: `(m, n)·(n, g, h) → (m, g, h)`, B read as the matrix `(n, g·h)`.
/// - 3D×3D: `(b, m, n)·(b, n, k) → (b, m, k)`, one product per sample (`batchedGEMM`).
/// - 4D×4D: `(b, h, m, n)·(b, h, n, k) → (b, h, m, k)`, one product per (sample, h).
///
/// ```swift
/// model.add(DenseLayer(.matrixMultiply, bottomNames: ["slice1", "slice2"], topNames: ["MatrixMutiply1"]))
/// ```
///
/// HugeCTR: `MatrixMultiply`, spelled `MatrixMutiply` in the layer book (`LayerType.matrixMutiply`
/// and `LayerType(hugeCTRName: "MatrixMutiply")` accept that spelling). fp32 only, as in HugeCTR.
/// HugeCTR accepts more than two bottoms and ignores the extra ones; SwiftCTR requires exactly two.
public final class MatrixMultiply: RegisteredLayer {
    public let name: String
    public let inputs: [Variable]
    public let outputs: [Variable]
    /// One product is (m × n)·(n × k); `productsPerRow` products per leading row of A (0: A is one
    /// m × n matrix whose m rows are the batch's, B one n × k matrix).
    let m: Int, n: Int, k: Int, productsPerRow: Int
    let backend: any Backend

    package init(name: String, a: Variable, b: Variable, backend: any Backend) {
        self.name = name
        self.backend = backend
        inputs = [a, b]
        let aDims = a.shape.dims, bDims = b.shape.dims
        var outDims: [Int]
        if aDims.count == 2 {
            (m, n, k, productsPerRow) = (1, aDims[1], b.shape.count / aDims[1], 0)
            outDims = [aDims[0]] + bDims.dropFirst()
        } else {
            let r = aDims.count
            (m, n, k) = (aDims[r - 2], aDims[r - 1], bDims[r - 1])
            productsPerRow = aDims[1..<(r - 2)].reduce(1, *)
            outDims = aDims
            outDims[r - 1] = k
        }
        outputs = [Variable(name: name, shape: Shape(outDims), backend: backend, rowsPerSample: a.rowsPerSample)]
    }

    public func forward(_ context: StepContext) {
        let a = inputs[0].value, b = inputs[1].value, c = outputs[0].value, rows = inputs[0].rows(context.batch)
        if productsPerRow == 0 {
            backend.gemm(transA: false, transB: false, m: rows, n: k, k: n, alpha: 1, a: a, b: b, beta: 0, c: c)
        } else {
            backend.batchedGEMM(transA: false, transB: false, m: m, n: k, k: n, alpha: 1, a: a, strideA: m * n, b: b,
                                strideB: n * k, beta: 0, c: c, strideC: m * k, batchCount: rows * productsPerRow)
        }
    }

    public func backward(_ context: StepContext) {
        let a = inputs[0], b = inputs[1], dc = outputs[0].grad, rows = a.rows(context.batch)
        if productsPerRow == 0 {
            backend.gemm(transA: false, transB: true, m: rows, n: n, k: k, alpha: 1, a: dc, b: b.value, beta: 0, c: a.grad)
            backend.gemm(transA: true, transB: false, m: n, n: k, k: rows, alpha: 1, a: a.value, b: dc, beta: 0, c: b.grad)
        } else {
            let count = rows * productsPerRow
            backend.batchedGEMM(transA: false, transB: true, m: m, n: n, k: k, alpha: 1, a: dc, strideA: m * k, b: b.value,
                                strideB: n * k, beta: 0, c: a.grad, strideC: m * n, batchCount: count)
            backend.batchedGEMM(transA: true, transB: false, m: n, n: k, k: m, alpha: 1, a: a.value, strideA: m * n, b: dc,
                                strideB: m * k, beta: 0, c: b.grad, strideC: n * k, batchCount: count)
        }
    }

    // MARK: registry

    public static let layerType = LayerType.matrixMultiply
    public static func mixedPrecisionRefusal(_ config: DenseLayer) -> String? { fp32Only }
    public static let parameterNames: [String] = []

    public static func make(_ config: DenseLayer, inputs: [Variable], context: LayerBuildContext) throws -> any Layer {
        let check = Checker(config: config, inputs: inputs)
        try check.topCount(1)
        guard inputs.count == 2 else {
            throw check.error("MatrixMultiply multiplies exactly 2 bottoms (A, B), found \(inputs.count). Fix bottom_names.")
        }
        let (a, b) = (inputs[0], inputs[1]), ranks = (a.shape.rank, b.shape.rank)
        let pairs = "A \(a.shape) and B \(b.shape) (full shapes, batch first)"
        switch ranks {
        case (2, 2), (2, 3):
            guard a.shape[1] == b.shape[0] else {
                throw check.error("\(pairs): A's columns (\(a.shape[1])) must equal B's first dimension (\(b.shape[0])); in 2D×\(ranks.1)D the whole of B is one matrix.")
            }
        case (3, 3), (4, 4):
            let r = ranks.0
            guard a.shape.dims.prefix(r - 2) == b.shape.dims.prefix(r - 2), a.rowsPerSample == b.rowsPerSample else {
                throw check.error("\(pairs): the leading \(r - 2) dimension\(r == 3 ? "" : "s") (the batch\(r == 4 ? " and the heads" : "")) must be equal.")
            }
            guard a.shape[r - 1] == b.shape[r - 2] else {
                throw check.error("\(pairs): A's last dimension (\(a.shape[r - 1])) must equal B's second-to-last (\(b.shape[r - 2])).")
            }
        default:
            throw check.error("\(pairs): the ranks must be 2D×2D, 2D×3D, 3D×3D or 4D×4D, found \(ranks.0)D×\(ranks.1)D.")
        }
        return MatrixMultiply(name: config.name, a: a, b: b, backend: context.backend)
    }

    public static var conformanceCases: [ConformanceCase] {
        /// `products` products (m × n)·(n × k); B is shared by all of them when `sharedB`.
        @Sendable func product(_ a: [Double], _ b: [Double], m: Int, n: Int, k: Int, products: Int, sharedB: Bool) -> [Double] {
            (0..<products).flatMap { p in
                (0..<m * k).map { e in
                    let (i, j) = (e / k, e % k), bOffset = sharedB ? 0 : p * n * k
                    return (0..<n).reduce(0) { $0 + a[(p * m + i) * n + $1] * b[bOffset + $1 * k + j] }
                }
            }
        }
        /// A of per-sample shape `a` times B of shape `b` (per sample, or whole for a 2D A).
        func matrixMultiply(_ a: [Int], _ b: [Int], rowsPerSample: Int = 1) -> ConformanceCase {
            let twoD = a.count == 1
            let (m, n, k) = twoD ? (1, a[0], b.dropFirst().reduce(1, *)) : (a[a.count - 2], a[a.count - 1], b[b.count - 1])
            let rowsNote = ConformanceInput.rowsNote(rowsPerSample)
            return ConformanceCase("MatrixMultiply \(a.count + 1)D×\(b.count + (twoD ? 0 : 1))D \(a)·\(b)\(rowsNote)",
                                   DenseLayer(.matrixMultiply, bottomNames: ["a", "b"], topNames: ["ab"]),
                                   inputs: [ConformanceInput(a, rowsPerSample: rowsPerSample),
                                            ConformanceInput(b, rowsPerSample: rowsPerSample, batched: !twoD)],
                                   batch: 3) { r in
                [product(r.inputs[0], r.inputs[1], m: m, n: n, k: k, products: r.inputs[0].count / (m * n), sharedB: twoD)]
            }
        }
        return [matrixMultiply([4], [4, 3]), matrixMultiply([4], [4, 2, 3]), matrixMultiply([2, 3], [3, 4]),
                matrixMultiply([2, 3], [3, 2], rowsPerSample: 2), matrixMultiply([2, 3, 2], [2, 2, 3])]
    }
}
