import CTRCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The CPU backend: host memory, loops over hoisted pointers, a parallel-for over all cores, and
/// GEMM through OpenBLAS when it loads (a pure-Swift GEMM otherwise; `name` says which).
///
/// ```swift
/// let cpu = CPUBackend()
/// print(cpu.name)   // "CPU (2 threads, GEMM: libopenblas.so.0 (...))"
/// ```
public final class CPUBackend: Backend, @unchecked Sendable {
    public let threads: Int
    public let blas: BLAS?

    public init(threads: Int? = nil, blasCandidates: [String] = BLAS.defaultCandidates) {
        let cores = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        self.threads = max(1, threads ?? cores)
        blas = BLAS.load(candidates: blasCandidates, threads: self.threads)
    }

    /// Which GEMM runs: the BLAS library, or the built-in fallback.
    public var gemmName: String { blas?.library ?? "built-in Swift GEMM (OpenBLAS not found: apt-get install libopenblas0)" }
    public var name: String { "CPU (\(threads) threads, GEMM: \(gemmName))" }

    /// Profiling marks: every kernel has finished when its call returns, so the host clock times it.
    private var marks: [(String, ContinuousClock.Instant)] = []

    public func mark(_ label: String) { marks.append((label, .now)) }

    public func markedSpans() -> [(label: String, seconds: Double)] {
        defer { marks.removeAll(keepingCapacity: true) }
        return zip(marks, marks.dropFirst()).map { ($0.0, ($1.1 - $0.1).inSeconds) }
    }

    // MARK: memory

    public func makeTensor(_ shape: Shape, _ dtype: DType) -> Tensor {
        Tensor(shape: shape, dtype: dtype, storage: HostStorage(byteCount: shape.count * dtype.size))
    }

    public func upload(_ bytes: UnsafeRawBufferPointer, to tensor: Tensor) {
        precondition(bytes.count <= tensor.byteCount, "upload of \(bytes.count) bytes into \(tensor)")
        guard let base = bytes.baseAddress else { return }
        UnsafeMutableRawPointer(tensor.hostPointer(as: UInt8.self)).copyMemory(from: base, byteCount: bytes.count)
    }

    public func download(_ tensor: Tensor, into bytes: UnsafeMutableRawBufferPointer) {
        precondition(bytes.count <= tensor.byteCount, "download of \(bytes.count) bytes from \(tensor)")
        guard let base = bytes.baseAddress else { return }
        base.copyMemory(from: tensor.hostPointer(as: UInt8.self), byteCount: bytes.count)
    }

    public func fill(_ tensor: Tensor, _ value: Float) {
        precondition(tensor.dtype == .float32)
        tensor.hostPointer(as: Float.self).update(repeating: value, count: tensor.count)
    }

    public func fill(_ tensor: Tensor, int64 value: Int64) {
        precondition(tensor.dtype == .int64)
        tensor.hostPointer(as: Int64.self).update(repeating: value, count: tensor.count)
    }

    public func copy(_ src: Tensor, to dst: Tensor) {
        precondition(src.byteCount <= dst.byteCount)
        UnsafeMutableRawPointer(dst.hostPointer(as: UInt8.self))
            .copyMemory(from: src.hostPointer(as: UInt8.self), byteCount: src.byteCount)
    }

    public func synchronize() {}

    // MARK: dense math

