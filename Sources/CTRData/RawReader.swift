import CTRCore
import Foundation

/// The byte layout of one legacy Raw sample (§3.4): `labelDim + denseDim` 4-byte values, float32
/// or int32, then one key per slot.
///
/// ```swift
/// let spec = RawSampleLayout(layout: layout, i64Keys: false, floatLabelDense: true)
/// spec.stride        // 4·(1 + 13) + 4·26 = 160 bytes for Criteo
/// ```
public struct RawSampleLayout: Equatable, Sendable {
    public let labelDim: Int
    public let denseDim: Int
    public let slotNum: Int
    /// 4 (uint32 keys) or 8 (int64 keys, `i64_input_key`).
    public let keyBytes: Int
    public let floatLabelDense: Bool

    public init(layout: DataLayout, i64Keys: Bool, floatLabelDense: Bool) {
        self.init(labelDim: layout.labelDim, denseDim: layout.denseDim, slotNum: layout.totalSlots,
                  i64Keys: i64Keys, floatLabelDense: floatLabelDense)
    }

    public init(labelDim: Int, denseDim: Int, slotNum: Int, i64Keys: Bool, floatLabelDense: Bool) {
        self.labelDim = labelDim
        self.denseDim = denseDim
        self.slotNum = slotNum
        keyBytes = i64Keys ? 8 : 4
        self.floatLabelDense = floatLabelDense
    }

    /// Bytes per sample.
    public var stride: Int { 4 * (labelDim + denseDim) + keyBytes * slotNum }
}

/// Reads a legacy Raw file (§3.4) through a memory map: batch `k` holds samples
/// `[k·B, min((k+1)·B, numSamples))` in file order, the last one possibly partial. Worker `w` of
/// `W` decodes the batches `w, w+W, …` and ``next()`` collects them round robin, so batches arrive
/// in file order; with `repeat` the batch index wraps modulo the number of batches (the partial
/// last batch recurs each pass). Int32 labels become floats and int32 dense values `x` become
/// `log(x + 1)`, as HugeCTR's reader does; float32 ones are taken as they are. `startingAt: n`
/// continues where a reader that handed out n batches stopped.
///
/// The file size must be exactly `numSamples × stride`, with the key width `i64Keys` gives (the
/// check HugeCTR makes). HugeCTR then parses 4-byte keys whatever `i64_input_key` says; this
/// reader parses the key width it checked, so an int64-key file reads correctly instead of as
/// shifted 32-bit words.
///
/// ```swift
/// let reader = try RawReader(path: "train_data.bin", layout: layout, i64Keys: false, numSamples: 36_672_493,
///                            floatLabelDense: false, batchSize: 65536, repeat: true, numWorkers: 12)
/// while let batch = try reader.next() { train(batch) }
/// ```
public final class RawReader: BatchSource {
    public let path: String
    public let sample: RawSampleLayout
    public let numSamples: Int
    public let batchSize: Int
    /// Batches in one pass over the file, the partial last one included.
    public let batchesPerPass: Int

    private let shared: SharedQueues
    private var nextWorker: Int
    private var failure: (any Error)?

    public init(path: String, layout: DataLayout, i64Keys: Bool, numSamples: Int, floatLabelDense: Bool,
                batchSize: Int, repeat repeats: Bool, numWorkers: Int = 1, prefetch: Int = 4,
                startingAt startBatch: Int = 0, pool: (any HostBufferPool)? = nil) throws {
        try layout.validate()
        HostMemory.keepFreedBatches()
        guard batchSize >= 1 else {
            throw DataError("batch size must be at least 1", found: "\(batchSize)", fix: "Set batchsize to a positive value.")
        }
        for input in layout.sparse where input.maxNNZPerSample < input.slotNum {
            throw DataError(file: path, "Raw samples hold one key per slot, more than sparse input '\(input.name)' can take",
                            expected: "a key capacity of at least slot_num = \(input.slotNum)", found: "\(input.maxNNZPerSample)",
                            fix: "Give DataReaderSparseParam '\(input.name)' nnz_per_slot ≥ 1.")
        }
        let sample = RawSampleLayout(layout: layout, i64Keys: i64Keys, floatLabelDense: floatLabelDense)
        let file = try MappedFile(path: path)
        try Self.checkSize(file.bytes.count, numSamples: numSamples, sample: sample, path: path)
        self.path = path
        self.sample = sample
        self.numSamples = numSamples
        self.batchSize = batchSize
        let batches = (numSamples + batchSize - 1) / batchSize
        batchesPerPass = batches
        let workers = max(1, min(numWorkers, batches))
        shared = SharedQueues(workers: workers, capacity: max(1, (max(prefetch, 1) + workers - 1) / workers))
        nextWorker = startBatch % workers
        let decoder = RawBatchDecoder(file: file, sample: sample, layout: layout, numSamples: numSamples, batchSize: batchSize,
                                      pool: pool)
        for w in 0 ..< workers {
            // The first index of worker w's sequence w, w+W, … at or after startBatch.
            let first = startBatch + (w - startBatch % workers + workers) % workers
            let job = RawWorkerJob(worker: w, workers: workers, first: first, batches: batches, repeats: repeats, decoder: decoder)
            let shared = self.shared
            let thread = Thread { job.run(shared) }
            thread.name = "RawReader worker \(w)"
            thread.start()
        }
    }

    deinit { stop() }

