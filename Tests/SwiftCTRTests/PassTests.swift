import CTRCore
import CTRLayers
@testable import SwiftCTR
import Testing

// The graph passes on small hand-made layer lists, then the compiled graph that builds their plan.

// MARK: helpers

/// A layer with one top and default parameters.
private func layer(_ type: LayerType, _ bottoms: [String], _ top: String) -> DenseLayer {
    DenseLayer(type, bottomNames: bottoms, topNames: [top])
}

/// A Reshape to rows of `leadingDim`, `timeStep` rows per sample when given.
private func reshape(_ bottom: String, _ top: String, leadingDim: Int, timeStep: Int = 0) -> DenseLayer {
    DenseLayer(.reshape, bottomNames: [bottom], topNames: [top], leadingDim: leadingDim, timeStep: timeStep)
}

/// dense → fc1 → relu1 → dropout1 → fc2 → loss.
private let mlp = [
    layer(.innerProduct, ["dense"], "fc1"),
    layer(.relu, ["fc1"], "relu1"),
    layer(.dropout, ["relu1"], "dropout1"),
    layer(.innerProduct, ["dropout1"], "fc2"),
    layer(.binaryCrossEntropyLoss, ["fc2", "label"], "loss"),
]

/// `layers` through the passes before mixed precision, in `GraphPasses`' order, without fan-out Slices.
private func fused(_ layers: [DenseLayer]) -> [PlannedLayer] {
    ReLUDropoutFusion.apply(ConcatFolding.apply(layers.map(PlannedLayer.init)))
}

/// `mlp` with `mid` between fc1 and relu1, read by an InnerProduct at the end.
private func withLayerAfterFC1(_ mid: DenseLayer) -> [DenseLayer] {
    var layers = mlp
    layers.insert(mid, at: 1)
    return layers + [layer(.innerProduct, [mid.name], "fcMid")]
}

private func plan(_ layers: [DenseLayer], halfType: DType? = nil) throws -> [PlannedLayer] {
    try GraphPasses.plan(layers, labelNames: ["label"], halfType: halfType)
}

private extension [PlannedLayer] {
    /// The planned layer that writes `top`.
    subscript(writing top: String) -> PlannedLayer? { first { $0.topNames.contains(top) } }
}

/// A compiled model of batch 16 over dense (13) and `data1` (6 slots, one key each) with
/// `embedding` and `layers`.
private func compiledModel(_ layers: [DenseLayer], embedding: SparseEmbedding) throws -> Model {
    let reader = DataReaderParams(dataReaderType: .norm, source: ["unused_train.txt"], evalSource: "unused_eval.txt",
                                  checkType: .sum)
    let model = try Model(Solver(seed: 1, batchsizeEval: 16, batchsize: 16), reader, CreateOptimizer())
    model.add(Input(labelDim: 1, labelName: "label", denseDim: 13, denseName: "dense",
                    dataReaderSparseParamArray: [DataReaderSparseParam("data1", 1, true, 6)]))
    model.add(embedding)
    layers.forEach(model.add)
    try model.compile()
    return model
}

// MARK: tests

@Suite("Graph passes")
struct PassTests {
    @Suite("FanOutSlices")
    struct FanOut {
        @Test func sliceGoesBeforeTheFirstReaderAndReadersTakeOneCopyEach() throws {
            let layers = [
                layer(.innerProduct, ["dense"], "fc1"),
                layer(.relu, ["fc1"], "relu1"),
                layer(.innerProduct, ["dense"], "fc2"),
                layer(.add, ["relu1", "fc2"], "sum"),
            ]
            let plan = try FanOutSlices.apply(layers, labelNames: ["label"])
            #expect(plan.map(\.spec.name) == ["dense_slice0", "fc1", "relu1", "fc2", "sum"])
            #expect(plan[0].spec.layerType == .slice)
            #expect(plan[0].spec.bottomNames == ["dense"])
            #expect(plan[0].topNames == ["dense_slice0", "dense_slice1"])
            #expect(plan.map(\.isFanOutSlice) == [true, false, false, false, false])
            #expect(plan[writing: "fc1"]?.bottomNames == ["dense_slice0"])
            #expect(plan[writing: "fc2"]?.bottomNames == ["dense_slice1"])
            #expect(plan[writing: "sum"]?.bottomNames == ["relu1", "fc2"])
        }

