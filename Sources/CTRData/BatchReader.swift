import CTRCore
import Foundation

/// Reads the Norm files of a file list into batches on background threads, `prefetch` batches ahead.
///
/// Worker `w` of `W` reads the files `w, w+W, …` of the list and batches continue across its file
/// boundaries; ``next()`` takes one batch from each worker in turn (§3.2), so with `W > 1` the
/// sample order is not the list order. Without `repeat`, each worker ends with its partial batch, if
/// any, and then ``next()`` returns nil; with `repeat`, every worker cycles through its files forever.
/// A problem found by a worker is thrown from ``next()`` after the batches that precede it.
/// `startingAt: n` continues where a reader that handed out n batches stopped (resuming a
/// snapshot): each worker skips whole files by their headers' record counts and parses only the
/// records before its first batch in its first file.
///
/// ```swift
/// let reader = try BatchReader(fileList: "data/train_list.txt", layout: layout, i64Keys: true,
///                              check: .sum, batchSize: 4096, repeat: false)
/// while let batch = try reader.next() { train(batch) }
/// ```
public final class BatchReader: BatchSource {
    public let files: [String]
    public let layout: DataLayout
    public let batchSize: Int

    private let shared: SharedQueues
    private var nextWorker = 0
    private var failure: (any Error)?

    public convenience init(fileList: String, layout: DataLayout, i64Keys: Bool, check: CheckType, batchSize: Int,
                            repeat repeats: Bool, numWorkers: Int = 1, prefetch: Int = 4, startingAt startBatch: Int = 0) throws {
        try self.init(fileList: fileList, format: .norm(check: check), layout: layout, i64Keys: i64Keys, batchSize: batchSize,
                      repeat: repeats, numWorkers: numWorkers, prefetch: prefetch, startingAt: startBatch)
    }

    /// Reads the files of `fileList` in `format`, which must be one of the file-list formats (Norm, Parquet).
    /// Batches are decoded into buffers from `pool` (a GPU backend's pinned memory) when given.
    public init(fileList: String, format: DataFormat, layout: DataLayout, i64Keys: Bool, batchSize: Int,
                repeat repeats: Bool, numWorkers: Int = 1, prefetch: Int = 4, startingAt startBatch: Int = 0,
                pool: (any HostBufferPool)? = nil) throws {
        try layout.validate()
        HostMemory.keepFreedBatches()
        guard batchSize >= 1 else {
            throw DataError("batch size must be at least 1", found: "\(batchSize)", fix: "Set batchsize to a positive value.")
        }
        let files = try FileList.read(fileList)
        guard numWorkers >= 1, numWorkers <= files.count else {
            throw DataError(file: fileList, "The number of data reader workers should be no greater than the number of files in the file list",
                            expected: "1...\(files.count) workers", found: "\(numWorkers)",
                            fix: "Set num_workers to at most \(files.count), or split the data into more files.")
        }
        // Header problems surface here, synchronously, rather than batches later.
        let records = try files.map { try format.openFile($0, layout: layout, i64Keys: i64Keys, firstFile: files[0]).remainingRecords }
        self.files = files
        self.layout = layout
        self.batchSize = batchSize
        let perWorker = max(1, (max(prefetch, 1) + numWorkers - 1) / numWorkers)
        shared = SharedQueues(workers: numWorkers, capacity: perWorker)
        let stripes = (0 ..< numWorkers).map { w in Array(stride(from: w, to: files.count, by: numWorkers)) }
        let samples = stripes.map { $0.reduce(0) { $0 + records[$1] } }
        var taken = Array(repeating: 0, count: numWorkers)
        nextWorker = Self.skip(startBatch, batches: samples.map { repeats ? Int.max : ($0 + batchSize - 1) / batchSize },
                               taken: &taken)
        for w in 0 ..< numWorkers {
            let skip = repeats && samples[w] > 0 ? taken[w] * batchSize % samples[w] : taken[w] * batchSize
            let job = WorkerJob(worker: w, files: stripes[w].map { files[$0] }, layout: layout, i64Keys: i64Keys,
                                format: format, firstFile: files[0], batchSize: batchSize, repeats: repeats, skipSamples: skip,
                                pool: pool)
            let shared = self.shared
            let thread = Thread { job.run(shared) }
            thread.name = "BatchReader worker \(w)"
            thread.start()
        }
    }

    deinit { stop() }

    /// Hands out `count` batches round robin as ``next()`` does, from workers holding `batches[w]`
    /// batches each; returns the worker of the next batch.
    private static func skip(_ count: Int, batches: [Int], taken: inout [Int]) -> Int {
        var worker = 0
        for _ in 0 ..< count {
            var tried = 0
            while taken[worker] >= batches[worker] && tried < batches.count {
                worker = (worker + 1) % batches.count
                tried += 1
            }
            guard tried < batches.count else { break }
            taken[worker] += 1
            worker = (worker + 1) % batches.count
        }
        return worker
    }

