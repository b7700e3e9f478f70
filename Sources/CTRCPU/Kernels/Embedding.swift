import CTRCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Hash tables, one-hot indices, pooling, per-row gradients and sparse optimizer updates.
extension CPUBackend {
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

    public func oneHotLookup(_ index: OneHotIndex, keys: Tensor, offsets: Tensor, segments: Int, rows: Tensor) -> Bool {
        let pk = keys.hostPointer(as: Int64.self), po = offsets.hostPointer(as: Int64.self)
        let pr = rows.hostPointer(as: Int64.self), bounds = index.deviceBounds.hostPointer(as: Int64.self)
        let state = index.state.hostPointer(as: Int64.self), slots = index.slotSizes.count
        var inRange = true
        for g in 0..<segments {
            let slot = g % slots, low = bounds[slot], high = bounds[slot + 1]
            for j in Int(po[g])..<Int(po[g + 1]) {
                let key = pk[j]
                if key >= low && key < high {
                    pr[j] = key
                    continue
                }
                pr[j] = -1
                if state[1] == 0 { (state[1], state[2], state[3]) = (1, key, Int64(slot)) }
                inRange = false
            }
        }
        return inRange
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

    public func embeddingGradients(dout: Tensor, rows: Tensor, offsets: Tensor, segments: Int, slots: Int, keyCount: Int, vec: Int,
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
                             table: any EmbeddingRows, vec: Int) {
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
        case let .adaGrad(lr, epsilon, gradScale):
            let pa = states[0].hostPointer(as: Float.self)
            touchedElements(count, pu, vec) { e, j in adaGradElement(pw + e, pa + e, pg[j] * gradScale, lr, epsilon) }
        case let .momentumLocal(lr, factor, gradScale):
            let pm = states[0].hostPointer(as: Float.self)
            touchedElements(count, pu, vec) { e, j in momentumElement(pw + e, pm + e, pg[j] * gradScale, lr, factor) }
        case let .nesterovLocal(lr, mu, gradScale):
            let pm = states[0].hostPointer(as: Float.self)
            touchedElements(count, pu, vec) { e, j in nesterovElement(pw + e, pm + e, pg[j] * gradScale, lr, mu) }
        case let .momentumGlobal(lr, factor, gradScale):
            let pm = states[0].hostPointer(as: Float.self)
            usedElements(usedRows, rowSlot, vec) { e, j in
                momentumElement(pw + e, pm + e, j >= 0 ? pg[j] * gradScale : 0, lr, factor)
            }
        case let .nesterovGlobal(lr, mu, gradScale):
            let pm = states[0].hostPointer(as: Float.self)
            usedElements(usedRows, rowSlot, vec) { e, j in
                nesterovGlobalElement(pw + e, pm + e, j >= 0 ? pg[j] * gradScale : 0, lr, mu)
            }
        case let .ftrl(lr, beta, lambda1, lambda2, gradScale):
            guard lr != 0 else { return }
            let pn = states[0].hostPointer(as: Float.self), pz = states[1].hostPointer(as: Float.self)
            let l2 = lambda2 + beta / lr
            touchedElements(count, pu, vec) { e, j in ftrlElement(pw + e, pn + e, pz + e, pg[j] * gradScale, lr, lambda1, l2) }
        }
    }

    public var hasSparseFtrl: Bool { true }

    /// `body(e, j)` for element e of every touched row and j, its index into the unique gradients.
    private func touchedElements(_ count: Int, _ uniqueRows: UnsafeMutablePointer<Int64>, _ vec: Int,
                                 _ body: (Int, Int) -> Void) {
        parallelFor(count, threads: threads, grain: 1024) { range in
            for j in range {
                let base = Int(uniqueRows[j]) * vec
                for k in 0..<vec { body(base + k, j * vec + k) }
            }
        }
    }

    /// `body(e, j)` for element e of every used row; j indexes the unique gradients, or is -1 for
    /// an untouched row.
    private func usedElements(_ usedRows: Int, _ rowSlot: Tensor, _ vec: Int, _ body: (Int, Int) -> Void) {
        let slots = rowSlot.hostPointer(as: Int64.self)
        parallelFor(usedRows, threads: threads, grain: 2048) { range in
            for row in range {
                let slot = Int(slots[row]), base = row * vec
                for k in 0..<vec { body(base + k, slot >= 0 ? slot * vec + k : -1) }
            }
        }
    }
}

extension Float {
    static func pow(_ x: Float, _ y: Float) -> Float { powf(x, y) }
}