        @Test func labelAndSingleReadersAreLeftAlone() throws {
            let layers = [
                layer(.innerProduct, ["dense"], "fc1"),
                layer(.innerProduct, ["emb"], "fc2"),
                layer(.binaryCrossEntropyLoss, ["fc1", "label"], "loss1"),
                layer(.binaryCrossEntropyLoss, ["fc2", "label"], "loss2"),
            ]
            let plan = try FanOutSlices.apply(layers, labelNames: ["label"])
            #expect(plan.map(\.spec) == layers)
            #expect(!plan.contains { $0.isFanOutSlice })
        }

        @Test func tensorsFirstReadByTheSameLayerGetSlicesInReadOrder() throws {
            let layers = [
                layer(.innerProduct, ["dense"], "a"),
                layer(.innerProduct, ["emb"], "b"),
                layer(.add, ["b", "a"], "sum"),
                layer(.relu, ["a"], "ra"),
                layer(.relu, ["b"], "rb"),
            ]
            let plan = try FanOutSlices.apply(layers, labelNames: ["label"])
            #expect(plan.map(\.spec.name) == ["a", "b", "b_slice0", "a_slice0", "sum", "ra", "rb"])
            #expect(plan[writing: "sum"]?.bottomNames == ["b_slice0", "a_slice0"])
            #expect(plan[writing: "ra"]?.bottomNames == ["a_slice1"])
        }

        @Test(arguments: [2, FanOutSlices.maxReaders])
        func upToFiveReadersShareATensor(readers: Int) throws {
            let plan = try FanOutSlices.apply((0..<readers).map { layer(.relu, ["dense"], "relu\($0)") }, labelNames: ["label"])
            #expect(plan[0].topNames == (0..<readers).map { "dense_slice\($0)" })
            #expect(plan.dropFirst().map(\.bottomNames) == (0..<readers).map { ["dense_slice\($0)"] })
        }

        @Test func sixReadersAreAnError() {
            let error = #expect(throws: SwiftCTRError.self) {
                try FanOutSlices.apply((0..<6).map { layer(.relu, ["dense"], "relu\($0)") }, labelNames: ["label"])
            }
            #expect(error?.message.contains("tensor 'dense' is read by 6 layers; at most 5") == true)
        }

        @Test func aLayerNamingATensorTwiceReadsTwoCopies() throws {
            let plan = try FanOutSlices.apply([layer(.add, ["dense", "dense"], "twice")], labelNames: ["label"])
            #expect(plan[0].topNames == ["dense_slice0", "dense_slice1"])
            #expect(plan[1].bottomNames == ["dense_slice0", "dense_slice1"])
        }

