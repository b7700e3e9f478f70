/// The pure-Swift GEMM used when no BLAS library is found: operands are packed to plain row-major
/// form, then four rows of C share each streamed row of B. Cost: 2·m·n·k FLOPs.
func naiveGEMM(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
               a: UnsafePointer<Float>, b: UnsafePointer<Float>, beta: Float,
               c: UnsafeMutablePointer<Float>, threads: Int) {
    let packedA = transA ? transposed(a, rows: k, cols: m) : nil
    let packedB = transB ? transposed(b, rows: n, cols: k) : nil
    defer { packedA?.deallocate(); packedB?.deallocate() }
    let pa = UnsafePointer(packedA) ?? a
    let pb = UnsafePointer(packedB) ?? b
    let blocks = (m + 3) / 4
    parallelFor(blocks, threads: threads, grain: max(1, 65_536 / max(1, n * k / 64))) { range in
        for block in range {
            let i0 = block * 4, i1 = min(i0 + 4, m)
            for i in i0..<i1 {
                let row = c + i * n
                if beta == 0 {
                    row.update(repeating: 0, count: n)
                } else if beta != 1 {
                    for j in 0..<n { row[j] *= beta }
                }
            }
            for p in 0..<k {
                let bRow = pb + p * n
                for i in i0..<i1 {
                    let scale = alpha * pa[i * k + p]
                    if scale == 0 { continue }
                    let row = c + i * n
                    for j in 0..<n { row[j] += scale * bRow[j] }
                }
            }
        }
    }
}

private func transposed(_ x: UnsafePointer<Float>, rows: Int, cols: Int) -> UnsafeMutablePointer<Float> {
    let out = UnsafeMutablePointer<Float>.allocate(capacity: rows * cols)
    for r in 0..<rows {
        for col in 0..<cols { out[col * rows + r] = x[r * cols + col] }
    }
    return out
}
