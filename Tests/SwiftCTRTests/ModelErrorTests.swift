import Foundation
import SwiftCTR
import Testing

// Broken model definitions and broken data files: each must surface as a thrown error whose message
// names the culprit and what was expected, never as a crash.

// MARK: helpers

private let data1 = DataReaderSparseParam("data1", 1, true, 6)
private let standardInput = Input(labelDim: 1, labelName: "label", denseDim: 13, denseName: "dense",
                                  dataReaderSparseParamArray: [data1])
private let placeholderReader = DataReaderParams(dataReaderType: .norm, source: ["no_train_list.txt"],
                                                 evalSource: "no_eval_list.txt", checkType: .sum)

private func embedding(vecSize: Int = 8, workspace: Int = 1, combiner: String = "sum", name: String = "emb",
                       bottom: String = "data1", slotSizes: [Int] = [], optimizer: OptimizerParams? = nil) -> SparseEmbedding {
    SparseEmbedding(embeddingType: .distributedSlotSparseEmbeddingHash, workspaceSizePerGPUInMB: workspace,
                    embeddingVecSize: vecSize, combiner: combiner, sparseEmbeddingName: name, bottomName: bottom,
                    slotSizeArray: slotSizes, optimizer: optimizer)
}

private func layer(_ type: LayerType, _ bottoms: [String], _ top: String, numOutput: Int = 1, leadingDim: Int = 0,
                   timeStep: Int = 0, numLayers: Int = 0) -> DenseLayer {
    DenseLayer(type, bottomNames: bottoms, topNames: [top], numOutput: numOutput, numLayers: numLayers,
               leadingDim: leadingDim, timeStep: timeStep)
}

/// emb (6, 8) → flat (48) → fc (1) → BCE.
private let validLayers = [
    layer(.reshape, ["emb"], "flat", leadingDim: 48),
    layer(.innerProduct, ["flat"], "fc", numOutput: 1),
    layer(.binaryCrossEntropyLoss, ["fc", "label"], "loss"),
]