    /// Throws unless a file of `size` bytes holds exactly `numSamples` samples of `sample`.
    static func checkSize(_ size: Int, numSamples: Int, sample: RawSampleLayout, path: String) throws {
        let stride = sample.stride
        let fit = size % stride == 0 ? "; the file holds exactly \(size / stride) samples of this layout" : ""
        guard numSamples >= 1 else {
            throw DataError(file: path, "num_samples must give the exact number of samples of a Raw file",
                            expected: "num_samples ≥ 1 (eval_num_samples for the evaluation file)", found: "\(numSamples)\(fit)",
                            fix: "Set num_samples / eval_num_samples in DataReaderParams.")
        }
        let (expected, overflow) = numSamples.multipliedReportingOverflow(by: stride)
        guard overflow || expected != size else { return }
        var hint = "Set num_samples to the file's sample count, or fix label_dim, dense_dim and the slot counts"
        let other = RawSampleLayout(labelDim: sample.labelDim, denseDim: sample.denseDim, slotNum: sample.slotNum,
                                    i64Keys: sample.keyBytes == 4, floatLabelDense: sample.floatLabelDense)
        if size % other.stride == 0 && size / other.stride == numSamples {
            hint = "The size fits \(other.keyBytes)-byte keys: set i64_input_key \(other.keyBytes == 8 ? "true" : "false")"
        }
        throw DataError(file: path, "dataset key type and dataset size is not compatible: the file size is not num_samples × sample size",
                        expected: "\(numSamples) × \(stride) = \(overflow ? "more than Int.max" : "\(expected)") bytes (\(4 * (sample.labelDim + sample.denseDim)) label and dense bytes and \(sample.slotNum) keys of \(sample.keyBytes) bytes per sample)",
                        found: "\(size) bytes\(fit)", fix: hint + ".")
    }

    /// The next batch, waiting for it if needed; nil at the end of the data (never when repeating).
    public func next() throws -> Batch? {
        try shared.next(from: &nextWorker, failure: &failure)
    }

    /// Stops the worker threads and waits until they have exited; ``next()`` then returns nil.
    public func stop() { shared.stop() }
}

/// Turns a range of the mapped file into a `Batch`, writing each output array once through raw
/// pointers (no per-sample allocation).
struct RawBatchDecoder: Sendable {
    let file: MappedFile
    let sample: RawSampleLayout
    let layout: DataLayout
    let numSamples: Int
    let batchSize: Int
    /// Where the batches' buffers come from (a GPU backend's pinned memory); plain memory when nil.
    var pool: (any HostBufferPool)? = nil

    /// Batch `index` of a pass.
    func batch(_ index: Int) -> Batch {
        let first = index * batchSize
        let count = min(batchSize, numSamples - first)
        let stride = sample.stride
        let base = file.bytes.baseAddress! + first * stride
        let labels = values(base, count: count, stride: stride, offset: 0, width: sample.labelDim,
                            float: sample.floatLabelDense, logOfInt: false)
        let dense = values(base, count: count, stride: stride, offset: 4 * sample.labelDim, width: sample.denseDim,
                           float: sample.floatLabelDense, logOfInt: true)
        var slot = 0
        let keysStart = 4 * (sample.labelDim + sample.denseDim)
        let sparse = layout.sparse.map { input in
            let n = input.slotNum
            let offset = keysStart + slot * sample.keyBytes
            slot += n
            let keys = HostArray<Int64>(count: count * n, pool: pool) { o in
                if sample.keyBytes == 8 {
                    for i in 0 ..< count {
                        let p = base + i * stride + offset
                        for s in 0 ..< n { o[i * n + s] = Int64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * s, as: Int64.self)) }
                    }
                } else {
                    for i in 0 ..< count {
                        let p = base + i * stride + offset
                        for s in 0 ..< n { o[i * n + s] = Int64(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * s, as: UInt32.self))) }
                    }
                }
            }
            return SparseBatch(oneHotKeys: keys)
        }
        return Batch(count: count, labels: labels, dense: dense, sparse: sparse)
    }

    /// `width` 4-byte values at `offset` of each of `count` samples: float32 bit patterns, or
    /// int32 converted to float (and to `log(x + 1)` when `logOfInt`).
    private func values(_ base: UnsafeRawPointer, count: Int, stride: Int, offset: Int, width: Int,
                        float: Bool, logOfInt: Bool) -> HostArray<Float> {
        HostArray<Float>(count: count * width, pool: pool) { o in
            for i in 0 ..< count {
                let p = base + i * stride + offset
                for j in 0 ..< width {
                    let bits = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * j, as: UInt32.self))
                    if float {
                        o[i * width + j] = Float(bitPattern: bits)
                    } else {
                        let x = Float(Int32(bitPattern: bits))
                        o[i * width + j] = logOfInt ? log(x + 1) : x
                    }
                }
            }
        }
    }
}

/// One worker's sequence of batch indices `first, first+W, …`, wrapped per pass when repeating.
private struct RawWorkerJob: Sendable {
    let worker: Int
    let workers: Int
    let first: Int
    let batches: Int
    let repeats: Bool
    let decoder: RawBatchDecoder

    func run(_ shared: SharedQueues) {
        var i = first
        while !shared.isStopped && (repeats || i < batches) {
            guard shared.push(decoder.batch(i % batches), worker: worker) else { break }
            i += workers
        }
        shared.finish(worker: worker, error: nil)
    }
}
