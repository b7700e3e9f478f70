import CTRCore

/// Memory: host tensors, copies and fills; every call has finished when it returns.
extension CPUBackend {
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

    public func cast(_ x: Tensor, into y: Tensor, count: Int, precision: DType) {
        let read = elementReader(x), write = elementWriter(y)
        parallelFor(count, threads: threads) { range in
            for i in range { write(i, roundedValue(read(i), to: precision)) }
        }
    }

    /// Element i of `t` as a Float, whatever its (floating) type.
    private func elementReader(_ t: Tensor) -> (Int) -> Float {
        switch t.dtype {
        case .float32: let p = t.hostPointer(as: Float.self); return { p[$0] }
        case .bfloat16: let p = t.hostPointer(as: UInt16.self); return { Float(bitPattern: UInt32(p[$0]) << 16) }
        case .float16: let p = t.hostPointer(as: Float16.self); return { Float(p[$0]) }
        default: preconditionFailure("cast: \(t) is not fp32, bf16 or fp16")
        }
    }

    /// Writes element i of `t`, rounded to its type.
    private func elementWriter(_ t: Tensor) -> (Int, Float) -> Void {
        switch t.dtype {
        case .float32: let p = t.hostPointer(as: Float.self); return { p[$0] = $1 }
        case .bfloat16: let p = t.hostPointer(as: UInt16.self); return { p[$0] = bfloat16Bits($1) }
        case .float16: let p = t.hostPointer(as: Float16.self); return { p[$0] = Float16($1) }
        default: preconditionFailure("cast: \(t) is not fp32, bf16 or fp16")
        }
    }
}

/// `v` rounded to the nearest value of `type` (fp32 keeps it), ties to even, as the GPU rounds.
@inline(__always)
func roundedValue(_ v: Float, to type: DType) -> Float {
    switch type {
    case .bfloat16: Float(bitPattern: UInt32(bfloat16Bits(v)) << 16)
    case .float16: Float(Float16(v))
    default: v
    }
}

/// The bf16 bits of `v`: round to nearest even; a NaN stays a (quiet) NaN.
@inline(__always)
func bfloat16Bits(_ v: Float) -> UInt16 {
    let u = v.bitPattern
    if u & 0x7fff_ffff > 0x7f80_0000 { return UInt16(u >> 16) | 0x40 }
    return UInt16((u &+ 0x7fff &+ ((u >> 16) & 1)) >> 16)
}