/// Builds a model from parts and compiles it; returns the message of the `SwiftCTRError` thrown by
/// `Model.init` or `compile()`. Records an issue when nothing, or another error type, is thrown.
private func compileError(solver: Solver = Solver(seed: 1, batchsizeEval: 64, batchsize: 64),
                          reader: DataReaderParams = placeholderReader,
                          optimizer: OptimizerParams = CreateOptimizer(),
                          input: Input? = standardInput, embeddings: [SparseEmbedding] = [embedding()],
                          layers: [DenseLayer] = validLayers,
                          sourceLocation: SourceLocation = #_sourceLocation) -> String {
    do {
        let model = try Model(solver, reader, optimizer)
        if let input { model.add(input) }
        embeddings.forEach(model.add)
        layers.forEach(model.add)
        try model.compile()
        Issue.record("expected a SwiftCTRError, but the model compiled", sourceLocation: sourceLocation)
        return ""
    } catch let error as SwiftCTRError {
        return error.message
    } catch {
        Issue.record("expected a SwiftCTRError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
        return ""
    }
}

/// A fresh folder under the temporary directory; the caller removes it.
private func errorScratch(_ name: String = #function) -> String {
    let folder = FileManager.default.temporaryDirectory
        .appendingPathComponent("swiftctr-errors-\(name.filter(\.isLetter))-\(UUID().uuidString)").path
    try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    return folder
}

/// A tiny generated dataset (600 train and 200 eval samples, 6 slots) in `folder`.
private func tinyDataset(_ folder: String, check: CheckType = .sum, nnz: Int = 1) throws -> GeneratedDataset {
    let config = SyntheticConfig(numTrain: 600, numEval: 200, slotSizes: [20, 30, 25, 40, 10, 15],
                                 nnzPerSlot: Array(repeating: nnz, count: 6), denseDim: 13, seed: 3,
                                 i64Keys: false, check: check)
    return try SyntheticGenerator.generate(config, into: folder)
}

/// A compiled model over the given lists (uint32 keys, batch 100).
private func compiledModel(train: String, eval: String, check: CheckType = .sum, input: Input = standardInput) throws -> Model {
    let reader = DataReaderParams(dataReaderType: .norm, source: [train], evalSource: eval, checkType: check)
    let model = try Model(Solver(seed: 1, maxEvalBatches: 2, batchsizeEval: 100, batchsize: 100), reader, CreateOptimizer())
    model.printsProgress = false
    model.add(input)
    model.add(embedding())
    validLayers.forEach(model.add)
    try model.compile()
    return model
}

/// The description of the error `body` throws (a `DataError` or a `SwiftCTRError`); "" and an
/// issue when it throws nothing or something else.
private func dataErrorText(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) -> String {
    do {
        try body()
        Issue.record("expected a DataError or SwiftCTRError, but nothing was thrown", sourceLocation: sourceLocation)
        return ""
    } catch let error as DataError {
        return error.description
    } catch let error as SwiftCTRError {
        return error.description
    } catch {
        Issue.record("expected a DataError or SwiftCTRError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
        return ""
    }
}

private func patch(_ path: String, at offset: Int, _ bytes: [UInt8]) throws {
    var data = try Data(contentsOf: URL(fileURLWithPath: path))
    data.replaceSubrange(offset ..< offset + bytes.count, with: bytes)
    try data.write(to: URL(fileURLWithPath: path))
}

private func fileSize(_ path: String) throws -> Int {
    (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
}

// MARK: tests

@Suite("Model errors")
struct ModelErrorTests {}

// MARK: model definitions

extension ModelErrorTests {
    @Suite("definitions")
    struct Definitions {
        @Test func duplicateTopName() {
            let message = compileError(layers: [
                layer(.reshape, ["emb"], "flat", leadingDim: 48),
                layer(.innerProduct, ["flat"], "fc", numOutput: 4),
                layer(.innerProduct, ["fc"], "fc", numOutput: 1),
                layer(.binaryCrossEntropyLoss, ["fc", "label"], "loss"),
            ])
            #expect(message.contains("layer 'fc' (InnerProduct)"))
            #expect(message.contains("top name 'fc' already exists"))
            #expect(message.contains("must be new"))
        }

        @Test func unknownBottom() {
            let message = compileError(layers: [
                layer(.reshape, ["emb"], "flat", leadingDim: 48),
                layer(.innerProduct, ["flatt"], "fc", numOutput: 1),
                layer(.binaryCrossEntropyLoss, ["fc", "label"], "loss"),
            ])
            #expect(message.contains("layer 'fc' (InnerProduct)"))
            #expect(message.contains("bottom 'flatt' is not defined"))
            // The list of known tensors helps spot the typo.
            #expect(message.contains("flat"))
            #expect(message.contains("Known tensors"))
        }

        @Test func inputAfterALayer() throws {
            let model = try Model(Solver(batchsize: 64), placeholderReader, CreateOptimizer())
            model.add(validLayers[0])
            model.add(standardInput)
            model.add(embedding())
            validLayers.dropFirst().forEach(model.add)
            let error = #expect(throws: SwiftCTRError.self) { try model.compile() }
            #expect(error?.message.contains("Input must be added first") == true)
        }

        @Test func inputMissing() {
            let message = compileError(input: nil)
            #expect(message.contains("no Input"))
            #expect(message.contains("add Input("))
        }

        @Test func twoInputs() throws {
            let model = try Model(Solver(batchsize: 64), placeholderReader, CreateOptimizer())
            model.add(standardInput)
            model.add(standardInput)
            model.add(embedding())
            validLayers.forEach(model.add)
            let error = #expect(throws: SwiftCTRError.self) { try model.compile() }
            #expect(error?.message.contains("Input was added twice") == true)
            #expect(error?.message.contains("exactly one Input") == true)
        }

        @Test func noLossLayer() {
            let message = compileError(layers: Array(validLayers.dropLast()))
            #expect(message.contains("no loss layer"))
            #expect(message.contains("binaryCrossEntropyLoss"))
            #expect(message.contains("\"label\""))
        }

        @Test func lossWithoutTheLabel() {
            let message = compileError(layers: [
                layer(.reshape, ["emb"], "flat", leadingDim: 48),
                layer(.innerProduct, ["flat"], "fc", numOutput: 1),
                layer(.innerProduct, ["flat"], "fc_other", numOutput: 1),
                layer(.binaryCrossEntropyLoss, ["fc", "fc_other"], "loss"),
            ])
            #expect(message.contains("layer 'loss' (BinaryCrossEntropyLoss)"))
            #expect(message.contains("[<logits>, \"label\"]"))
            #expect(message.contains("fc_other"))
        }

        @Test func denseLayerReadsSparseInput() {
            let message = compileError(layers: [
                layer(.innerProduct, ["data1"], "fc", numOutput: 1),
                layer(.binaryCrossEntropyLoss, ["fc", "label"], "loss"),
            ])
            #expect(message.contains("layer 'fc' (InnerProduct)"))
            #expect(message.contains("'data1' is a sparse input"))
            #expect(message.contains("SparseEmbedding"))
        }

        @Test func embeddingBottomIsNotASparseInput() {
            let message = compileError(embeddings: [embedding(bottom: "dense")])
            #expect(message.contains("SparseEmbedding 'emb'"))
            #expect(message.contains("bottom_name 'dense' is not a sparse input"))
            #expect(message.contains("data1"))
        }

        @Test func combinerMax() {
            let message = compileError(embeddings: [embedding(combiner: "max")])
            #expect(message.contains("SparseEmbedding 'emb'"))
            #expect(message.contains("\"sum\" or \"mean\""))
            #expect(message.contains("\"max\""))
        }

        @Test(arguments: [0, 2000])
        func embeddingVecSizeOutOfRange(vecSize: Int) {
            let message = compileError(embeddings: [embedding(vecSize: vecSize)])
            #expect(message.contains("SparseEmbedding 'emb'"))
            #expect(message.contains("embedding_vec_size must be in 1...1024"))
            #expect(message.contains("found \(vecSize)"))
        }

        @Test func noWorkspaceAndNoSlotSizes() {
            let message = compileError(embeddings: [embedding(workspace: 0)])
            #expect(message.contains("SparseEmbedding 'emb'"))
            #expect(message.contains("workspace_size_per_gpu_in_mb > 0 or slot_size_array"))
        }

        @Test func sixReadersOfOneTensor() {
            let readers = (0 ..< 6).map { layer(.relu, ["flat"], "relu\($0)") }
            let message = compileError(layers: [layer(.reshape, ["emb"], "flat", leadingDim: 48)] + readers + [
                layer(.innerProduct, ["relu0"], "fc", numOutput: 1),
                layer(.binaryCrossEntropyLoss, ["fc", "label"], "loss"),
            ])
            #expect(message.contains("tensor 'flat' is read by 6 layers"))
            #expect(message.contains("at most 5"))
        }

        @Test func fiveReadersAreAllowed() throws {
            let model = try Model(Solver(seed: 1, batchsizeEval: 64, batchsize: 64), placeholderReader, CreateOptimizer())
            model.add(standardInput)
            model.add(embedding())
            model.add(layer(.reshape, ["emb"], "flat", leadingDim: 48))
            for i in 0 ..< 4 { model.add(layer(.relu, ["flat"], "relu\(i)")) }
            model.add(layer(.innerProduct, ["flat"], "fc", numOutput: 1))
            model.add(layer(.binaryCrossEntropyLoss, ["fc", "label"], "loss"))
            try model.compile()
            #expect(model.summary().contains("flat_slice4"))
        }

        @Test func lossSeesAThreeDimensionalLogit() {
            // Reshape to (6, 8) per sample keeps 3D; InnerProduct then gives (6, 1) per sample.
            let message = compileError(layers: [
                layer(.reshape, ["emb"], "seq", leadingDim: 8, timeStep: 6),
                layer(.innerProduct, ["seq"], "fc", numOutput: 1),
                layer(.binaryCrossEntropyLoss, ["fc", "label"], "loss"),
            ])
            #expect(message.contains("layer 'loss' (BinaryCrossEntropyLoss)"))
            #expect(message.contains("'fc' (6, 1)"))
            #expect(message.contains("logits (batch, 1)"))
        }

        @Test func multiCrossOnThreeDimensionalInput() {
            let message = compileError(layers: [
                layer(.multiCross, ["emb"], "cross", numLayers: 2),
                layer(.reshape, ["cross"], "flat", leadingDim: 48),
                layer(.innerProduct, ["flat"], "fc", numOutput: 1),
                layer(.binaryCrossEntropyLoss, ["fc", "label"], "loss"),
            ])
            #expect(message.contains("layer 'cross' (MultiCross)"))
            #expect(message.contains("bottom 'emb' must be 2D"))
            #expect(message.contains("found 3D"))
            #expect(message.contains("(6, 8)"))
        }

        @Test func reshapeThatDoesNotDivide() {
            let message = compileError(layers: [
                layer(.reshape, ["emb"], "flat", leadingDim: 7),
                layer(.innerProduct, ["flat"], "fc", numOutput: 1),
                layer(.binaryCrossEntropyLoss, ["fc", "label"], "loss"),
            ])
            #expect(message.contains("layer 'flat' (Reshape)"))
            #expect(message.contains("= 7 must divide the 48 elements"))
        }

        @Test func solverBatchsizeZero() {
            let message = compileError(solver: Solver(batchsize: 0))
            #expect(message.contains("Solver: batchsize must be ≥ 1, found 0"))
        }

        @Test func solverScalerZero() {
            let message = compileError(solver: Solver(batchsize: 64, scaler: 0))
            #expect(message.contains("Solver: scaler must be > 0, found 0"))
        }

        @Test func emptyEvalSource() {
            let reader = DataReaderParams(dataReaderType: .norm, source: ["train.txt"], evalSource: "", checkType: .sum)
            let message = compileError(reader: reader)
            #expect(message.contains("eval_source is empty"))
        }

        @Test func lazyGlobalWithSGD() {
            let sgd = CreateOptimizer(optimizerType: .sgd, updateType: .lazyGlobal)
            let message = compileError(optimizer: sgd)
            #expect(message.contains("SparseEmbedding 'emb'"))
            #expect(message.contains("LazyGlobal works with Adam only"))
            #expect(message.contains("found SGD"))
        }

        @Test func unimplementedLayerType() throws {
            let missing = try #require(LayerType.allCases.first { !LayerFactory.available.contains($0) && !$0.isLoss },
                                       "every layer type is implemented")
            let message = compileError(layers: [
                layer(.reshape, ["emb"], "flat", leadingDim: 48),
                layer(missing, ["flat"], "missing1"),
                layer(.innerProduct, ["missing1"], "fc", numOutput: 1),
                layer(.binaryCrossEntropyLoss, ["fc", "label"], "loss"),
            ])
            #expect(message.contains("layer 'missing1' (\(missing.rawValue))"))
            #expect(message.contains("not implemented"))
            for available in LayerFactory.available {
                #expect(message.contains(available.rawValue))
            }
        }

        @Test func dropoutRateOne() {
            let message = compileError(layers: [
                layer(.reshape, ["emb"], "flat", leadingDim: 48),
                DenseLayer(.dropout, bottomNames: ["flat"], topNames: ["drop"], dropoutRate: 1),
                layer(.innerProduct, ["drop"], "fc", numOutput: 1),
                layer(.binaryCrossEntropyLoss, ["fc", "label"], "loss"),
            ])
            #expect(message.contains("layer 'drop' (Dropout)"))
            #expect(message.contains("dropout_rate must be in [0, 1), found 1"))
        }

        @Test func fitBeforeCompileAndFitWithoutIterations() throws {
            let model = try Model(Solver(seed: 1, batchsizeEval: 64, batchsize: 64), placeholderReader, CreateOptimizer())
            model.printsProgress = false
            model.add(standardInput)
            model.add(embedding())
            validLayers.forEach(model.add)
            let notCompiled = #expect(throws: SwiftCTRError.self) { try model.fit(maxIter: 10) }
            #expect(notCompiled?.message.contains("call compile() first") == true)
            try model.compile()
            let noIterations = #expect(throws: SwiftCTRError.self) { try model.fit(maxIter: 0) }
            #expect(noIterations?.message.contains("max_iter must be ≥ 1") == true)
            // The placeholder file list does not exist: the first batch read names it.
            let missingList = #expect(throws: DataError.self) { try model.fit(maxIter: 1) }
            #expect(missingList?.description.contains("no_train_list.txt") == true)
            #expect(missingList?.description.contains("file list not found") == true)
        }
    }
}

// MARK: data files

extension ModelErrorTests {
    @Suite("data files")
    struct DataFiles {
        @Test func truncatedDataFile() throws {
            let folder = errorScratch()
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let dataset = try tinyDataset(folder)
            let file = dataset.trainFiles[0]
            let size = try fileSize(file)
            let handle = try #require(FileHandle(forWritingAtPath: file))
            try handle.truncate(atOffset: UInt64(size - 30))
            try handle.close()
            let model = try compiledModel(train: dataset.trainList, eval: dataset.evalList)
            let text = dataErrorText { try model.fit(maxIter: 20, display: 0, evalInterval: 0) }
            #expect(text.contains("part_0.bin"))
            #expect(text.contains("truncated"))
            #expect(text.contains("record 599") || text.contains("ends after"))
        }

        @Test func headerSlotNumDisagreesWithInput() throws {
            let folder = errorScratch()
            defer { try? FileManager.default.removeItem(atPath: folder) }
            // Without checksums the header is plain: slot_num is the int64 at byte 32.
            let dataset = try tinyDataset(folder, check: .none)
            try patch(dataset.trainFiles[0], at: 32, [7, 0, 0, 0, 0, 0, 0, 0])
            let model = try compiledModel(train: dataset.trainList, eval: dataset.evalList, check: .none)
            let text = dataErrorText { try model.fit(maxIter: 2, display: 0, evalInterval: 0) }
            #expect(text.contains("part_0.bin"))
            #expect(text.contains("slot_num"))
            #expect(text.contains("expected 6"))
            #expect(text.contains("found 7"))
        }

        @Test func inputSlotCountDisagreesWithFile() throws {
            let folder = errorScratch()
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let dataset = try tinyDataset(folder)
            let fiveSlots = Input(labelDim: 1, labelName: "label", denseDim: 13, denseName: "dense",
                                  dataReaderSparseParamArray: [DataReaderSparseParam("data1", 1, true, 5)])
            let reader = DataReaderParams(dataReaderType: .norm, source: [dataset.trainList], evalSource: dataset.evalList,
                                          checkType: .sum)
            let model = try Model(Solver(seed: 1, batchsizeEval: 100, batchsize: 100), reader, CreateOptimizer())
            model.add(fiveSlots)
            model.add(embedding())
            model.add(layer(.reshape, ["emb"], "flat", leadingDim: 40))
            model.add(layer(.innerProduct, ["flat"], "fc"))
            model.add(layer(.binaryCrossEntropyLoss, ["fc", "label"], "loss"))
            try model.compile()
            let text = dataErrorText { _ = try model.evaluate() }
            #expect(text.contains("eval/part_0.bin"))
            #expect(text.contains("expected 5"))
            #expect(text.contains("found 6"))
        }

        @Test func checkTypeMismatch() throws {
            let folder = errorScratch()
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let dataset = try tinyDataset(folder, check: .none)
            let model = try compiledModel(train: dataset.trainList, eval: dataset.evalList, check: .sum)
            let text = dataErrorText { try model.fit(maxIter: 2, display: 0, evalInterval: 0) }
            #expect(text.contains("part_0.bin"))
            #expect(text.contains("check type Sum"))
            #expect(text.contains("expected 64"))
            #expect(text.contains("use check type None"))
        }

        @Test func badChecksumByte() throws {
            let folder = errorScratch()
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let dataset = try tinyDataset(folder)
            // Framed header: 4 + 64 + 1 bytes. Record 0: 4-byte length, then the label float; flip a
            // bit of the label so the stored checksum no longer matches.
            let file = dataset.trainFiles[0]
            var data = try Data(contentsOf: URL(fileURLWithPath: file))
            data[69 + 4] ^= 0x01
            try data.write(to: URL(fileURLWithPath: file))
            let model = try compiledModel(train: dataset.trainList, eval: dataset.evalList)
            let text = dataErrorText { try model.fit(maxIter: 2, display: 0, evalInterval: 0) }
            #expect(text.contains("part_0.bin"))
            #expect(text.contains("checksum mismatch in record 0"))
            #expect(text.contains("expected 0x"))
        }

        @Test func badChecksumInEvalFile() throws {
            let folder = errorScratch()
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let dataset = try tinyDataset(folder)
            let file = dataset.evalFiles[0]
            var data = try Data(contentsOf: URL(fileURLWithPath: file))
            data[data.count - 1] ^= 0xFF  // the checksum byte of the last record
            try data.write(to: URL(fileURLWithPath: file))
            let model = try compiledModel(train: dataset.trainList, eval: dataset.evalList)
            let text = dataErrorText { _ = try model.evaluate() }
            #expect(text.contains("eval/part_0.bin"))
            #expect(text.contains("checksum mismatch in record 199"))
        }

        @Test func missingFileInList() throws {
            let folder = errorScratch()
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let dataset = try tinyDataset(folder)
            let list = (folder as NSString).appendingPathComponent("broken_list.txt")
            try FileList.write([dataset.trainFiles[0], folder + "/train/part_9.bin"], to: list)
            let model = try compiledModel(train: list, eval: dataset.evalList)
            let text = dataErrorText { try model.fit(maxIter: 2, display: 0, evalInterval: 0) }
            #expect(text.contains("broken_list.txt"))
            #expect(text.contains("part_9.bin"))
            #expect(text.contains("line 3"))
            #expect(text.contains("does not exist"))
        }

        @Test func fileListWithoutCount() throws {
            let folder = errorScratch()
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let dataset = try tinyDataset(folder)
            let list = (folder as NSString).appendingPathComponent("no_count.txt")
            try "\(dataset.trainFiles[0])\n".write(toFile: list, atomically: true, encoding: .utf8)
            let model = try compiledModel(train: list, eval: dataset.evalList)
            let text = dataErrorText { try model.fit(maxIter: 2, display: 0, evalInterval: 0) }
            #expect(text.contains("no_count.txt"))
            #expect(text.contains("first line of a file list must be the number of files"))
            #expect(text.contains("expected an integer"))
        }

        @Test(arguments: [CheckType.none, .sum])
        func sampleWithTooManyKeys(check: CheckType) throws {
            let folder = errorScratch()
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let dataset = try tinyDataset(folder, check: check)
            // 3 samples; the third puts 7 keys into slot 2 while the Input allows 6 per sample.
            let path = (folder as NSString).appendingPathComponent("heavy.bin")
            let writer = try NormWriter(path: path, labelDim: 1, denseDim: 13, slotNum: 6, i64Keys: false, check: check)
            let dense = [Float](repeating: 0.5, count: 13)
            for _ in 0 ..< 2 { try writer.append(labels: [1], dense: dense, slots: (0 ..< 6).map { [Int64($0)] }) }
            try writer.append(labels: [0], dense: dense, slots: [[0], [1], Array(10 ..< 17), [3], [4], [5]])
            try writer.finish()
            let list = (folder as NSString).appendingPathComponent("heavy_list.txt")
            try FileList.write([path], to: list)
            let model = try compiledModel(train: list, eval: dataset.evalList, check: check)
            let text = dataErrorText { try model.fit(maxIter: 2, display: 0, evalInterval: 0) }
            #expect(text.contains("heavy.bin"))
            #expect(text.contains("record 2"))
            if check == .none {
                #expect(text.contains("'data1' has too many keys"))
                #expect(text.contains("at most 6"))
            } else {
                // With framing the record length gives it away before the keys are parsed.
                #expect(text.contains("frame length L"))
                #expect(text.contains("80...104 bytes"))
                #expect(text.contains("found 128"))
                #expect(text.contains("nnz_per_slot"))
            }
        }
    }
}

// MARK: hand-built batches

extension ModelErrorTests {
    /// `Model.train(batch:)` with a batch built by hand for `standardInput` (label 1, dense 13, 6
    /// one-key slots): each wrong field is named with what was expected and found.
    @Suite("hand-built batches")
    struct HandBuiltBatches {
        /// A valid batch of `count` samples: one key per slot.
        static func batch(count: Int = 4) -> Batch {
            Batch(count: count, labels: (0..<count).map { Float($0 % 2) }, dense: [Float](repeating: 0.5, count: count * 13),
                  sparse: [SparseBatch(rowOffsets: (0...count * 6).map(Int64.init), keys: (0..<count * 6).map { Int64($0 % 20) })])
        }

        /// The valid model over `standardInput`, compiled for batches of up to 64; no data files needed.
        static func model() throws -> Model {
            let model = try Model(Solver(seed: 1, batchsizeEval: 64, batchsize: 64), placeholderReader, CreateOptimizer())
            model.add(standardInput)
            model.add(embedding())
            validLayers.forEach(model.add)
            try model.compile()
            return model
        }

        /// The message of the `SwiftCTRError` that training on `batch` throws; "" and an issue otherwise.
        static func trainError(_ batch: Batch, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
            let model = try model()
            do {
                try model.train(batch: batch)
                Issue.record("expected a SwiftCTRError, but the batch trained", sourceLocation: sourceLocation)
                return ""
            } catch let error as SwiftCTRError {
                #expect(error.kind == .data, sourceLocation: sourceLocation)
                return error.message
            }
        }

        /// `trainError` for a valid batch whose one sparse input is replaced by these CSR rows.
        static func sparseError(offsets: [Int64], keyCount: Int, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
            var batch = batch()
            batch.sparse = [SparseBatch(rowOffsets: offsets, keys: (0..<keyCount).map(Int64.init))]
            return try trainError(batch, sourceLocation: sourceLocation)
        }

        @Test func validBatchTrains() throws {
            let model = try Self.model()
            try model.train(batch: Self.batch())
            #expect(model.currentLoss.isFinite && model.currentLoss > 0)
        }

        @Test(arguments: [0, 65])
        func sampleCountOutsideTheBatchSize(count: Int) throws {
            var batch = Self.batch(count: 4)
            batch.count = count
            let message = try Self.trainError(batch)
            #expect(message.contains("batch count must be 1...64"))
            #expect(message.contains("found \(count)"))
        }

        @Test func tooFewLabels() throws {
            var batch = Self.batch()
            batch.labels = HostArray(batch.labels.dropLast())
            let message = try Self.trainError(batch)
            #expect(message.hasPrefix("Model.train(batch:): "))
            #expect(message.contains("expected 4 label values (4 samples × label_dim 1), found 3"))
        }

        @Test func tooManyDenseValues() throws {
            var batch = Self.batch()
            batch.dense = HostArray(batch.dense + [1])
            let message = try Self.trainError(batch)
            #expect(message.contains("expected 52 dense values (4 samples × dense_dim 13), found 53"))
        }

        @Test func missingSparseInput() throws {
            var batch = Self.batch()
            batch.sparse = []
            let message = try Self.trainError(batch)
            #expect(message.contains("expected 1 sparse inputs ('data1', in the Input's order), found 0"))
            #expect(message.contains("one SparseBatch per DataReaderSparseParam"))
        }

        @Test func rowOffsetsOfTheWrongLength() throws {
            let message = try Self.sparseError(offsets: (0...20).map(Int64.init), keyCount: 20)
            #expect(message.contains("sparse input 'data1' needs 25 row offsets (4 samples × slot_num 6 + 1), found 21"))
        }

        @Test func rowOffsetsNotStartingAtZero() throws {
            let message = try Self.sparseError(offsets: (1...25).map(Int64.init), keyCount: 25)
            #expect(message.contains("the first row offset must be 0, found 1"))
        }

        @Test func decreasingRowOffsets() throws {
            var offsets = (0...24).map(Int64.init)
            offsets[5] = 2
            let message = try Self.sparseError(offsets: offsets, keyCount: 24)
            #expect(message.contains("row offsets must never decrease, found 2 at position 5 after 4"))
        }

        @Test func lastRowOffsetIsNotTheKeyCount() throws {
            let message = try Self.sparseError(offsets: (0...24).map(Int64.init), keyCount: 30)
            #expect(message.contains("the last row offset must equal the 30 keys, found 24"))
        }

        @Test func sampleWithMoreKeysThanMaxFeatureNum() throws {
            // Sample 1's first slot holds 2 keys: 7 keys where nnz_per_slot 1 × 6 slots allows 6.
            var offsets: [Int64] = [0]
            for row in 0..<24 { offsets.append(offsets.last! + (row == 6 ? 2 : 1)) }
            let message = try Self.sparseError(offsets: offsets, keyCount: 25)
            #expect(message.contains("sample 1 has 7 keys, more than its max_feature_num 6"))
            #expect(message.contains("Raise nnz_per_slot"))
        }
    }
}
