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
}