    public func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                     alpha: Float, a: Tensor, b: Tensor, beta: Float, c: Tensor) {
        precondition(a.count >= m * k && b.count >= k * n && c.count >= m * n, "gemm operands too small")
        let pa = UnsafePointer(a.hostPointer(as: Float.self))
        let pb = UnsafePointer(b.hostPointer(as: Float.self))
        let pc = c.hostPointer(as: Float.self)
        if m == 0 || n == 0 { return }
        if k == 0 {
            for i in 0..<(m * n) { pc[i] = beta == 0 ? 0 : beta * pc[i] }
            return
        }
        if let blas {
            blas.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: pa, b: pb, beta: beta, c: pc)
        } else {
            naiveGEMM(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                      a: pa, b: pb, beta: beta, c: pc, threads: threads)
        }
    }

    public func addBias(_ y: Tensor, bias: Tensor, rows: Int, cols: Int) {
        let py = y.hostPointer(as: Float.self), pb = bias.hostPointer(as: Float.self)
        parallelFor(rows, threads: threads, grain: max(1, 32_768 / max(cols, 1))) { range in
            for r in range {
                let row = py + r * cols
                for c in 0..<cols { row[c] += pb[c] }
            }
        }
    }

    public func sumRows(_ x: Tensor, rows: Int, cols: Int, into out: Tensor, accumulate: Bool) {
        let px = x.hostPointer(as: Float.self), po = out.hostPointer(as: Float.self)
        if !accumulate { po.update(repeating: 0, count: cols) }
        // Threads split the columns, so each output element has one writer.
        parallelFor(cols, threads: threads, grain: max(16, 262_144 / max(rows, 1))) { range in
            for r in 0..<rows {
                let row = px + r * cols
                for c in range { po[c] += row[c] }
            }
        }
    }

    public func aucAccumulate(predictions: Tensor, labels: Tensor, labelStride: Int, count: Int, histogram: Tensor) {
        let p = predictions.hostPointer(as: Float.self), l = labels.hostPointer(as: Float.self)
        let h = histogram.hostPointer(as: Double.self)
        for i in 0..<count {
            guard let bin = AUCHistogram.bin(p[i]) else {
                h[2 * AUCHistogram.bins] += 1
                continue
            }
            let label = Double(l[i * labelStride])
            h[bin] += label
            h[AUCHistogram.bins + bin] += 1 - label
        }
    }

    public func aucFromHistogram(_ histogram: Tensor) -> Double {
        let h = histogram.hostPointer(as: Double.self)
        defer { h.update(repeating: 0, count: AUCHistogram.count) }
        return AUCHistogram.area(h)
    }

    public func axpy(_ alpha: Float, _ x: Tensor, _ y: Tensor, count: Int) {
        let px = x.hostPointer(as: Float.self), py = y.hostPointer(as: Float.self)
        parallelFor(count, threads: threads) { range in
            for i in range { py[i] += alpha * px[i] }
        }
    }

    public func sum(_ inputs: [Tensor], into out: Tensor, count: Int) {
        let po = out.hostPointer(as: Float.self)
        let first = inputs[0].hostPointer(as: Float.self)
        if first != po { po.update(from: first, count: count) }
        for input in inputs.dropFirst() {
            let p = input.hostPointer(as: Float.self)
            for i in 0..<count { po[i] += p[i] }
        }
    }

    public func copyColumns(_ src: Tensor, srcWidth: Int, srcStart: Int,
                            into dst: Tensor, dstWidth: Int, dstStart: Int,
                            rows: Int, width: Int, accumulate: Bool) {
        let ps = src.hostPointer(as: Float.self), pd = dst.hostPointer(as: Float.self)
        parallelFor(rows, threads: threads, grain: max(1, 65_536 / max(width, 1))) { range in
            for r in range {
                let s = ps + r * srcWidth + srcStart, d = pd + r * dstWidth + dstStart
                if accumulate {
                    for c in 0..<width { d[c] += s[c] }
                } else {
                    d.update(from: s, count: width)
                }
            }
        }
    }

    public func reduceSum(_ x: Tensor, outer: Int, axis: Int, inner: Int, into y: Tensor) {
        let px = x.hostPointer(as: Float.self), py = y.hostPointer(as: Float.self)
        for o in 0..<outer {
            let out = py + o * inner
            out.update(repeating: 0, count: inner)
            for a in 0..<axis {
                let row = px + (o * axis + a) * inner
                for i in 0..<inner { out[i] += row[i] }
            }
        }
    }

    public func reduceSumBackward(_ dy: Tensor, outer: Int, axis: Int, inner: Int, into dx: Tensor) {
        let pdy = dy.hostPointer(as: Float.self), pdx = dx.hostPointer(as: Float.self)
        for o in 0..<outer {
            for a in 0..<axis {
                (pdx + (o * axis + a) * inner).update(from: pdy + o * inner, count: inner)
            }
        }
    }

    // MARK: activations

    public func relu(_ x: Tensor, into y: Tensor, count: Int) {
        let px = x.hostPointer(as: Float.self), py = y.hostPointer(as: Float.self)
        parallelFor(count, threads: threads) { range in
            for i in range { py[i] = px[i] > 0 ? px[i] : 0 }
        }
    }

    public func reluBackward(_ x: Tensor, _ dy: Tensor, into dx: Tensor, count: Int) {
        let px = x.hostPointer(as: Float.self), pdy = dy.hostPointer(as: Float.self)
        let pdx = dx.hostPointer(as: Float.self)
        parallelFor(count, threads: threads) { range in
            // Both loads unconditional, so the select vectorizes instead of branching.
            for i in range {
                let dy = pdy[i]
                pdx[i] = px[i] > 0 ? dy : 0
            }
        }
    }

    public func sigmoid(_ x: Tensor, into y: Tensor, count: Int) {
        let px = x.hostPointer(as: Float.self), py = y.hostPointer(as: Float.self)
        parallelFor(count, threads: threads) { range in
            for i in range { py[i] = stableSigmoid(px[i]) }
        }
    }

    public func sigmoidBackward(_ y: Tensor, _ dy: Tensor, into dx: Tensor, count: Int) {
        let py = y.hostPointer(as: Float.self), pdy = dy.hostPointer(as: Float.self)
        let pdx = dx.hostPointer(as: Float.self)
        parallelFor(count, threads: threads) { range in
            for i in range { pdx[i] = pdy[i] * py[i] * (1 - py[i]) }
        }
    }

    public func dropout(_ x: Tensor, into y: Tensor, mask: Tensor, count: Int, rate: Float, seed: UInt64, stream: UInt64) {
        let px = x.hostPointer(as: Float.self), py = y.hostPointer(as: Float.self)
        let pm = mask.hostPointer(as: Float.self)
        let draw = DropoutDraw(rate: rate, seed: seed, stream: stream)
        parallelFor((count + 3) / 4, threads: threads, grain: 8192) { range in
            for j in range {
                let i = 4 * j, n = min(4, count - i), m = draw.mask(j)
                storeGroup(pm, i, n, m)
                storeGroup(py, i, n, loadGroup(px, i, n) * m)
            }
        }
    }

    // The dropout loops below are written out rather than shared through a closure: a per-group
    // closure call measured three times slower (swiftctr bench --profile).
    public func reluDropout(_ x: Tensor, bias: Tensor?, width: Int, into y: Tensor, count: Int, rate: Float, seed: UInt64,
                            stream: UInt64) {
        let px = x.hostPointer(as: Float.self), py = y.hostPointer(as: Float.self), pb = bias?.hostPointer(as: Float.self)
        let draw = DropoutDraw(rate: rate, seed: seed, stream: stream)
        parallelFor((count + 3) / 4, threads: threads, grain: 8192) { range in
            var column = (4 * range.lowerBound) % width
            for j in range {
                let i = 4 * j, n = min(4, count - i)
                let v = loadGroup(px, i, n) + biasGroup(pb, column, width, n)
                storeGroup(py, i, n, v.replacing(with: 0, where: v .< 0) * draw.mask(j))
                column = nextColumn(column, width)
            }
        }
    }

    public func reluDropoutBackward(_ x: Tensor, bias: Tensor?, width: Int, _ dy: Tensor, into dx: Tensor, count: Int,
                                    rate: Float, seed: UInt64, stream: UInt64) {
        let px = x.hostPointer(as: Float.self), pdy = dy.hostPointer(as: Float.self), pdx = dx.hostPointer(as: Float.self)
        let pb = bias?.hostPointer(as: Float.self)
        let draw = DropoutDraw(rate: rate, seed: seed, stream: stream)
        parallelFor((count + 3) / 4, threads: threads, grain: 8192) { range in
            var column = (4 * range.lowerBound) % width
            for j in range {
                let i = 4 * j, n = min(4, count - i)
                let v = loadGroup(px, i, n) + biasGroup(pb, column, width, n)
                storeGroup(pdx, i, n, (loadGroup(pdy, i, n) * draw.mask(j)).replacing(with: 0, where: v .<= 0))
                column = nextColumn(column, width)
            }
        }
    }

    public func multiply(_ a: Tensor, _ b: Tensor, into out: Tensor, count: Int) {
        let pa = a.hostPointer(as: Float.self), pb = b.hostPointer(as: Float.self)
        let po = out.hostPointer(as: Float.self)
        parallelFor(count, threads: threads) { range in
            for i in range { po[i] = pa[i] * pb[i] }
        }
    }

    // MARK: fused layers

    public func rowDot(_ a: Tensor, _ b: Tensor, rows: Int, width: Int, into out: Tensor) {
        let pa = a.hostPointer(as: Float.self), pb = b.hostPointer(as: Float.self), po = out.hostPointer(as: Float.self)
        parallelFor(rows, threads: threads, grain: max(1, 16_384 / max(width, 1))) { range in
            for r in range {
                let ra = pa + r * width, rb = pb + r * width
                var dot: Float = 0
                for k in 0..<width { dot += ra[k] * rb[k] }
                po[r] = dot
            }
        }
    }

    public func scaleRows(_ x: Tensor, scales: Tensor, stride: Int, offset: Int, bias: Tensor?, rows: Int, width: Int,
                          into out: Tensor) {
        let px = x.hostPointer(as: Float.self), ps = scales.hostPointer(as: Float.self)
        let pb = bias?.hostPointer(as: Float.self), po = out.hostPointer(as: Float.self)
        parallelFor(rows, threads: threads, grain: max(1, 16_384 / max(width, 1))) { range in
            for r in range {
                let scale = ps[r * stride + offset], rx = px + r * width, ro = po + r * width
                if let pb {
                    for k in 0..<width { ro[k] = rx[k] * scale + pb[k] }
                } else {
                    for k in 0..<width { ro[k] = rx[k] * scale }
                }
            }
        }
    }

    public func addScaledRows(_ src: Tensor, scales: Tensor, rows: Int, width: Int, into dst: Tensor) {
        let ps = src.hostPointer(as: Float.self), pc = scales.hostPointer(as: Float.self)
        let pd = dst.hostPointer(as: Float.self)
        for r in 0..<rows {
            let c = pc[r], rs = ps + r * width, rd = pd + r * width
            for k in 0..<width { rd[k] += c * rs[k] }
        }
    }

    public func prefixSumRows(_ x: Tensor, rows: Int, width: Int, into out: Tensor) {
        let px = x.hostPointer(as: Float.self), po = out.hostPointer(as: Float.self)
        po.update(repeating: 0, count: width)
        for r in 0..<rows {
            for k in 0..<width { po[(r + 1) * width + k] = po[r * width + k] + px[r * width + k] }
        }
    }

    public func crossScalars(d: Tensor, c: Tensor, rows: Int, layers: Int, into h: Tensor) {
        let pd = d.hostPointer(as: Float.self), pc = c.hostPointer(as: Float.self), ph = h.hostPointer(as: Float.self)
        for r in 0..<rows {
            let rd = pd + r * layers, rh = ph + r * (layers + 1)
            rh[0] = 1
            for l in 0..<layers { rh[l + 1] = rh[l] * (1 + rd[l]) + pc[l] }
        }
    }

    public func crossScalarsBackward(d: Tensor, h: Tensor, s: Tensor, rows: Int, layers: Int, e: Tensor, upstream: Tensor) {
        let pd = d.hostPointer(as: Float.self), ph = h.hostPointer(as: Float.self), ps = s.hostPointer(as: Float.self)
        let pe = e.hostPointer(as: Float.self), pu = upstream.hostPointer(as: Float.self)
        for r in 0..<rows {
            let rd = pd + r * layers, rh = ph + r * (layers + 1), re = pe + r * layers, ru = pu + r * layers
            var a = ps[r]
            for l in stride(from: layers - 1, through: 0, by: -1) {
                re[l] = a * rh[l]
                ru[l] = a
                a *= 1 + rd[l]
            }
        }
    }

    public func crossBiasGradients(g: Tensor, c: Tensor, weights: Tensor, layers: Int, width: Int, into db: Tensor) {
        let pg = g.hostPointer(as: Float.self), pc = c.hostPointer(as: Float.self)
        let pw = weights.hostPointer(as: Float.self), pdb = db.hostPointer(as: Float.self)
        // Walk down from the last layer so each row adds one more layer's term.
        var running = [Float](repeating: 0, count: width)
        for j in stride(from: layers - 1, through: 0, by: -1) {
            for k in 0..<width { pdb[j * width + k] = pg[k] + running[k] }
            for k in 0..<width { running[k] += pc[j] * pw[j * width + k] }
        }
    }

    public func interaction(x0: Tensor, emb: Tensor, into y: Tensor, batch: Int, features: Int, width: Int) {
        let p0 = x0.hostPointer(as: Float.self), pe = emb.hostPointer(as: Float.self)
        let py = y.hostPointer(as: Float.self)
        let n = features + 1, outWidth = width + n * (n - 1) / 2 + 1
        parallelFor(batch, threads: threads, grain: 8) { range in
            for b in range {
                let row = py + b * outWidth
                let dense = p0 + b * width, embRow = pe + b * features * width
                row.update(from: dense, count: width)
                func z(_ i: Int) -> UnsafeMutablePointer<Float> { i == 0 ? dense : embRow + (i - 1) * width }
                var index = width
                for j in 1..<n {
                    let zj = z(j)
                    for i in 0..<j {
                        let zi = z(i)
                        var dot: Float = 0
                        for k in 0..<width { dot += zi[k] * zj[k] }
                        row[index] = dot
                        index += 1
                    }
                }
                row[index] = 0
            }
        }
    }

    public func interactionBackward(x0: Tensor, emb: Tensor, dy: Tensor, dx0: Tensor, demb: Tensor,
                                    batch: Int, features: Int, width: Int) {
        let p0 = x0.hostPointer(as: Float.self), pe = emb.hostPointer(as: Float.self)
        let pdy = dy.hostPointer(as: Float.self)
        let pdx0 = dx0.hostPointer(as: Float.self), pde = demb.hostPointer(as: Float.self)
        let n = features + 1, outWidth = width + n * (n - 1) / 2 + 1
        parallelFor(batch, threads: threads, grain: 8) { range in
            for b in range {
                let g = pdy + b * outWidth
                let dense = p0 + b * width, embRow = pe + b * features * width
                let dDense = pdx0 + b * width, dEmb = pde + b * features * width
                dDense.update(from: g, count: width)
                dEmb.update(repeating: 0, count: features * width)
                func z(_ i: Int) -> UnsafeMutablePointer<Float> { i == 0 ? dense : embRow + (i - 1) * width }
                func dz(_ i: Int) -> UnsafeMutablePointer<Float> { i == 0 ? dDense : dEmb + (i - 1) * width }
                var index = width
                for j in 1..<n {
                    let zj = z(j), dzj = dz(j)
                    for i in 0..<j {
                        let gij = g[index]
                        index += 1
                        let zi = z(i), dzi = dz(i)
                        for k in 0..<width {
                            dzi[k] += gij * zj[k]
                            dzj[k] += gij * zi[k]
                        }
                    }
                }
            }
        }
    }

    public func binaryCrossEntropy(logits: Tensor, labels: Tensor, grad: Tensor, count: Int, rows: Int, gradScale: Float,
                                   loss: Tensor) {
        let px = logits.hostPointer(as: Float.self), py = labels.hostPointer(as: Float.self)
        let pg = grad.hostPointer(as: Float.self)
        var total = 0.0
        for i in 0..<count {
            let x = Double(px[i]), y = Double(py[i])
            total += x >= 0 ? x * (1 - y) + log1p(exp(-x)) : -x * y + log1p(exp(x))
            pg[i] = (stableSigmoid(px[i]) - py[i]) * gradScale
        }
        if rows > count { (pg + count).update(repeating: 0, count: rows - count) }
        loss.hostPointer(as: Float.self)[0] = count > 0 ? Float(total / Double(count)) : 0
    }

    // MARK: dense optimizers

    public func adam(weight: Tensor, grad: Tensor, m: Tensor, v: Tensor, count: Int, lr: Float,
                     beta1: Float, beta2: Float, epsilon: Float, step: Int, gradScale: Float) {
        let pw = weight.hostPointer(as: Float.self), pg = grad.hostPointer(as: Float.self)
        let pm = m.hostPointer(as: Float.self), pv = v.hostPointer(as: Float.self)
        let alpha = adamAlpha(lr: lr, beta1: beta1, beta2: beta2, step: step)
        parallelFor(count, threads: threads) { range in
            for i in range {
                adamElement(pw + i, pm + i, pv + i, pg[i] * gradScale, alpha, beta1, beta2, epsilon)
            }
        }
    }

    public func sgd(weight: Tensor, grad: Tensor, count: Int, lr: Float, gradScale: Float) {
        let pw = weight.hostPointer(as: Float.self), pg = grad.hostPointer(as: Float.self)
        let step = lr * gradScale
        parallelFor(count, threads: threads) { range in
            for i in range { pw[i] -= step * pg[i] }
        }
    }

    // MARK: embeddings

    public func hashLookup(_ table: HashTable, keys: Tensor, count: Int, rows: Tensor, insert: Bool) -> Bool {
        let pk = keys.hostPointer(as: Int64.self), pr = rows.hostPointer(as: Int64.self)
        let bucketKeys = table.keys.hostPointer(as: Int64.self)
        let bucketRows = table.rows.hostPointer(as: Int64.self)
        let mask = UInt64(table.bucketCount - 1)
        var size = table.size
        defer { table.size = size }
        for i in 0..<count {
            let key = pk[i]
            var b = Int(HashTable.mix(key) & mask)
            while true {
                let row = bucketRows[b]
                if row < 0 {
                    if !insert {
                        pr[i] = -1
                        break
                    }
                    if size >= table.capacity { return false }
                    bucketKeys[b] = key
                    bucketRows[b] = Int64(size)
                    pr[i] = Int64(size)
                    size += 1
                    break
                }
                if bucketKeys[b] == key {
                    pr[i] = row
                    break
                }
                b = (b + 1) & Int(mask)
            }
        }
        return true
    }

    public func hashTableState(_ table: HashTable) -> (size: Int, overflowed: Bool) {
        (table.size, false)
    }

    public func embeddingPool(values: Tensor, rows: Tensor, offsets: Tensor, segments: Int, vec: Int,
                              mean: Bool, into out: Tensor) {
        let pv = values.hostPointer(as: Float.self), pr = rows.hostPointer(as: Int64.self)
        let po = offsets.hostPointer(as: Int64.self), pout = out.hostPointer(as: Float.self)
        parallelFor(segments, threads: threads, grain: max(1, 16_384 / max(vec, 1))) { range in
            for s in range {
                let dst = pout + s * vec
                dst.update(repeating: 0, count: vec)
                let start = Int(po[s]), end = Int(po[s + 1])
                for j in start..<end {
                    let row = pr[j]
                    if row < 0 { continue }
                    let src = pv + Int(row) * vec
                    for k in 0..<vec { dst[k] += src[k] }
                }
                if mean && end - start > 1 {
                    let scale = 1 / Float(end - start)
                    for k in 0..<vec { dst[k] *= scale }
                }
            }
        }
    }

    public func embeddingGradients(dout: Tensor, rows: Tensor, offsets: Tensor, segments: Int, keyCount: Int, vec: Int,
                                   mean: Bool, uniqueRows: Tensor, uniqueGrads: Tensor, uniqueCount: Tensor,
                                   rowSlot: Tensor) {
        let pd = dout.hostPointer(as: Float.self), pr = rows.hostPointer(as: Int64.self)
        let po = offsets.hostPointer(as: Int64.self)
        let pu = uniqueRows.hostPointer(as: Int64.self), pg = uniqueGrads.hostPointer(as: Float.self)
        let slots = rowSlot.hostPointer(as: Int64.self)
        var unique = 0
        for s in 0..<segments {
            let start = Int(po[s]), end = Int(po[s + 1])
            if start == end { continue }
            let scale: Float = mean && end - start > 1 ? 1 / Float(end - start) : 1
            let src = pd + s * vec
            for j in start..<end {
                let row = Int(pr[j])
                if row < 0 { continue }
                var slot = Int(slots[row])
                if slot < 0 {
                    slot = unique
                    slots[row] = Int64(slot)
                    pu[slot] = Int64(row)
                    (pg + slot * vec).update(repeating: 0, count: vec)
                    unique += 1
                }
                let dst = pg + slot * vec
                for k in 0..<vec { dst[k] += scale * src[k] }
            }
        }
        uniqueCount.hostPointer(as: Int64.self)[0] = Int64(unique)
    }

    public func clearRowSlots(_ rowSlot: Tensor, uniqueRows: Tensor, uniqueCount: Tensor, maxCount: Int) {
        let slots = rowSlot.hostPointer(as: Int64.self), pu = uniqueRows.hostPointer(as: Int64.self)
        for j in 0..<min(maxCount, Int(uniqueCount.hostPointer(as: Int64.self)[0])) { slots[Int(pu[j])] = -1 }
    }

    public func sparseUpdate(_ update: SparseUpdate, values: Tensor, states: [Tensor], uniqueRows: Tensor,
                             uniqueGrads: Tensor, uniqueCount: Tensor, maxCount: Int, rowSlot: Tensor,
                             table: HashTable, vec: Int) {
        let count = min(maxCount, Int(uniqueCount.hostPointer(as: Int64.self)[0])), usedRows = table.size
        let pw = values.hostPointer(as: Float.self), pu = uniqueRows.hostPointer(as: Int64.self)
        let pg = uniqueGrads.hostPointer(as: Float.self)
        switch update {
        case let .sgd(lr, gradScale):
            let step = lr * gradScale
            parallelFor(count, threads: threads, grain: 1024) { range in
                for j in range {
                    let w = pw + Int(pu[j]) * vec, g = pg + j * vec
                    for k in 0..<vec { w[k] -= step * g[k] }
                }
            }
        case let .adamLocal(lr, beta1, beta2, epsilon, step, gradScale):
            let pm = states[0].hostPointer(as: Float.self), pv = states[1].hostPointer(as: Float.self)
            let alpha = adamAlpha(lr: lr, beta1: beta1, beta2: beta2, step: step)
            parallelFor(count, threads: threads, grain: 1024) { range in
                for j in range {
                    let base = Int(pu[j]) * vec, g = pg + j * vec
                    for k in 0..<vec {
                        let e = base + k
                        adamElement(pw + e, pm + e, pv + e, g[k] * gradScale, alpha, beta1, beta2, epsilon)
                    }
                }
            }
        case let .adamGlobal(lr, beta1, beta2, epsilon, step, gradScale):
            let pm = states[0].hostPointer(as: Float.self), pv = states[1].hostPointer(as: Float.self)
            let slots = rowSlot.hostPointer(as: Int64.self)
            let alpha = adamAlpha(lr: lr, beta1: beta1, beta2: beta2, step: step)
            parallelFor(usedRows, threads: threads, grain: 2048) { range in
                for row in range {
                    let slot = Int(slots[row]), base = row * vec
                    for k in 0..<vec {
                        let e = base + k, gk = slot >= 0 ? pg[slot * vec + k] * gradScale : 0
                        adamElement(pw + e, pm + e, pv + e, gk, alpha, beta1, beta2, epsilon)
                    }
                }
            }
        case let .adamLazyGlobal(lr, beta1, beta2, epsilon, step, gradScale):
            let pm = states[0].hostPointer(as: Float.self), pv = states[1].hostPointer(as: Float.self)
            let last = states[2].hostPointer(as: Int64.self)
            for j in 0..<count {
                let row = Int(pu[j]), base = row * vec, g = pg + j * vec
                let previous = last[row] == 0 ? 1 : Int(last[row])
                let skipped = step - previous
                last[row] = Int64(step)
                let t = Float(step)
                let alpha = lr / (1 - beta1) * (1 - Float.pow(beta2, t)).squareRoot()
                    / (1 - Float.pow(beta1, t)) * (1 - Float.pow(beta1, Float(skipped)))
                let decay1 = Float.pow(beta1, Float(skipped)), decay2 = Float.pow(beta2, Float(skipped))
                for k in 0..<vec {
                    let gk = g[k] * gradScale
                    pw[base + k] -= alpha * pm[base + k] / (pv[base + k].squareRoot() + epsilon)
                    pm[base + k] = decay1 * pm[base + k] + (1 - beta1) * gk
                    pv[base + k] = decay2 * pv[base + k] + (1 - beta2) * gk * gk
                }
            }
        }
    }
}