    /// The next batch, waiting for it if needed; nil at the end of the data (never when repeating).
    public func next() throws -> Batch? {
        try shared.next(from: &nextWorker, failure: &failure)
    }

    /// Stops the worker threads and waits until they have exited; ``next()`` then returns nil.
    public func stop() { shared.stop() }
}

/// The per-worker bounded queues, guarded by one condition variable; ``take(from:)`` collects
/// round robin (shared by ``BatchReader`` and ``RawReader``).
final class SharedQueues: @unchecked Sendable {
    enum Item {
        case batch(Batch)
        case end
        case failure(any Error)
    }

    private let condition = NSCondition()
    private let capacity: Int
    private var queues: [[Batch]]
    private var finished: [Bool]
    private var errors: [(any Error)?]
    private var stopped = false
    private var running: Int

    init(workers: Int, capacity: Int) {
        self.capacity = capacity
        queues = Array(repeating: [], count: workers)
        finished = Array(repeating: false, count: workers)
        errors = Array(repeating: nil, count: workers)
        running = workers
    }

    /// Blocks while the worker's queue is full; false once the reader is stopped.
    func push(_ batch: Batch, worker: Int) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while queues[worker].count >= capacity && !stopped { condition.wait() }
        guard !stopped else { return false }
        queues[worker].append(batch)
        condition.broadcast()
        return true
    }

    var isStopped: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopped
    }

    func finish(worker: Int, error: (any Error)?) {
        condition.lock()
        finished[worker] = true
        errors[worker] = error
        running -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// The next batch round robin from `worker`, nil at the end of the data. A worker's error is
    /// thrown after the batches before it, stops every worker, and is kept in `failure` to be
    /// thrown again by later calls.
    func next(from worker: inout Int, failure: inout (any Error)?) throws -> Batch? {
        if let failure { throw failure }
        switch take(from: &worker) {
        case .batch(let batch): return batch
        case .end: return nil
        case .failure(let error):
            failure = error
            stop()
            throw error
        }
    }

    /// Round robin from `worker`, skipping workers whose data has ended.
    func take(from worker: inout Int) -> Item {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if stopped { return .end }
            var exhausted = 0
            var w = worker
            while exhausted < queues.count, queues[w].isEmpty, finished[w], errors[w] == nil {
                exhausted += 1
                w = (w + 1) % queues.count
            }
            if exhausted == queues.count { return .end }
            worker = w
            if !queues[w].isEmpty {
                let batch = queues[w].removeFirst()
                worker = (w + 1) % queues.count
                condition.broadcast()
                return .batch(batch)
            }
            if let error = errors[w] { return .failure(error) }
            condition.wait()
        }
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        while running > 0 { condition.wait() }
        queues = queues.map { _ in [] }
        condition.unlock()
    }
}

/// What one worker thread reads: its stripe of the file list.
private struct WorkerJob: Sendable {
    let worker: Int
    let files: [String]
    let layout: DataLayout
    let i64Keys: Bool
    let format: DataFormat
    let firstFile: String
    let batchSize: Int
    let repeats: Bool
    /// Samples to pass over before the first batch (less than one pass when repeating).
    let skipSamples: Int
    let pool: (any HostBufferPool)?

    func run(_ shared: SharedQueues) {
        do {
            try produce(shared)
            shared.finish(worker: worker, error: nil)
        } catch {
            shared.finish(worker: worker, error: error)
        }
    }

    private func produce(_ shared: SharedQueues) throws {
        let acc = BatchAccumulator(layout: layout, capacity: batchSize, pool: pool)
        var samplesThisPass = 0
        var index = 0
        var skip = skipSamples
        while !shared.isStopped {
            if index == files.count {
                guard repeats else { break }
                guard samplesThisPass > 0 else {
                    throw DataError(file: files[0], "the files of reader worker \(worker) hold no samples, so repeating them cannot produce a batch",
                                    fix: "Put at least one sample in every worker's files, or use fewer workers.")
                }
                index = 0
                samplesThisPass = 0
            }
            let file = try format.openFile(files[index], layout: layout, i64Keys: i64Keys, firstFile: firstFile)
            index += 1
            if skip > 0 {
                let n = min(skip, file.remainingRecords)
                try file.skip(n)
                skip -= n
                samplesThisPass += n
            }
            while file.remainingRecords > 0 {
                samplesThisPass += try file.read(into: acc, upTo: batchSize - acc.count)
                if acc.count == batchSize {
                    guard shared.push(acc.take(), worker: worker) else { return }
                }
            }
        }
        if acc.count > 0 { _ = shared.push(acc.take(), worker: worker) }
    }
}