        @Test func aTopNamedLikeAnImplicitSliceIsAnError() {
            let layers = [layer(.relu, ["dense"], "dense_slice1"), layer(.relu, ["dense"], "relu2")]
            let error = #expect(throws: SwiftCTRError.self) { try FanOutSlices.apply(layers, labelNames: ["label"]) }
            #expect(error?.message.contains("a layer already defines 'dense_slice1'. Rename that layer's top.") == true)
        }
    }

    @Suite("ConcatFolding")
    struct Folding {
        @Test func aConcatReadOnlyByAnInnerProductFolds() {
            let plan = ConcatFolding.apply([
                layer(.concat, ["emb", "dense"], "cat"), layer(.innerProduct, ["cat"], "fc"),
            ].map(PlannedLayer.init))
            #expect(plan.map(\.foldsIntoInnerProduct) == [true, false])
        }

        @Test func aConcatReadByTwoLayersDoesNotFold() throws {
            let layers = [
                layer(.concat, ["emb", "dense"], "cat"), layer(.innerProduct, ["cat"], "fc"), layer(.relu, ["cat"], "relu"),
            ]
            #expect(ConcatFolding.apply(layers.map(PlannedLayer.init))[0].foldsIntoInnerProduct == false)
            // With the fan-out Slice the Concat's one reader is that Slice.
            #expect(try plan(layers).contains { $0.foldsIntoInnerProduct } == false)
        }

        @Test func aConcatReadByAnotherLayerTypeDoesNotFold() {
            let plan = ConcatFolding.apply([
                layer(.concat, ["emb", "dense"], "cat"), layer(.multiCross, ["cat"], "cross"),
            ].map(PlannedLayer.init))
            #expect(plan.map(\.foldsIntoInnerProduct) == [false, false])
        }

        @Test(arguments: [
            ([[4, 3], [4, 5]], [1, 1], true),
            ([[4, 3], [4, 5], [4, 1]], [1, 1, 1], true),
            ([[4, 3]], [1], false),
            ([[4, 2, 3], [4, 2, 3]], [1, 1], false),
            ([[4, 3], [8, 3]], [1, 1], false),
            ([[8, 3], [8, 3]], [2, 1], false),
        ])
        func partsFoldWhenTwoDimensionalWithEqualRows(shapes: [[Int]], rowsPerSample: [Int], folds: Bool) {
            let parts = zip(shapes, rowsPerSample).enumerated().map { k, part in
                Variable(name: "x\(k)", shape: Shape(part.0), backend: TS.cpu, rowsPerSample: part.1)
            }
            #expect(ConcatFolding.canFold(parts) == folds)
        }
    }

    @Suite("ReLUDropoutFusion")
    struct Fusion {
        @Test func aReLUReadOnlyByTheNextDropoutFusesAndAddsTheBias() {
            let plan = fused(mlp)
            #expect(plan.map(\.spec.name) == ["fc1", "relu1", "fc2", "loss"])
            #expect(plan[1].fusedDropout == mlp[2])
            #expect(plan[1].topNames == ["dropout1"])
            #expect(plan[1].addsProducerBias)
            #expect(plan.filter { $0.fusedDropout != nil }.count == 1)
        }

        @Test func aReLUReadByTwoLayersIsNotFused() throws {
            let layers = mlp + [layer(.sigmoid, ["relu1"], "side")]
            #expect(fused(layers).map(\.spec) == layers)
            #expect(try plan(layers).contains { $0.fusedDropout != nil } == false)
        }

        @Test func aDropoutNotRightAfterItsReLUIsNotFused() {
            var layers = mlp
            layers.insert(layer(.innerProduct, ["dense"], "fc0"), at: 2)
            #expect(fused(layers).map(\.spec) == layers)
        }

        @Test(arguments: [(Float(0), true), (0.99, true), (1, false), (-0.5, false)])
        func onlyRatesBelowOneFuse(rate: Float, fuses: Bool) {
            var layers = mlp
            layers[2].dropoutRate = rate
            #expect((fused(layers)[1].fusedDropout != nil) == fuses)
        }

        @Test func theBiasStaysWhenTheInnerProductHasAnotherReader() {
            let plan = fused(mlp + [layer(.sigmoid, ["fc1"], "side")])
            #expect(plan[1].fusedDropout != nil)
            #expect(!plan[1].addsProducerBias)
        }

        @Test func thereIsNoBiasToAddWhenTheInputIsNotAnInnerProduct() {
            let plan = fused([layer(.relu, ["dense"], "relu1")] + mlp[2...])
            #expect(plan[0].fusedDropout != nil)
            #expect(!plan[0].addsProducerBias)
        }

        @Test(arguments: [(LayerType.concat, true), (.relu, false)])
        func theBiasIsAddedAcrossFoldingConcatsOnly(between: LayerType, adds: Bool) {
            let plan = fused(withLayerAfterFC1(layer(between, between == .concat ? ["emb", "other"] : ["emb"], "mid")))
            #expect(plan[writing: "mid"]?.foldsIntoInnerProduct == adds)
            #expect(plan[writing: "dropout1"]?.fusedDropout != nil)
            #expect(plan[writing: "dropout1"]?.addsProducerBias == adds)
        }
    }

    @Suite("MixedPrecisionTypes")
    struct MixedPrecision {
        @Test(arguments: [DType.bfloat16, .float16])
        func gemmFedTensorsAreHalf(half: DType) throws {
            let plan = try plan(mlp, halfType: half)
            #expect(plan.map(\.outputType) == [half, half, .float32, .float32])
            #expect(plan.map(\.halfType) == [half, nil, half, nil])
        }

        @Test func nothingIsHalfWithoutMixedPrecision() throws {
            let plan = try plan(mlp)
            #expect(plan.allSatisfy { $0.outputType == .float32 && $0.halfType == nil })
            #expect(plan[1].fusedDropout != nil)
        }

        @Test(arguments: [LayerType.sub, .reduceMean, .scale, .gather, .preluDice, .matrixMultiply, .gru])
        func layersHugeCTRBuildsInFP32OnlyAreRefused(type: LayerType) throws {
            let bottoms = type == .sub || type == .matrixMultiply ? ["fc1", "fc1b"] : ["fc1"]
            let layers = [layer(.innerProduct, ["dense"], "fc1"), layer(.innerProduct, ["dense"], "fc1b"),
                          layer(type, bottoms, "odd"), layer(.binaryCrossEntropyLoss, ["odd", "label"], "loss")]
            let error = #expect(throws: SwiftCTRError.self) { try plan(layers, halfType: .float16) }
            #expect(error?.message.contains("layer 'odd' (\(type.rawValue)): HugeCTR builds \(type.rawValue) in fp32 only") == true)
            #expect(error?.message.contains("Turn mixed precision off") == true)
            _ = try plan(layers)  // allowed in fp32
        }

        @Test func onlyTheMaskedSoftmaxIsRefused() throws {
            let plain = [layer(.softmax, ["dense"], "p"), layer(.binaryCrossEntropyLoss, ["p", "label"], "loss")]
            _ = try plan(plain, halfType: .bfloat16)
            let masked = [layer(.softmax, ["dense", "mask"], "p"), layer(.binaryCrossEntropyLoss, ["p", "label"], "loss")]
            let error = #expect(throws: SwiftCTRError.self) { try plan(masked, halfType: .bfloat16) }
            #expect(error?.message.contains("masked Softmax (two bottoms) in fp32 only") == true)
        }

        @Test func aFusedOutputReadByAnotherLayerTypeStaysFloat() throws {
            var layers = mlp
            layers[3] = layer(.sigmoid, ["dropout1"], "fc2")
            let plan = try plan(layers, halfType: .bfloat16)
            #expect(plan[writing: "dropout1"]?.outputType == .float32)
            #expect(plan[writing: "fc1"]?.outputType == .bfloat16)
        }

        @Test func aFusedOutputReadByTwoLayersStaysFloat() throws {
            let plan = try plan(mlp + [layer(.innerProduct, ["dropout1"], "side")], halfType: .bfloat16)
            #expect(plan[writing: "dropout1"]?.outputType == .float32)
        }

        @Test func aFusedOutputReadThroughAFoldingConcatIsHalf() throws {
            var layers = mlp
            layers.insert(layer(.concat, ["dropout1", "emb"], "cat"), at: 3)
            layers[4].bottomNames = ["cat"]
            let plan = try plan(layers, halfType: .bfloat16)
            #expect(plan[writing: "cat"]?.foldsIntoInnerProduct == true)
            #expect(plan[writing: "dropout1"]?.outputType == .bfloat16)
        }

        /// `dense` → MultiCross (v2 when `projection` > 0) → `reader` → loss.
        private func cross(projection: Int, reader: DenseLayer) -> [DenseLayer] {
            [DenseLayer(.multiCross, bottomNames: ["dense"], topNames: ["cross"], numLayers: 2, projectionDim: projection),
             reader, layer(.binaryCrossEntropyLoss, [reader.topNames[0], "label"], "loss")]
        }

        @Test func aMultiCrossV2OutputReadOnlyByGEMMsIsHalf() throws {
            let readers = [DenseLayer(.mlp, bottomNames: ["cross"], topNames: ["top"], numOutputs: [8, 1]),
                           layer(.innerProduct, ["cross"], "top")]
            for reader in readers {
                let mixed = try plan(cross(projection: 4, reader: reader), halfType: .bfloat16)
                let full = try plan(cross(projection: 4, reader: reader))
                #expect(mixed[writing: "cross"]?.outputType == .bfloat16)
                #expect(full[writing: "cross"]?.outputType == .float32)
            }
        }

        @Test func aConcatReadOnlyByAMultiCrossV2IsHalf() throws {
            let concat = layer(.concat, ["dense", "emb"], "cat")
            func crossOverConcat(projection: Int, alsoRead: Bool) -> [DenseLayer] {
                var layers = [concat] + cross(projection: projection, reader: layer(.innerProduct, ["cross"], "top"))
                layers[1].bottomNames = ["cat"]
                if alsoRead { layers.append(layer(.innerProduct, ["cat"], "side")) }
                return layers
            }
            let v2 = try plan(crossOverConcat(projection: 4, alsoRead: false), halfType: .bfloat16)
            #expect(v2[writing: "cat"]?.outputType == .bfloat16)
            #expect(v2[writing: "cross"]?.outputType == .bfloat16)
            #expect(try plan(crossOverConcat(projection: 4, alsoRead: false))[writing: "cat"]?.outputType == .float32)
            let v1 = try plan(crossOverConcat(projection: 0, alsoRead: false), halfType: .bfloat16)
            #expect(v1[writing: "cat"]?.outputType == .float32)
            let shared = try plan(crossOverConcat(projection: 4, alsoRead: true), halfType: .bfloat16)
            #expect(shared[writing: "cat"]?.outputType == .float32)
        }

        @Test func aMultiCrossV1OrOneReadByAnotherLayerTypeStaysFloat() throws {
            let mlp = DenseLayer(.mlp, bottomNames: ["cross"], topNames: ["top"], numOutputs: [8, 1])
            let v1 = try plan(cross(projection: 0, reader: mlp), halfType: .bfloat16)
            let sigmoid = try plan(cross(projection: 4, reader: layer(.sigmoid, ["cross"], "top")), halfType: .bfloat16)
            #expect(v1[writing: "cross"]?.outputType == .float32)
            #expect(sigmoid[writing: "cross"]?.outputType == .float32)
        }

        @Test func anInnerProductNotRightBeforeItsFusedReaderStaysFloat() throws {
            let plan = try plan(withLayerAfterFC1(layer(.concat, ["emb", "other"], "mid")), halfType: .bfloat16)
            #expect(plan[writing: "dropout1"]?.addsProducerBias == true)
            #expect(plan[writing: "fc1"]?.outputType == .float32)
        }
    }

    @Suite("SharedOperands")
    struct Shared {
        private static let data1 = DataReaderSparseParam("data1", 1, true, 6)

        @Test func aConcatReadByCrossV2AndAnInnerProductIsShared() throws {
            let (_, v2) = Recipes.dcn(sparseInput: Self.data1, vecSize: 8, workspaceMB: 1, crossLayers: 2, crossProjectionDim: 4)
            let p = try plan(v2, halfType: .bfloat16)
            #expect(p[writing: "concat1"]?.sharesOperand == true)
            #expect(p.first { $0.isFanOutSlice }?.sharesOperand == true)
            #expect(p.filter(\.sharesOperand).count == 2)
        }

        /// Padded to 8 (as on a GPU): the operand holds each row's columns, then zeros; `unpadded`
        /// gives the Concat's rows back.
        @Test func thePaddedOperandHoldsTheRowsThenZeros() throws {
            let a = TS.variable("a", [3, 5], (0..<15).map(Float.init)), b = TS.variable("b", [3, 2], [-1, -2, -3, -4, -5, -6])
            let concat = SharedOperandConcat(name: "cat", inputs: [a, b], alignment: 8, type: .float32, backend: TS.cpu)
            concat.forward(StepContext(batch: 3, training: true, iteration: 0, seed: 1))
            #expect(concat.operand.paddedWidth == 8)
            let padded = TS.floats(concat.operand.value)
            #expect(Array(padded[0..<8]) == [0, 1, 2, 3, 4, -1, -2, 0])
            #expect(concat.operand.unpadded(padded, rows: 3) == [0, 1, 2, 3, 4, -1, -2, 5, 6, 7, 8, 9, -3, -4, 10, 11, 12, 13, 14, -5, -6])
        }

        @Test func otherReadersKeepTheSlice() throws {
            // DCN v1's MultiCross reads no shared operand.
            let (_, v1) = Recipes.dcn(sparseInput: Self.data1, vecSize: 8, workspaceMB: 1, crossLayers: 2)
            #expect(try plan(v1).allSatisfy { !$0.sharesOperand })
            // A ReLU beside the InnerProduct.
            let layers = [
                reshape("emb", "flat", leadingDim: 48), layer(.concat, ["flat", "dense"], "cat"),
                layer(.innerProduct, ["cat"], "fc1"), layer(.relu, ["cat"], "relu1"),
                layer(.concat, ["fc1", "relu1"], "cat2"), layer(.innerProduct, ["cat2"], "fc2"),
                layer(.binaryCrossEntropyLoss, ["fc2", "label"], "loss"),
            ]
            #expect(try plan(layers).allSatisfy { !$0.sharesOperand })
        }

        /// DCN v2 trains the same with the shared operand as with an explicit Slice (which the pass
        /// leaves alone) feeding the two readers.
        @Test func theSharedOperandComputesWhatTheSliceDid() throws {
            let (embedding, v2) = Recipes.dcn(sparseInput: Self.data1, vecSize: 8, workspaceMB: 1, crossLayers: 2,
                                              crossProjectionDim: 4, deepWidth: 16, dropoutRate: 0)
            var sliced = v2
            let concat = sliced.firstIndex { $0.name == "concat1" }!
            sliced.insert(DenseLayer(.slice, bottomNames: ["concat1"], topNames: ["c0", "c1"], ranges: [[0, 61], [0, 61]]),
                          at: concat + 1)
            for i in sliced.indices where sliced[i].bottomNames == ["concat1"] && sliced[i].layerType != .slice {
                sliced[i].bottomNames = [sliced[i].layerType == .multiCross ? "c0" : "c1"]
            }
            let batches = BackendSelfTest.smallBatches(4, size: 16, dense: 13, slots: 6, keys: 40, seed: 5, stream: 1)
            func losses(_ layers: [DenseLayer]) throws -> (losses: [Float], shared: Bool) {
                let model = try compiledModel(layers, embedding: embedding)
                let shared = try #require(model.graph).layers.contains { $0 is SharedOperandConcat }
                try model.train(batch: batches[0])
                // check_out_tensor reads the Concat's rows whether it was shared or not.
                let (shape, joined) = try model.checkOutTensor("concat1", .train)
                let embedded = try model.checkOutTensor("sparse_embedding1", .train).values
                let dense = try model.checkOutTensor("dense", .train).values
                #expect(shape == [16, 61])
                var expected: [Float] = []
                for row in 0..<16 {
                    expected += embedded[row * 48..<(row + 1) * 48]
                    expected += dense[row * 13..<(row + 1) * 13]
                }
                #expect(joined == expected)
                // graph_to_json still writes the fan-out Slice HugeCTR inserts, with the width.
                let json = try model.graphJSON().serialized()
                #expect(json.contains("concat1_slice0") == shared)
                if shared { #expect(json.filter { $0 != " " && $0 != "\n" }.contains("[0,61]")) }
                return (try batches.map { try model.train(batch: $0); return model.currentLoss }, shared)
            }
            let (withShared, usedShared) = try losses(v2), (withSlice, usedSlice) = try losses(sliced)
            #expect(usedShared && !usedSlice)
            #expect(withShared[0] == withSlice[0])
            for (a, b) in zip(withShared, withSlice) { #expect(abs(a - b) <= 1e-5 * (1 + abs(b))) }
        }
    }

    @Suite("Construction from the plan")
    struct Construction {
        private static let data1 = DataReaderSparseParam("data1", 1, true, 6)

        /// The layers `CompiledGraph` builds for `layers` over dense (13) and `embedding` (6 × 8).
        private func built(_ layers: [DenseLayer], embedding: SparseEmbedding = SparseEmbedding(
            embeddingType: .distributedSlotSparseEmbeddingHash, workspaceSizePerGPUInMB: 1, embeddingVecSize: 8,
            combiner: "sum", sparseEmbeddingName: "emb", bottomName: "data1")) throws -> [any Layer] {
            try #require(compiledModel(layers, embedding: embedding).graph).layers
        }

        @Test func theDCNSampleIsBuiltFused() throws {
            let (embedding, dcn) = Recipes.dcn(sparseInput: Self.data1, vecSize: 8, workspaceMB: 1, crossLayers: 1,
                                               deepWidth: 16)
            let layers = try built(dcn, embedding: embedding)
            #expect(layers.map(\.name) == ["reshape1", "concat1", "concat1_slice0", "multicross1", "fc1", "dropout1",
                                           "fc2", "dropout2", "fc3", "loss"])
            let fc1 = try #require(layers[4] as? InnerProduct), fc3 = try #require(layers[8] as? InnerProduct)
            #expect(fc1.biasAddedByConsumer)
            #expect((layers[5] as? ReLUDropout)?.bias === fc1.parameters[1].value)
            #expect(fc3.inputs.map(\.name) == ["dropout2", "multicross1"])
            #expect(!fc3.biasAddedByConsumer)
        }

        /// fc0 → relu0 + drop0 with a Concat between them that is read by one InnerProduct: 2D
        /// parts fold, so fc0 is the last layer built before the fused pair; 3D parts do not.
        @Test(arguments: [false, true])
        func theBiasMovesOnlyWhenTheConcatBetweenFolds(threeD: Bool) throws {
            let parts = threeD
                ? [reshape("emb", "part", leadingDim: 8, timeStep: 6), layer(.innerProduct, ["dense"], "fc0"),
                   layer(.concat, ["part", "emb"], "cat")]
                : [reshape("emb", "part", leadingDim: 48), layer(.innerProduct, ["dense"], "fc0"),
                   layer(.concat, ["part", "dense"], "cat")]
            let rest = [
                layer(.relu, ["fc0"], "relu0"), layer(.dropout, ["relu0"], "drop0"),
                layer(.innerProduct, ["cat"], "fc1"),
                reshape("fc1", "flat", leadingDim: threeD ? 12 : 1),
                layer(.concat, ["flat", "drop0"], "cat2"), layer(.innerProduct, ["cat2"], "fc2"),
                layer(.binaryCrossEntropyLoss, ["fc2", "label"], "loss"),
            ]
            #expect(try plan(parts + rest)[writing: "drop0"]?.addsProducerBias == true)
            let layers = try built(parts + rest)
            let fc0 = try #require(layers.first { $0.name == "fc0" } as? InnerProduct)
            let fusedPair = try #require(layers.first { $0.name == "drop0" } as? ReLUDropout)
            #expect(layers.contains { $0.name == "cat" } == threeD)
            #expect(fc0.biasAddedByConsumer == !threeD)
            #expect((fusedPair.bias != nil) == !threeD)
        }
    }
}
