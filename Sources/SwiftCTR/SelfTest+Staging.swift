import CTRCore
import CTRData
import Foundation

extension BackendSelfTest {
    /// Batches decoded into the backend's host buffers (pinned memory on a GPU) and uploaded from
    /// them: a Norm file read by four reader threads, each batch's labels, dense values, keys and
    /// offsets uploaded (more uploads than staging slots, so buffers are recycled while copies
    /// run) and read back. The last value is 1 when a backend offering a pool did not get the
    /// batch buffers from it, so the device fails against the CPU's 0.
    static func stagingCases(seed: UInt64) -> [Case] {
        [Case(name: "reader batches in the backend's host buffers, uploaded", tolerance: 0) { bk in
            let layout = DataLayout(labelDim: 1, denseDim: 3, sparse: [SparseInputLayout(name: "s", slotNum: 2, maxNNZPerSample: 4)])
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swiftctr-staging-\(getpid())-\(seed)").path
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: folder) }
            var rng = CounterRNG(seed: seed, stream: 91)
            var list = "4\n"
            for f in 0..<4 {
                let path = folder + "/part\(f).data"
                let writer = try NormWriter(path: path, labelDim: 1, denseDim: 3, slotNum: 2, i64Keys: true, check: .sum)
                for _ in 0..<300 {
                    let nnz = [1 + Int(rng.next() % 2), 1 + Int(rng.next() % 2)]
                    try writer.append(labels: [Float(rng.next() % 2)], dense: (0..<3).map { _ in Float(rng.nextNormal()) },
                                      keys: (0..<nnz[0] + nnz[1]).map { _ in Int64(rng.next() % 1000) }, slotNNZ: nnz)
                }
                try writer.finish()
                list += path + "\n"
            }
            try list.write(toFile: folder + "/list.txt", atomically: true, encoding: .utf8)
            let reader = try BatchReader(fileList: folder + "/list.txt", format: .norm(check: .sum), layout: layout, i64Keys: true, batchSize: 64,
                                         repeat: false, numWorkers: 4, pool: bk.hostBufferPool)
            defer { reader.stop() }
            var values: [Double] = [], outsidePool = 0.0
            while let batch = try reader.next() {
                let sparse = batch.sparse[0]
                let pooled = [batch.labels.buffer, batch.dense.buffer, sparse.keys.buffer]
                if bk.hostBufferPool != nil, pooled.contains(where: { $0.pool == nil }) { outsidePool = 1 }
                let labels = bk.makeTensor([batch.labels.count], .float32), dense = bk.makeTensor([batch.dense.count], .float32)
                let keys = bk.makeTensor([sparse.keys.count], .int64), offsets = bk.makeTensor([sparse.rowOffsets.count], .int64)
                bk.upload(batch.labels, to: labels)
                bk.upload(batch.dense, to: dense)
                bk.upload(sparse.keys, to: keys)
                bk.upload(sparse.rowOffsets, to: offsets)
                values += bk.floats(labels).map(Double.init) + bk.floats(dense).map(Double.init)
                values += bk.int64s(keys).map(Double.init) + bk.int64s(offsets).map(Double.init)
            }
            return values + [outsidePool]
        }]
    }
}