/// Dropout's mask for a group of four elements: one 64-bit hash gives four 16-bit draws, so the
/// CPU and the GPU draw the identical mask (0 or 1/(1−rate) per element).
struct DropoutDraw {
    let keep: SIMD4<Float>, threshold: SIMD4<UInt32>, seed: UInt64, stream: UInt64

    init(rate: Float, seed: UInt64, stream: UInt64) {
        keep = SIMD4(repeating: 1 / (1 - rate))
        threshold = SIMD4(repeating: UInt32(dropoutThreshold(rate)))
        self.seed = seed
        self.stream = stream
    }

    @inline(__always)
    func mask(_ group: Int) -> SIMD4<Float> {
        let bits = CounterRNG.hash(seed, stream, UInt64(group))
        let draws = SIMD4<UInt32>(UInt32(truncatingIfNeeded: bits & 0xFFFF), UInt32(truncatingIfNeeded: (bits >> 16) & 0xFFFF),
                                  UInt32(truncatingIfNeeded: (bits >> 32) & 0xFFFF), UInt32(truncatingIfNeeded: bits >> 48))
        return keep.replacing(with: 0, where: draws .< threshold)
    }
}

/// The column of the element four further on in rows `width` wide.
@inline(__always)
func nextColumn(_ column: Int, _ width: Int) -> Int {
    var next = column + 4
    while next >= width { next -= width }
    return next
}

