import CTRCore

/// The MultiCross (DCN) and Interaction (DLRM) kernels.
extension CPUBackend {
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

    public func lowRankCross(x0: Tensor, h: Tensor, bias: Tensor, x: Tensor, rows: Int, width: Int, into out: Tensor,
                             outWidth: Int) {
        let p0 = x0.hostPointer(as: Float.self), ph = h.hostPointer(as: Float.self), px = x.hostPointer(as: Float.self)
        let pb = bias.hostPointer(as: Float.self), po = out.hostPointer(as: Float.self)
        parallelFor(rows, threads: threads, grain: max(1, 16_384 / max(width, 1))) { range in
            for r in range {
                let i = r * width, o = r * outWidth
                for c in 0..<outWidth { po[o + c] = p0[i + c] * (ph[i + c] + pb[c]) + px[i + c] }
            }
        }
    }

    public func lowRankCrossBackward(g: Tensor, gWidth: Int, x0: Tensor, h: Tensor, bias: Tensor, rows: Int, width: Int,
                                     s0: Tensor, dx: Tensor, accumulate: Bool, addG: Bool, gCopy: Tensor?,
                                     biasGrad: Tensor, partial: Tensor) {
        let pg = g.hostPointer(as: Float.self), p0 = x0.hostPointer(as: Float.self), ph = h.hostPointer(as: Float.self)
        let pb = bias.hostPointer(as: Float.self), ps = s0.hostPointer(as: Float.self), pd = dx.hostPointer(as: Float.self)
        let pc = gCopy?.hostPointer(as: Float.self)
        parallelFor(rows, threads: threads, grain: max(1, 16_384 / max(width, 1))) { range in
            for r in range {
                let i = r * width
                for c in 0..<width {
                    let gv = c < gWidth ? pg[r * gWidth + c] : 0
                    ps[i + c] = gv * p0[i + c]
                    let direct = gv * (ph[i + c] + pb[c]) + (addG ? gv : 0)
                    pd[i + c] = accumulate ? pd[i + c] + direct : direct
                    pc?[i + c] = gv
                }
            }
        }
        sumRows(s0, rows: rows, cols: width, into: biasGrad, accumulate: true)
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
}
