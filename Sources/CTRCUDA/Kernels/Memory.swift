import CTRCore
import Dispatch

/// Memory: tensors from the pool, staged uploads, downloads, fills, copies, type conversion (and
/// the Cast layer's rounding conversion), column copies (Concat, Slice), and profiling marks.
extension CUDABackend {
    public func makeTensor(_ shape: Shape, _ dtype: DType) -> Tensor {
        let bytes = shape.count * dtype.size
        var address: CUdeviceptr = 0
        record {
            address = try pool.acquire(bytes)
            try device.memset(address, byte: 0, count: DevicePool.rounded(bytes), stream: stream)
        }
        return Tensor(shape: shape, dtype: dtype, storage: DeviceBuffer(address: address, byteCount: bytes, pool: pool))
    }

    /// Returns as soon as `bytes` sit in pinned memory; the copy itself overlaps earlier kernels.
    public func upload(_ bytes: UnsafeRawBufferPointer, to tensor: Tensor) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        stage(bytes.count, to: tensor) { host in
            let start = ContinuousClock.now
            Self.parallelCopy(to: host, from: base, bytes: bytes.count)
            stagingSeconds += (ContinuousClock.now - start).inSeconds
            return (UnsafeRawPointer(host), nil)
        }
    }

    /// A buffer a reader filled from `hostBufferPool` goes to the GPU as it is, without the copy
    /// into a staging slot; it stays alive until the copy ran.
    public func upload(_ buffer: HostBuffer, bytes: Int, to tensor: Tensor) {
        guard buffer.pool === pinned else {
            return upload(UnsafeRawBufferPointer(start: buffer.pointer, count: bytes), to: tensor)
        }
        guard bytes > 0 else { return }
        stage(bytes, to: tensor) { _ in (UnsafeRawPointer(buffer.pointer), buffer) }
    }

    /// One upload through the next staging slot: once the slot's last upload was consumed,
    /// `source` gives the pinned bytes to copy (given the slot's own pinned buffer) and what to
    /// keep alive; they go to the slot's device buffer on the copy stream, then (ordered on the
    /// compute stream) into `tensor`.
    private func stage(_ bytes: Int, to tensor: Tensor,
                       source: (UnsafeMutableRawPointer) -> (UnsafeRawPointer, HostBuffer?)) {
        let index = nextSlot
        nextSlot = (nextSlot + 1) % staging.count
        record {
            var slot = staging[index]
            if slot.inUse { try slot.consumed.synchronize() }
            if slot.capacity < bytes {
                if let host = slot.host { try device.freeHost(host) }
                pool.release(slot.device, bytes: slot.capacity)
                let capacity = max(bytes, 1 << 20)
                slot.host = try device.allocateHost(bytes: capacity)
                slot.device = try pool.acquire(capacity)
                slot.capacity = capacity
            }
            let (from, keep) = source(slot.host!)
            slot.retained = keep
            try device.copy(toDevice: slot.device, from: from, bytes: bytes, stream: copyStream)
            try slot.copied.record(on: copyStream)
            try stream!.wait(for: slot.copied)
            try device.copy(toDevice: address(tensor), fromDevice: slot.device, bytes: bytes, stream: stream)
            try slot.consumed.record(on: stream)
            slot.inUse = true
            staging[index] = slot
        }
    }

    /// Copies host memory with several threads: one thread moves a few GB/s, and a 64k-sample
    /// DCN batch (17 MB) copied by one thread took longer than the GPU's step.
    static func parallelCopy(to dst: UnsafeMutableRawPointer, from src: UnsafeRawPointer, bytes: Int) {
        let chunk = 1 << 21
        let pieces = min((bytes + chunk - 1) / chunk, 8)
        guard pieces > 1 else { return dst.copyMemory(from: src, byteCount: bytes) }
        let step = (bytes / pieces + 63) & ~63
        let to = Int(bitPattern: dst), from = Int(bitPattern: src)  // addresses cross threads as integers
        DispatchQueue.concurrentPerform(iterations: pieces) { i in
            let start = i * step, count = min(step, bytes - start)
            guard count > 0 else { return }
            UnsafeMutableRawPointer(bitPattern: to + start)!.copyMemory(from: UnsafeRawPointer(bitPattern: from + start)!,
                                                                          byteCount: count)
        }
    }

    public func download(_ tensor: Tensor, into bytes: UnsafeMutableRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        record {
            try device.copy(toHost: base, from: address(tensor), bytes: bytes.count, stream: stream)
            try stream!.synchronize()
        }
    }

    /// A 16-bit tensor takes zeros only (the one fill mixed precision needs); any other value is
    /// recorded as an error for `check()`.
    public func fill(_ tensor: Tensor, _ value: Float) {
        if tensor.dtype.size == 2 {
            return record {
                guard value == 0 else {
                    throw SwiftCTRError(.config, "fill of the \(tensor.dtype) tensor with \(value): 16-bit tensors are filled with 0 only. Fill an fp32 tensor and convert it instead.")
                }
                try device.memset(address(tensor), byte: 0, count: tensor.byteCount, stream: stream)
            }
        }
        record { try device.memset(address(tensor), word: value.bitPattern, count: tensor.count, stream: stream) }
    }

    public func fill(_ tensor: Tensor, int64 value: Int64) {
        launch("fill_i64", tensor.count, [.pointer(address(tensor)), .int64(value), .int64(Int64(tensor.count))])
    }

    public func copy(_ src: Tensor, to dst: Tensor) {
        record { try device.copy(toDevice: address(dst), fromDevice: address(src), bytes: src.byteCount, stream: stream) }
    }

    public func copyColumns(_ src: Tensor, srcWidth: Int, srcStart: Int, into dst: Tensor, dstWidth: Int, dstStart: Int,
                            rows: Int, width: Int, accumulate: Bool) {
        // Groups of four columns when every offset and both bases allow 4-element accesses.
        if [width, srcWidth, srcStart, dstWidth, dstStart].allSatisfy({ $0 % 4 == 0 }),
           [src, dst].allSatisfy({ address($0) % UInt64(4 * $0.dtype.size) == 0 }) {
            return launchRows("copy_columns4", rows: rows, width: width / 4, [
                .pointer(address(src)), code(src.dtype), .int32(Int32(srcWidth)), .int32(Int32(srcStart)),
                .pointer(address(dst)), code(dst.dtype), .int32(Int32(dstWidth)), .int32(Int32(dstStart)),
                .int64(Int64(rows)), .int32(Int32(width / 4)), .int32(accumulate ? 1 : 0),
            ])
        }
        launchRows("copy_columns", rows: rows, width: width, [
            .pointer(address(src)), code(src.dtype), .int32(Int32(srcWidth)), .int32(Int32(srcStart)),
            .pointer(address(dst)), code(dst.dtype), .int32(Int32(dstWidth)), .int32(Int32(dstStart)), .int64(Int64(rows)), .int32(Int32(width)),
            .int32(accumulate ? 1 : 0),
        ])
    }

    public func cast(_ x: Tensor, into y: Tensor, count: Int, precision: DType) {
        launch("cast_values", count, [.pointer(address(x)), code(x.dtype), .pointer(address(y)), code(y.dtype),
                                      code(precision), .int64(Int64(count))])
    }

    public func synchronize() {
        record { try stream!.synchronize() }
    }

    public func mark(_ label: String) {
        phaseLabel = label
        record { try appendMark(label) }
    }

    /// A mark before one kernel or GEMM of the current phase, when `kernelMarks` is on.
    func markKernel(_ name: @autoclosure () -> String) {
        guard kernelMarks, !markLabels.isEmpty else { return }
        record { try appendMark("\(phaseLabel) · \(name())") }
    }

    private func appendMark(_ label: String) throws {
        if markEvents.count == markLabels.count { markEvents.append(try device.makeEvent(timing: true)) }
        try markEvents[markLabels.count].record(on: stream)
        markLabels.append(label)
    }

    public func markedSpans() -> [(label: String, seconds: Double)] {
        defer { markLabels.removeAll(keepingCapacity: true) }
        var spans: [(label: String, seconds: Double)] = []
        record {
            guard let last = markEvents.prefix(markLabels.count).last else { return }
            try last.synchronize()
            for i in 0..<markLabels.count - 1 {
                spans.append((markLabels[i], Double(try markEvents[i + 1].milliseconds(since: markEvents[i])) / 1000))
            }
        }
        return spans
    }
}

