import CTRData
import Foundation

// The Criteo TSV converter: any bytes, with a format, key mapping, thread count and chunk size
// taken from the input's first bytes, either converted into files that read back with one sample
// per line, identical to a one-thread conversion in one chunk, or refused with a DataError.

func fuzzTarget(_ input: inout FuzzInput) {
    var options = ConvertOptions()
    options.format = input.bool() ? .raw : .norm
    options.check = input.bool() ? .sum : .none
    options.i64Keys = input.bool()
    options.floatLabelDense = input.bool()
    let hash = input.int(0 ... 12)
    if hash >= 2 { options.hashSize = hash } else { options.minFrequency = 1 + hash }
    options.threads = input.int(1 ... 3)
    options.chunkBytes = input.int(1 ... 200)
    options.samplesPerFile = input.bool() ? input.int(1 ... 4) : nil
    let tsv = input.rest
    let path = scratchFile("in.tsv", tsv)
    let out = scratchPath("out")
    try? FileManager.default.removeItem(atPath: out)
    expectingDataErrors {
        let ds = try CriteoConverter.convert(input: path, into: out, options: options)
        let lines = tsv.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) } + (tsv.last.map { $0 != 0x0A ? 1 : 0 } ?? 0)
        require(ds.trainSamples == lines, "\(ds.trainSamples) samples from \(lines) lines")
        let layout = DataLayout(labelDim: 1, denseDim: 13, sparse: [SparseInputLayout(name: "d", slotNum: 26, maxNNZPerSample: 26)])
        let total = ds.slotSizeArray.reduce(0, +)
        var keys: [Int64] = []
        if options.format == .raw {
            let reader = try RawReader(path: ds.trainSource, layout: layout, i64Keys: options.i64Keys, numSamples: lines,
                                       floatLabelDense: options.floatLabelDense, batchSize: 7, repeat: false)
            while let b = try reader.next() { keys += b.sparse[0].keys }
        } else {
            for file in try FileList.read(ds.trainSource) {
                let f = try NormFile(path: file, layout: layout, i64Keys: options.i64Keys, check: options.check)
                while let b = try f.readBatch(maxCount: 7) { keys += b.sparse[0].keys }
            }
        }
        require(keys.count == 26 * lines && keys.allSatisfy { $0 >= 0 && $0 < Int64(total) }, "keys outside the slot sizes")
        // The same conversion on one thread in one chunk writes the same bytes.
        let first = outputBytes(ds)
        var single = options
        single.threads = 1
        single.chunkBytes = 1 << 20
        let again = try CriteoConverter.convert(input: path, into: out, options: single)
        require(outputBytes(again) == first, "the output depends on the thread count or chunk size")
    }
}

/// The training data files' bytes and the slot sizes JSON.
private func outputBytes(_ ds: ConvertedDataset) -> [UInt8] {
    let files = (try? FileList.read(ds.trainSource)) ?? [ds.trainSource]
    return files.flatMap(fileBytes) + fileBytes(ds.slotSizeFile)
}

func fuzzSeeds() -> [[UInt8]] {
    let row = (["1"] + (1 ... 13).map { $0 % 4 == 0 ? "" : "\($0 - 3)" } + (0 ..< 26).map { $0 % 5 == 0 ? "" : String($0 * 977, radix: 16) })
    let text = (0 ..< 4).map { _ in row.joined(separator: "\t") }.joined(separator: "\n") + "\n"
    // Norm with checksums and min frequency 2; Raw with int32 values and hashing into 7 keys.
    return [fuzzSeed([0, 1, 0, 0, 1, 1, 40, 0], Array(text.utf8)), fuzzSeed([1, 0, 0, 0, 7, 2, 90, 1, 1], Array(text.utf8))]
}