/// Up to four floats from `p + i` (zeros past `n`).
@inline(__always)
func loadGroup(_ p: UnsafeMutablePointer<Float>, _ i: Int, _ n: Int) -> SIMD4<Float> {
    if n == 4 { return UnsafeRawPointer(p + i).loadUnaligned(as: SIMD4<Float>.self) }
    var v = SIMD4<Float>()
    for lane in 0..<n { v[lane] = p[i + lane] }
    return v
}

@inline(__always)
func storeGroup(_ p: UnsafeMutablePointer<Float>, _ i: Int, _ n: Int, _ v: SIMD4<Float>) {
    if n == 4 {
        UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: SIMD4<Float>.self)
    } else {
        for lane in 0..<n { p[i + lane] = v[lane] }
    }
}

/// The bias of four consecutive elements starting at column `column` of rows `width` wide.
@inline(__always)
func biasGroup(_ bias: UnsafeMutablePointer<Float>?, _ column: Int, _ width: Int, _ n: Int) -> SIMD4<Float> {
    guard let bias else { return SIMD4() }
    if n == 4 && column + 4 <= width { return UnsafeRawPointer(bias + column).loadUnaligned(as: SIMD4<Float>.self) }
    var v = SIMD4<Float>(), k = column
    for lane in 0..<n {
        v[lane] = bias[k]
        k = k + 1 == width ? 0 : k + 1
    }
    return v
}

/// One Adam step of one element with the bias-corrected step size `alpha`.
@inline(__always)
func adamElement(_ w: UnsafeMutablePointer<Float>, _ m: UnsafeMutablePointer<Float>, _ v: UnsafeMutablePointer<Float>,
                 _ g: Float, _ alpha: Float, _ beta1: Float, _ beta2: Float, _ epsilon: Float) {
    let mi = beta1 * m.pointee + (1 - beta1) * g
    let vi = beta2 * v.pointee + (1 - beta2) * g * g
    m.pointee = mi
    v.pointee = vi
    w.pointee -= alpha * mi / (vi.squareRoot() + epsilon)
}

@inline(__always)
func stableSigmoid(_ x: Float) -> Float {
    x >= 0 ? 1 / (1 + expf(-x)) : expf(x) / (1 + expf(x))
}

extension Float {
    static func pow(_ x: Float, _ y: Float) -> Float { powf(x, y) }
}
