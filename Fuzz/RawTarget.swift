import CTRData
import Foundation

// Raw files (§3.4) through RawReader, with its worker threads: any bytes, under a layout, key
// width, label/dense type, sample count, batch size, worker count and start batch taken from the
// input's first bytes, either read into exactly the expected batches or refused with a DataError.

func fuzzTarget(_ input: inout FuzzInput) {
    let labelDim = input.int(1 ... 2), denseDim = input.int(0 ... 3)
    let sparse = (0 ..< input.int(1 ... 2)).map { k in
        SparseInputLayout(name: "s\(k)", slotNum: input.int(1 ... 3), maxNNZPerSample: input.int(0 ... 4))
    }
    let layout = DataLayout(labelDim: labelDim, denseDim: denseDim, sparse: sparse)
    let i64Keys = input.bool(), float = input.bool(), repeats = input.bool()
    let batchSize = input.int(1 ... 5), workers = input.int(1 ... 3), start = input.int(0 ... 3)
    // Usually the sample count that fits the file, sometimes one off or zero.
    let countShift = input.int(0 ... 7)
    let bytes = input.rest
    let stride = RawSampleLayout(layout: layout, i64Keys: i64Keys, floatLabelDense: float).stride
    let numSamples = bytes.count / stride + (countShift == 5 ? 1 : countShift == 6 ? -1 : 0) - (countShift == 7 ? bytes.count / stride : 0)
    let path = scratchFile("raw.bin", bytes)
    expectingDataErrors {
        let reader = try RawReader(path: path, layout: layout, i64Keys: i64Keys, numSamples: numSamples, floatLabelDense: float,
                                   batchSize: batchSize, repeat: repeats, numWorkers: workers, prefetch: 2, startingAt: start)
        defer { reader.stop() }
        let batches = (numSamples + batchSize - 1) / batchSize
        var index = start
        var read = 0
        while read < 2 * batches + 2, let batch = try reader.next() {
            let k = repeats ? index % batches : index
            require(k < batches, "batch \(k) of \(batches) handed out")
            require(batch.count == min(batchSize, numSamples - k * batchSize), "batch \(k) holds \(batch.count) samples")
            checkBatch(batch, layout: layout, maxCount: batchSize)
            for s in batch.sparse { require(s.isOneHot, "a Raw batch is one-hot") }
            index += 1
            read += 1
        }
        require(repeats || read == max(0, batches - start), "read \(read) batches of \(batches) from batch \(start)")
    }
}

func fuzzSeeds() -> [[UInt8]] {
    let path = scratchPath("seed.bin")
    var seeds: [[UInt8]] = []
    for (i64, float) in [(false, false), (true, true)] {
        guard let writer = try? RawWriter(path: path, labelDim: 1, denseDim: 2, slotNum: 3, i64Keys: i64, floatLabelDense: float) else { continue }
        for i in 0 ..< 7 {
            if float {
                try? writer.append(labels: [Float(i % 2)], dense: [0.5, Float(i)], keys: [Int64(i), 10, 20])
            } else {
                try? writer.append(labels: [Int32(i % 2)], dense: [Int32(i), -1], keys: [Int64(i), 10, 20])
            }
        }
        try? writer.finish()
        // label 1, dense 2, inputs (2 slots, capacity 2) and (1 slot, capacity 1); batches of 3, 2 workers.
        seeds.append(fuzzSeed([0, 2, 1, 1, 2, 0, 1, i64 ? 1 : 0, float ? 1 : 0, 0, 2, 1, 0, 0], fileBytes(path)))
    }
    return seeds
}
