import CTRData
import Foundation

// Norm files (§3.3) through NormFile: any bytes, under a layout, key width and check type taken
// from the input's first bytes, either read into valid batches or refused with a DataError.

/// The settings an input starts with.
private struct NormSettings {
    var layout: DataLayout
    var i64Keys: Bool
    var check: CheckType
    var batchSize: Int

    init(_ input: inout FuzzInput) {
        let labelDim = input.int(1 ... 2), denseDim = input.int(0 ... 3)
        let inputs = input.int(1 ... 2)
        let sparse = (0 ..< inputs).map { k in
            SparseInputLayout(name: "s\(k)", slotNum: input.int(1 ... 3), maxNNZPerSample: input.int(0 ... 5))
        }
        layout = DataLayout(labelDim: labelDim, denseDim: denseDim, sparse: sparse)
        i64Keys = input.bool()
        check = input.bool() ? .sum : .none
        batchSize = input.int(1 ... 5)
    }
}

func fuzzTarget(_ input: inout FuzzInput) {
    let settings = NormSettings(&input)
    let path = scratchFile("norm.bin", input.rest)
    expectingDataErrors {
        let file = try NormFile(path: path, layout: settings.layout, i64Keys: settings.i64Keys, check: settings.check)
        var samples = 0
        while let batch = try file.readBatch(maxCount: settings.batchSize) {
            checkBatch(batch, layout: settings.layout, maxCount: settings.batchSize)
            samples += batch.count
        }
        require(samples == Int(file.header.numberOfRecords), "read \(samples) of \(file.header.numberOfRecords) records")
    }
}

func fuzzSeeds() -> [[UInt8]] {
    // labelDim 1, dense 2, two inputs of (2 slots, capacity 3) and (1 slot, capacity 2), batches of 2.
    let layout: [UInt8] = [0, 2, 1, 1, 3, 0, 2]
    var seeds: [[UInt8]] = []
    for (i64, check) in [(false, CheckType.sum), (true, .none), (false, .none)] {
        let path = scratchPath("seed.bin")
        guard let writer = try? NormWriter(path: path, labelDim: 1, denseDim: 2, slotNum: 3, i64Keys: i64, check: check) else { continue }
        for i in 0 ..< 5 {
            let k = Int64(i)
            try? writer.append(labels: [Float(i % 2)], dense: [0.5, Float(i)], slots: [[k], [k + 1, k + 2], [k + 3]])
        }
        try? writer.finish()
        seeds.append(fuzzSeed(layout + [i64 ? 1 : 0, check == .sum ? 1 : 0, 1], fileBytes(path)))
    }
    return seeds
}
