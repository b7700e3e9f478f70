import Foundation

/// A run of whole lines of a text file, read by ``LineChunkPipeline``.
struct LineChunk {
    /// Position in the file's sequence of chunks.
    let index: Int
    /// The lines, each ended by `\n` except perhaps the file's last.
    let bytes: UnsafeRawBufferPointer
}

/// A malformed line found by a chunk's worker: its line number inside the chunk (1-based) and
/// what is wrong with it.
struct LineProblem: Error {
    let line: Int
    let message: String
}

/// Reads a text file in large chunks of whole lines on one thread, runs `work` on each chunk on
/// `threads` worker threads, and hands the results to `consume` on the calling thread in file
/// order. At most `2·threads + 2` chunks are in flight, so memory does not grow with the file.
/// The first error in file order (a worker's, `consume`'s or a read's) stops everything and is
/// thrown.
///
/// ```swift
/// try LineChunkPipeline.run(path: "day_0.tsv", chunkBytes: 4 << 20, threads: 8,
///                           work: { chunk, worker in countLines(chunk) },
///                           consume: { lines, bytesRead in total += lines })
/// ```
enum LineChunkPipeline {
    static func run<Result>(path: String, chunkBytes: Int, threads: Int,
                            work: @escaping @Sendable (LineChunk, Int) throws -> Result,
                            consume: (Result, Int) throws -> Void) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw DataError(file: path, FileManager.default.fileExists(atPath: path) ? "the input cannot be opened" : "the input file does not exist",
                            fix: "Check the path and the file's permissions.")
        }
        defer { try? handle.close() }
        let state = PipelineState<Result>(limit: 2 * threads + 2, threads: threads + 1)
        let reader = Thread { state.read(handle, path: path, chunkBytes: max(chunkBytes, 1)) }
        reader.start()
        for w in 0 ..< threads {
            let thread = Thread { state.work(worker: w, work) }
            thread.start()
        }
        defer { state.shutDown() }
        var next = 0
        while let (result, bytesRead) = try state.result(next) {
            try consume(result, bytesRead)
            next += 1
        }
    }
}

/// The chunks read and not yet worked on, the results not yet consumed, and the threads' count.
private final class PipelineState<Result>: @unchecked Sendable {
    private let condition = NSCondition()
    private let limit: Int
    private var pending: [(LineChunk, UnsafeMutableRawBufferPointer, Int)] = []
    private var done: [Int: (Swift.Result<Result, any Error>, UnsafeMutableRawBufferPointer, Int)] = [:]
    /// Chunks read so far; nil once the reader reached the end (or failed).
    private var readCount = 0
    private var total: Int?
    private var readError: (any Error)?
    private var consumed = 0
    private var stopped = false
    private var running: Int

    /// `threads`: the reader and the workers, each calling ``leave()`` as it ends.
    static var maxLineBytes: Int { 16 << 20 }

    init(limit: Int, threads: Int) {
        self.limit = limit
        running = threads
    }

    /// The reader thread: chunks of whole lines, the partial last line carried into the next chunk.
    func read(_ handle: FileHandle, path: String, chunkBytes: Int) {
        defer { leave() }
        var carry: [UInt8] = []
        var offset = 0
        while true {
            condition.lock()
            while !stopped && readCount - consumed >= limit { condition.wait() }
            let stop = stopped
            condition.unlock()
            if stop { return }
            let data: Data
            do {
                data = try handle.read(upToCount: chunkBytes) ?? Data()
            } catch {
                finishReading(error: DataError(file: path, offset: offset, "read failed: \(error)", fix: "Check the disk and the file's permissions."))
                return
            }
            if data.isEmpty && carry.isEmpty {
                finishReading(error: nil)
                return
            }
            var end = data.count
            if !data.isEmpty {
                // Everything after the last newline waits for the next chunk.
                while end > 0 && data[data.startIndex + end - 1] != UInt8(ascii: "\n") { end -= 1 }
                if end == 0 {
                    carry += data
                    offset += data.count
                    guard carry.count <= Self.maxLineBytes else {
                        finishReading(error: DataError(file: path, offset: offset - carry.count, "a line is longer than \(Self.maxLineBytes >> 20) MiB",
                                                       fix: "Check that the input is a text file with one sample per line."))
                        return
                    }
                    continue
                }
            }
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: carry.count + end, alignment: 16)
            carry.withUnsafeBytes { buffer.copyMemory(from: $0) }
            data.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: buffer[carry.count...]).copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[..<end])) }
            offset += data.count
            carry = data.isEmpty ? [] : [UInt8](data[(data.startIndex + end)...])
            condition.lock()
            pending.append((LineChunk(index: readCount, bytes: UnsafeRawBufferPointer(buffer)), buffer, offset - carry.count))
            readCount += 1
            condition.broadcast()
            condition.unlock()
            if data.isEmpty {
                finishReading(error: nil)
                return
            }
        }
    }

    private func finishReading(error: (any Error)?) {
        condition.lock()
        total = readCount
        readError = error
        condition.broadcast()
        condition.unlock()
    }

    /// A worker thread: takes chunks until the reader is done and nothing is pending.
    func work(worker: Int, _ body: (LineChunk, Int) throws -> Result) {
        defer { leave() }
        while true {
            condition.lock()
            while !stopped && pending.isEmpty && total == nil { condition.wait() }
            guard !stopped, !pending.isEmpty else {
                condition.unlock()
                return
            }
            let (chunk, buffer, bytesRead) = pending.removeFirst()
            condition.unlock()
            let result = Swift.Result { try body(chunk, worker) }
            condition.lock()
            done[chunk.index] = (result, buffer, bytesRead)
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Chunk `index`'s result and the input bytes read up to its end, waiting for it; nil after the last chunk.
    func result(_ index: Int) throws -> (Result, Int)? {
        condition.lock()
        defer { condition.unlock() }
        while done[index] == nil {
            if let total, index >= total {
                if let readError { throw readError }
                return nil
            }
            condition.wait()
        }
        let (result, buffer, bytesRead) = done.removeValue(forKey: index)!
        buffer.deallocate()
        consumed = index + 1
        condition.broadcast()
        return (try result.get(), bytesRead)
    }

    private func leave() {
        condition.lock()
        running -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Stops the threads, waits for them and frees the chunks left.
    func shutDown() {
        condition.lock()
        stopped = true
        condition.broadcast()
        while running > 0 { condition.wait() }
        for (_, buffer, _) in pending { buffer.deallocate() }
        for (_, buffer, _) in done.values { buffer.deallocate() }
        pending = []
        done = [:]
        condition.unlock()
    }
}
