import CTRCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Element-wise maps, activations and dropout.
extension CPUBackend {
    public func sum(_ inputs: [Tensor], into out: Tensor, count: Int) {
        let po = out.hostPointer(as: Float.self)
        let first = inputs[0].hostPointer(as: Float.self)
        if first != po { po.update(from: first, count: count) }
        for input in inputs.dropFirst() {
            let p = input.hostPointer(as: Float.self)
            for i in 0..<count { po[i] += p[i] }
        }
    }

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
}

@inline(__always)
func stableSigmoid(_ x: Float) -> Float {
    x >= 0 ? 1 / (1 + expf(-x)) : expf(x) / (1 + expf(x))
}