extension KernelSource {
    /// `convert`: n elements between fp32/bf16/fp16 (reads and writes 2–8 bytes each); `cast_values`
    /// the same with a rounding step between (the Cast layer);
    /// `fill_i64`: 8 bytes written per element; `copy_columns`: a rows × width block of one
    /// matrix into (or added onto) columns of another, 2–4 bytes moved per element each way.
    static let memory = #"""
extern "C" __global__ void convert(const void* x, int xt, void* y, int yt, i64 n) {
    GRID_STRIDE(i, n) store_as(y, i, yt, load_as(x, i, xt));
}

// y = x read as type xt, rounded to type vt, written as type yt (the Cast layer).
extern "C" __global__ void cast_values(const void* x, int xt, void* y, int yt, int vt, i64 n) {
    GRID_STRIDE(i, n) {
        float v = load_as(x, i, xt);
        if (vt == 1) v = __uint_as_float((unsigned int)f32_to_bf16(v) << 16);
        else if (vt == 2) v = f16_to_f32(f32_to_f16(v));
        store_as(y, i, yt, v);
    }
}

extern "C" __global__ void fill_i64(i64* x, i64 v, i64 n) { GRID_STRIDE(i, n) x[i] = v; }

extern "C" __global__ void copy_columns(const void* src, int st, int srcW, int srcStart, void* dst, int dt, int dstW,
                                        int dstStart, i64 rows, int width, int accumulate) {
    ROWS_COLS(r, c, rows, width) {
        float v = load_as(src, r * srcW + srcStart + c, st);
        i64 d = r * dstW + dstStart + c;
        store_as(dst, d, dt, accumulate ? v + load_as(dst, d, dt) : v);
    }
}

// The same four columns at a time (widths and starts multiples of 4, bases aligned to 4 elements).
extern "C" __global__ void copy_columns4(const void* src, int st, int srcW, int srcStart, void* dst, int dt, int dstW,
                                         int dstStart, i64 rows, int quads, int accumulate) {
    ROWS_COLS(r, q, rows, quads) {
        float4 v = load4_as(src, (r * srcW + srcStart) / 4 + q, st);
        i64 d = (r * dstW + dstStart) / 4 + q;
        if (accumulate) {
            float4 o = load4_as(dst, d, dt);
            v.x += o.x; v.y += o.y; v.z += o.z; v.w += o.w;
        }
        store4_as(dst, d, dt, v);
    }
}
"""#
}
