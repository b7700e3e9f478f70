import CTRCore

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
