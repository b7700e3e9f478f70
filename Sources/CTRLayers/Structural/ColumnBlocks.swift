import CTRCore

/// Tensors laid side by side as column blocks of one row-major matrix: part i fills columns
/// `offsets[i] ..< offsets[i] + widths[i]` of every row of `total` columns. Concat and the fused
/// reshape-concats join their inputs this way and split the gradient back. Cost: one copy of the
/// matrix each way (a `copyColumns` per part).
struct ColumnBlocks {
    let widths: [Int]
    let offsets: [Int]
    let total: Int

    init(widths: [Int]) {
        self.widths = widths
        offsets = widths.indices.map { widths[..<$0].reduce(0, +) }
        total = widths.reduce(0, +)
    }

    /// `whole[r, offsets[i] + c] = parts[i].value[r, c]` for `rows` rows of `rowWidth` (≥ `total`,
    /// the columns past `total` untouched) columns.
    func join(_ parts: [Variable], into whole: Tensor, rows: Int, rowWidth: Int? = nil, backend: any Backend) {
        for (part, (width, offset)) in zip(parts, zip(widths, offsets)) {
            backend.copyColumns(part.value, srcWidth: width, srcStart: 0, into: whole, dstWidth: rowWidth ?? total,
                                dstStart: offset, rows: rows, width: width, accumulate: false)
        }
    }

    /// `parts[i].grad[r, c] = whole[r, offsets[i] + c]` for `rows` rows of `rowWidth` columns.
    func split(_ whole: Tensor, intoGradientsOf parts: [Variable], rows: Int, rowWidth: Int? = nil, backend: any Backend) {
        for (part, (width, offset)) in zip(parts, zip(widths, offsets)) {
            backend.copyColumns(whole, srcWidth: rowWidth ?? total, srcStart: offset, into: part.grad, dstWidth: width,
                                dstStart: 0, rows: rows, width: width, accumulate: false)
        }
    }
}

extension ConformanceReference {
    /// `ColumnBlocks.join`'s reference: the rows `[x_0[r, :] | x_1[r, :] | …]` of inputs holding
    /// `rows` rows of `widths[k]` elements each.
    static func joinedRows(_ inputs: [[Double]], widths: [Int], rows: Int) -> [Double] {
        (0..<rows).flatMap { row in zip(inputs, widths).flatMap { x, w in x[row * w..<(row + 1) * w] } }
    }
}
