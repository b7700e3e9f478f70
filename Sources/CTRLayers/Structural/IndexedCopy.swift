import CTRCore

/// What Select and Gather share: a tensor seen as outer × length × inner, and the output that
/// keeps, along the middle axis, the positions `index` lists (in that order, repeats allowed):
/// `y[o, j, i] = x[o, index[j], i]`. Backward zeroes `dx` and adds every output position's
/// gradient back to the position it came from (repeats sum). Runs of consecutive indices move as
/// one block, so each run is one `copyColumns`. Cost: one copy of the output each way.
struct IndexedCopy {
    /// A run of consecutive indices: positions `source..<source + count` of the input go to
    /// `target..<target + count` of the output.
    struct Run: Equatable {
        var source: Int, target: Int, count: Int
    }

    let length: Int, inner: Int
    let runs: [Run]
    /// Positions in the output's middle axis.
    var selected: Int { runs.reduce(0) { $0 + $1.count } }

    init(length: Int, inner: Int, index: [Int]) {
        self.length = length
        self.inner = inner
        var runs: [Run] = []
        for (j, i) in index.enumerated() {
            if let last = runs.last, last.source + last.count == i {
                runs[runs.count - 1].count += 1
            } else {
                runs.append(Run(source: i, target: j, count: 1))
            }
        }
        self.runs = runs
    }

    func forward(_ x: Tensor, into y: Tensor, outer: Int, backend: any Backend) {
        for run in runs {
            backend.copyColumns(x, srcWidth: length * inner, srcStart: run.source * inner, into: y,
                                dstWidth: selected * inner, dstStart: run.target * inner, rows: outer,
                                width: run.count * inner, accumulate: false)
        }
    }

    func backward(_ dy: Tensor, into dx: Tensor, outer: Int, backend: any Backend) {
        backend.fill(dx.prefix([outer * length * inner]), 0)
        for run in runs {
            backend.copyColumns(dy, srcWidth: selected * inner, srcStart: run.target * inner, into: dx,
                                dstWidth: length * inner, dstStart: run.source * inner, rows: outer,
                                width: run.count * inner, accumulate: true)
        }
    }

    /// The float64 reference: `x` as outer × length × inner blocks, `index` picked from each.
    static func reference(_ x: [Double], length: Int, inner: Int, index: [Int]) -> [Double] {
        stride(from: 0, to: x.count, by: length * inner).flatMap { start in
            index.flatMap { i in x[start + i * inner..<start + (i + 1) * inner] }
        }
    }
}

extension Checker {
    /// Every entry of `index` (the parameter `parameter`) is a position in `0..<length`.
    func indices(_ index: [Int], _ parameter: String, below length: Int, along what: String) throws {
        guard !index.isEmpty else { throw error("\(parameter) is empty; list the positions of \(what) to keep.") }
        if let bad = index.first(where: { $0 < 0 || $0 >= length }) {
            throw error("\(parameter) entry \(bad) is outside 0..<\(length), the positions of \(what) of '\(inputs[0].name)' \(inputs[0].perSampleShape).")
        }
    }
}
