import CTRCore
import CTRData
import Foundation
import Testing

/// A pool of plain memory that counts what it hands out, standing in for a GPU's pinned pool.
private final class CountingPool: HostBufferPool, @unchecked Sendable {
    private let lock = NSLock()
    private var free: [Int: [UnsafeMutableRawPointer]] = [:]
    private(set) var taken = 0, given = 0, allocated = 0
    let declines: Bool

    init(declines: Bool = false) { self.declines = declines }

    var outstanding: Int { lock.withLock { taken - given } }

    func take(bytes: Int) -> UnsafeMutableRawPointer? {
        lock.withLock {
            guard !declines else { return nil }
            taken += 1
            if let p = free[bytes]?.popLast() { return p }
            allocated += 1
            return UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        }
    }

    func give(_ pointer: UnsafeMutableRawPointer, bytes: Int) {
        lock.withLock {
            given += 1
            free[bytes, default: []].append(pointer)
        }
    }
}

@Suite("Host buffers for batches")
struct HostBufferTests {
    static let layout = DataLayout(labelDim: 1, denseDim: 2, sparse: [SparseInputLayout(name: "s", slotNum: 3, maxNNZPerSample: 6)])

    /// Four Norm files of 250 samples with 1–2 keys per slot; returns the file list.
    static func dataset(_ folder: String) throws -> String {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var rng = CounterRNG(seed: 5, stream: 1)
        var list = "4\n"
        for f in 0..<4 {
            let path = folder + "/f\(f).data"
            let writer = try NormWriter(path: path, labelDim: 1, denseDim: 2, slotNum: 3, i64Keys: true, check: .sum)
            for _ in 0..<250 {
                let nnz = (0..<3).map { _ in 1 + Int(rng.next() % 2) }
                try writer.append(labels: [Float(rng.next() % 2)], dense: [Float(rng.nextNormal()), Float(rng.nextNormal())],
                                  keys: (0..<nnz.reduce(0, +)).map { _ in Int64(rng.next() % 500) }, slotNNZ: nnz)
            }
            try writer.finish()
            list += path + "\n"
        }
        try list.write(toFile: folder + "/list.txt", atomically: true, encoding: .utf8)
        return folder + "/list.txt"
    }

    static func readAll(_ list: String, pool: (any HostBufferPool)?) throws -> [Batch] {
        let reader = try BatchReader(fileList: list, format: .norm(check: .sum), layout: layout, i64Keys: true, batchSize: 64, repeat: false,
                                     numWorkers: 4, pool: pool)
        defer { reader.stop() }
        var batches: [Batch] = []
        while let batch = try reader.next() { batches.append(batch) }
        return batches
    }

    static func same(_ a: [Batch], _ b: [Batch]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { x, y in
            x.count == y.count && x.labels == y.labels && x.dense == y.dense
                && x.sparse[0].keys == y.sparse[0].keys && x.sparse[0].rowOffsets == y.sparse[0].rowOffsets
        }
    }

    @Test func readersDecodeIntoThePoolAndGiveEveryBufferBack() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swiftctr-hostbuf-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let list = try Self.dataset(folder)
        let plain = try Self.readAll(list, pool: nil)
        let pool = CountingPool()
        var pooled = try Self.readAll(list, pool: pool)
        #expect(pooled.count == 16)  // 1000 samples in batches of 64
        #expect(Self.same(plain, pooled))
        #expect(pooled.allSatisfy { $0.labels.buffer.pool === pool && $0.dense.buffer.pool === pool
            && $0.sparse[0].keys.buffer.pool === pool && $0.sparse[0].rowOffsets.buffer.pool === pool })
        #expect(plain.allSatisfy { $0.labels.buffer.pool == nil })
        #expect(pool.outstanding >= 4 * 16)
        pooled.removeAll()
        #expect(pool.outstanding == 0, "buffers still out: \(pool.outstanding)")
        // Buffers are recycled: a second pass takes most of its buffers from the first pass's. Label,
        // dense and offset buffers have fixed sizes; a key buffer grows with the keys its worker has
        // seen, and which worker reads which batch depends on timing, so a few key sizes are new.
        let (allocatedBefore, takenBefore) = (pool.allocated, pool.taken)
        _ = try Self.readAll(list, pool: pool)
        let fresh = pool.allocated - allocatedBefore, takes = pool.taken - takenBefore
        #expect(takes >= 4 * 16 && fresh * 2 <= takes, "\(fresh) new buffers for \(takes) taken")
    }

    @Test func aPoolThatDeclinesLeavesBatchesInPlainMemory() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swiftctr-hostbuf2-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let list = try Self.dataset(folder)
        let batches = try Self.readAll(list, pool: CountingPool(declines: true))
        #expect(Self.same(try Self.readAll(list, pool: nil), batches))
        #expect(batches.allSatisfy { $0.labels.buffer.pool == nil && $0.sparse[0].keys.buffer.pool == nil })
    }

    @Test func hostArraysReadLikeArrays() {
        let a: HostArray<Float> = [1, 2, 3]
        #expect(a == [1, 2, 3] && a.count == 3 && a[2] == 3 && Array(a[1...]) == [2, 3] && a.array == [1, 2, 3])
        #expect(HostArray<Int64>([]).isEmpty)
        #expect(a != HostArray([1, 2, 4]))
        let filled = HostArray<Int64>(count: 4, pool: nil) { for i in 0..<4 { $0[i] = Int64(i * i) } }
        #expect(filled == [0, 1, 4, 9])
    }
}
