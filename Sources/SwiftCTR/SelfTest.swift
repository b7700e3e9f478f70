import Foundation

/// Runs every `Backend` kernel, and every registered layer's conformance cases, on a device
/// backend and on the CPU backend with the same random inputs and compares the results:
/// `swiftctr selftest --device cuda`. A layer added to `LayerRegistry` is checked with no code here.
/// On a GPU the NCCL group follows (`ncclResults`): every `Collective` operation over all visible
/// GPUs against `InProcessCollective`.
public enum BackendSelfTest {
    public struct Result: Sendable {
        public var name: String
        public var maxAbsError: Double
        public var maxRelError: Double
        public var passed: Bool
        public var detail: String
        /// The case could not run on this machine (`detail` says why); `passed` is then true, so
        /// that only failures fail a run.
        public var skipped = false
    }

    /// One case: runs on a backend and returns the values to compare.
    struct Case {
        let name: String
        let tolerance: Double
        let run: (any Backend) throws -> [Double]
    }

    public static func run(device: any Backend, reference: any Backend = CPUBackend(), seed: UInt64 = 7) -> [Result] {
        let results = cases(seed: seed).map { c in
            do {
                let expected = try c.run(reference)
                let got = try c.run(device)
                try device.check()
                return compare(c.name, expected, got, tolerance: c.tolerance)
            } catch {
                return Result(name: c.name, maxAbsError: .nan, maxRelError: .nan, passed: false, detail: "\(error)")
            }
        }
        guard let gpu = device as? CUDABackend else { return results }
        let nccl = { () throws(SwiftCTRError) in try NCCLLibrary.load() }
        return results + ncclResults(seed: seed, reference: reference, nccl: nccl, gpus: { try everyGPU(with: gpu) })
    }

    static func compare(_ name: String, _ a: [Double], _ b: [Double], tolerance: Double) -> Result {
        guard a.count == b.count else {
            return Result(name: name, maxAbsError: .nan, maxRelError: .nan, passed: false,
                          detail: "expected \(a.count) values, found \(b.count)")
        }
        var maxAbs = 0.0, maxRel = 0.0, worst = 0
        for i in a.indices {
            let abs = Swift.abs(a[i] - b[i])
            let rel = abs / max(Swift.abs(a[i]), 1e-6)
            if abs > maxAbs { worst = i }
            maxAbs = max(maxAbs, abs.isNaN ? .infinity : abs)
            maxRel = max(maxRel, rel.isNaN ? .infinity : rel)
        }
        let passed = a.indices.allSatisfy { Swift.abs(a[$0] - b[$0]) <= tolerance * (1 + Swift.abs(a[$0])) }
        return Result(name: name, maxAbsError: maxAbs, maxRelError: maxRel, passed: passed,
                      detail: a.isEmpty ? "" : "worst at \(worst): \(a[worst]) vs \(b[worst])")
    }

    /// The table `swiftctr selftest` prints.
    public static func report(_ results: [Result], device: String) -> String {
        var rows = [["kernel", "max abs error", "max rel error", "result"]]
        for r in results {
            rows.append([r.name, String(format: "%.2e", r.maxAbsError), String(format: "%.2e", r.maxRelError),
                         r.skipped ? "skipped: " + r.detail : r.passed ? "pass" : "FAIL " + r.detail])
        }
        let failed = results.filter { !$0.passed }.count, skipped = results.filter(\.skipped).count
        return "self-test of \(device) against the CPU backend\n" + Table.render(rows)
            + "\(results.count - failed - skipped) passed, \(failed) failed" + (skipped > 0 ? ", \(skipped) skipped" : "") + "\n"
    }

    // MARK: cases

    static func cases(seed: UInt64) -> [Case] {
        var rng = CounterRNG(seed: seed, stream: 99)
        func normals(_ n: Int) -> [Float] { (0..<n).map { _ in Float(rng.nextNormal()) } }
        func doubles(_ b: any Backend, _ t: Tensor, _ n: Int? = nil) -> [Double] { b.floats(t, count: n).map(Double.init) }
        let (m, n, k) = (67, 129, 45)
        let a = normals(m * k), bm = normals(k * n), c0 = normals(m * n)
        let x = normals(4099), y = normals(4099), z = normals(4099)
        let rows = 301, width = 429
        let wide = normals(rows * width), vector = normals(width)
        let labels = (0..<rows).map { _ in Float(rng.nextUniform() < 0.3 ? 1 : 0) }

        var list: [Case] = []
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            list.append(Case(name: "gemm \(ta ? "T" : "N")\(tb ? "T" : "N")", tolerance: 1e-4) { b in
                let c = b.tensor(c0, [m * n])
                b.gemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 0.7, a: b.tensor(a, [m * k]),
                       b: b.tensor(bm, [k * n]), beta: 0.3, c: c)
                return doubles(b, c)
            })
        }
        list.append(Case(name: "fill", tolerance: 0) { b in
            let t = b.makeTensor([1000], .float32)
            b.fill(t, 2.5)
            let i = b.makeTensor([1000], .int64)
            b.fill(i, int64: -7)
            return doubles(b, t) + b.int64s(i).map(Double.init)
        })
        list.append(Case(name: "addBias", tolerance: 1e-6) { b in
            let t = b.tensor(wide, [rows * width])
            b.addBias(t, bias: b.tensor(vector, [width]), rows: rows, cols: width)
            return doubles(b, t)
        })
        for accumulate in [false, true] {
            list.append(Case(name: "sumRows\(accumulate ? " +=" : "")", tolerance: 1e-4) { b in
                let out = b.tensor(vector, [width])
                b.sumRows(b.tensor(wide, [rows * width]), rows: rows, cols: width, into: out, accumulate: accumulate)
                return doubles(b, out)
            })
        }
        list.append(Case(name: "axpy, sum, multiply", tolerance: 1e-6) { b in
            let tx = b.tensor(x, [4099]), ty = b.tensor(y, [4099]), tz = b.tensor(z, [4099])
            b.axpy(-1.5, tx, ty, count: 4099)
            let out = b.makeTensor([4099], .float32)
            b.sum([tx, ty, tz], into: out, count: 4099)
            let product = b.makeTensor([4099], .float32), pair = b.makeTensor([4099], .float32)
            b.multiply(out, tz, into: product, count: 4099)
            b.sum([tx, tz], into: pair, count: 4099)
            return doubles(b, ty) + doubles(b, out) + doubles(b, product) + doubles(b, pair)
        })
        for accumulate in [false, true] {
            list.append(Case(name: "copyColumns\(accumulate ? " +=" : "")", tolerance: 1e-6) { b in
                let dst = b.tensor(c0, [m * n])
                b.copyColumns(b.tensor(wide, [rows * width]), srcWidth: width, srcStart: 13, into: dst, dstWidth: n,
                              dstStart: 5, rows: m, width: 100, accumulate: accumulate)
                return doubles(b, dst)
            })
            // Widths and starts that are multiples of 4: four columns per thread on a GPU.
            list.append(Case(name: "copyColumns 4 wide\(accumulate ? " +=" : "")", tolerance: 1e-6) { b in
                let dst = b.tensor(Array(wide.prefix(200 * 432)), [200 * 432])
                b.copyColumns(b.tensor(Array(wide.prefix(200 * 416)), [200 * 416]), srcWidth: 416, srcStart: 12, into: dst,
                              dstWidth: 432, dstStart: 8, rows: 200, width: 400, accumulate: accumulate)
                return doubles(b, dst)
            })
        }
        list.append(Case(name: "reduceSum + backward", tolerance: 1e-5) { b in
            let out = b.makeTensor([7 * 43], .float32), back = b.makeTensor([7 * 13 * 43], .float32)
            b.reduceSum(b.tensor(Array(x.prefix(7 * 13 * 43)), [7 * 13 * 43]), outer: 7, axis: 13, inner: 43, into: out)
            b.reduceSumBackward(out, outer: 7, axis: 13, inner: 43, into: back)
            return doubles(b, out) + doubles(b, back)
        })
        list.append(Case(name: "relu, sigmoid (+ backward)", tolerance: 1e-5) { b in
            let tx = b.tensor(x, [4099]), dy = b.tensor(y, [4099])
            let r = b.makeTensor([4099], .float32), dr = b.makeTensor([4099], .float32)
            let s = b.makeTensor([4099], .float32), ds = b.makeTensor([4099], .float32)
            b.relu(tx, into: r, count: 4099)
            b.reluBackward(tx, dy, into: dr, count: 4099)
            b.sigmoid(tx, into: s, count: 4099)
            b.sigmoidBackward(s, dy, into: ds, count: 4099)
            return [r, dr, s, ds].flatMap { doubles(b, $0) }
        })
        // 4099 elements in rows of 17 run one element per thread on a GPU, 4092 in rows of 12 four,
        // 4096 in rows of 16 eight forward.
        for (count, w) in [(4099, 17), (4092, 12), (4096, 16)] {
            list.append(Case(name: "relu + dropout fused (+ backward), \(count / w) rows of \(w)", tolerance: 1e-6) { b in
                let tx = b.tensor(Array(x.prefix(count)), [count]), out = b.makeTensor([count], .float32)
                let dx = b.makeTensor([count], .float32), bias = b.tensor(Array(z.prefix(w)), [w])
                b.reluDropout(tx, bias: bias, width: w, into: out, count: count, rate: 0.4, seed: 3, stream: 8)
                b.reluDropoutBackward(tx, bias: bias, width: w, b.tensor(Array(y.prefix(count)), [count]), into: dx,
                                      count: count, rate: 0.4, seed: 3, stream: 8, biasGrad: nil, partial: nil)
                let plain = b.makeTensor([count], .float32)
                b.reluDropout(tx, bias: nil, width: 1, into: plain, count: count, rate: 0, seed: 3, stream: 8)
                return doubles(b, out) + doubles(b, dx) + doubles(b, plain)
            })
        }
        // The bias gradient summed in the backward pass: element by element (17), 8 columns a thread
        // (16, 1024), more rows than partial sums (3000 rows).
        for (rows, w) in [(241, 17), (256, 16), (3000, 1024)] {
            list.append(Case(name: "relu + dropout backward with the bias gradient, \(rows) rows of \(w)", tolerance: 1e-4) { b in
                let count = rows * w
                let tx = b.tensor((0..<count).map { Float(sin(Double($0) * 0.61)) }, [count])
                let dy = b.tensor((0..<count).map { Float(cos(Double($0) * 0.29)) }, [count])
                let bias = b.tensor((0..<w).map { Float($0 % 7) * 0.1 - 0.3 }, [w])
                let dx = b.makeTensor([count], .float32), db = b.tensor((0..<w).map { Float($0) }, [w])
                b.reluDropoutBackward(tx, bias: bias, width: w, dy, into: dx, count: count, rate: 0.4, seed: 3, stream: 8,
                                      biasGrad: db, partial: b.makeTensor([64 * w], .float32))
                return doubles(b, dx) + doubles(b, db)
            })
        }
        list.append(Case(name: "dropout", tolerance: 1e-6) { b in
            let out = b.makeTensor([4099], .float32), mask = b.makeTensor([4099], .float32)
            b.dropout(b.tensor(x, [4099]), into: out, mask: mask, count: 4099, rate: 0.3, seed: 5, stream: 11)
            return doubles(b, out) + doubles(b, mask)
        })
        list.append(Case(name: "rowDot, scaleRows, addScaledRows", tolerance: 1e-4) { b in
            let ta = b.tensor(wide, [rows * width]), tb = b.tensor(Array(wide.reversed()), [rows * width])
            let dots = b.makeTensor([rows], .float32)
            b.rowDot(ta, tb, rows: rows, width: width, into: dots)
            let scaled = b.makeTensor([rows * width], .float32), unbiased = b.makeTensor([rows * width], .float32)
            let scales = b.tensor(Array(x.prefix(rows * 3)), [rows * 3])
            b.scaleRows(ta, scales: scales, stride: 3, offset: 2, bias: b.tensor(vector, [width]), rows: rows, width: width,
                        into: scaled)
            b.scaleRows(ta, scales: scales, stride: 3, offset: 1, bias: nil, rows: rows, width: width, into: unbiased)
            b.addScaledRows(tb, scales: scales, rows: rows, width: width, into: unbiased)
            return [dots, scaled, unbiased].flatMap { doubles(b, $0) }
        })
        list.append(Case(name: "cross network scalars", tolerance: 1e-4) { b in
            let layers = 6
            let d = b.tensor(Array(x.prefix(rows * layers).map { $0 * 0.3 }), [rows * layers])
            let c = b.tensor(Array(y.prefix(layers)), [layers]), h = b.makeTensor([rows * (layers + 1)], .float32)
            b.crossScalars(d: d, c: c, rows: rows, layers: layers, into: h)
            let e = b.makeTensor([rows * layers], .float32), up = b.makeTensor([rows * layers], .float32)
            b.crossScalarsBackward(d: d, h: h, s: b.tensor(Array(z.prefix(rows)), [rows]), rows: rows, layers: layers,
                                   e: e, upstream: up)
            let weights = b.tensor(Array(wide.prefix(layers * width)), [layers * width])
            let prefix = b.makeTensor([(layers + 1) * width], .float32), db = b.makeTensor([layers * width], .float32)
            b.prefixSumRows(weights, rows: layers, width: width, into: prefix)
            b.crossBiasGradients(g: b.tensor(vector, [width]), c: c, weights: weights, layers: layers, width: width, into: db)
            return [h, e, up, prefix, db].flatMap { doubles(b, $0) }
        })
        list.append(Case(name: "interaction + backward", tolerance: 1e-4) { b in
            let (batch, features, w) = (37, 26, 16)
            let n = features + 1, outWidth = w + n * (n - 1) / 2 + 1
            let x0 = b.tensor(Array(x.prefix(batch * w)), [batch * w])
            let emb = b.tensor(Array(wide.prefix(batch * features * w)), [batch * features * w])
            let out = b.makeTensor([batch * outWidth], .float32)
            b.interaction(x0: x0, emb: emb, into: out, batch: batch, features: features, width: w)
            let dx0 = b.makeTensor([batch * w], .float32), demb = b.makeTensor([batch * features * w], .float32)
            b.interactionBackward(x0: x0, emb: emb, dy: b.tensor(Array(y.prefix(batch * outWidth)), [batch * outWidth]),
                                  dx0: dx0, demb: demb, batch: batch, features: features, width: w)
            return [out, dx0, demb].flatMap { doubles(b, $0) }
        })
        list.append(Case(name: "binaryCrossEntropy", tolerance: 1e-5) { b in
            let grad = b.makeTensor([rows + 5], .float32), loss = b.makeTensor([1], .float32)
            b.binaryCrossEntropy(logits: b.tensor(Array(x.prefix(rows + 5)), [rows + 5]),
                                 labels: b.tensor(labels + [0, 0, 0, 0, 0], [rows + 5]), grad: grad,
                                 count: rows, rows: rows + 5, gradScale: 1 / Float(rows), loss: loss)
            return doubles(b, loss) + doubles(b, grad)
        })
        list.append(Case(name: "adam, sgd", tolerance: 1e-5) { b in
            let w = b.tensor(x, [4099]), g = b.tensor(y, [4099]), mm = b.makeTensor([4099], .float32)
            let v = b.makeTensor([4099], .float32)
            for step in 1...3 {
                b.adam(weight: w, grad: g, m: mm, v: v, count: 4099, lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7,
                       step: step, gradScale: 0.5)
            }
            b.sgd(weight: w, grad: g, count: 4099, lr: 0.1, gradScale: 2)
            return [w, mm, v].flatMap { doubles(b, $0) }
        })
        list += embeddingCases(seed: seed, vec: 16) + embeddingCases(seed: seed, vec: 5) + embeddingCases(seed: seed, vec: 64)
        list += oneHotCases(seed: seed, vec: 16) + oneHotCases(seed: seed, vec: 5)
        list += modelFileCases(seed: seed)
        list += stagingCases(seed: seed)
        list.append(Case(name: "AUC histogram (two batches, then reset)", tolerance: 1e-9) { b in
            let histogram = b.makeTensor([AUCHistogram.count], .float64)
            let p = x.map { 1 / (1 + exp(-$0)) }, l = y.map { $0 > 0.3 ? Float(1) : 0 }
            let tp = b.tensor(p, [p.count]), tl = b.tensor(l, [l.count])
            b.aucAccumulate(predictions: tp, labels: tl, labelStride: 1, count: 2000, histogram: histogram)
            b.aucAccumulate(predictions: tp.view(from: 2000, [2099]), labels: tl.view(from: 2000, [2099]), labelStride: 1,
                            count: 2099, histogram: histogram)
            let first = b.aucFromHistogram(histogram)
            b.aucAccumulate(predictions: tp, labels: tl, labelStride: 2, count: 2000, histogram: histogram)
            return [first, b.aucFromHistogram(histogram)]
        })
        // Shapes of a layer with one output, which a GPU runs as bandwidth-bound kernels.
        let tall = 70_001, narrow = 37
        let xs = (0..<tall * narrow).map { Float(sin(Double($0) * 0.37)) }, w = Array(wide.prefix(narrow))
        let dy = (0..<tall).map { Float(cos(Double($0) * 0.11)) }
        for (beta, name) in [(Float(0), "="), (1, "+=")] {
            list.append(Case(name: "gemm with one output: y \(name) X·w, dw \(name) Xᵀ·dy, dX = dy·wᵀ", tolerance: 1e-4) { b in
                let tx = b.tensor(xs, [tall * narrow])
                let y = b.tensor(Array(xs.prefix(tall)), [tall]), dw = b.tensor(w, [narrow]), dx = b.makeTensor([tall * narrow], .float32)
                b.gemm(transA: false, transB: false, m: tall, n: 1, k: narrow, alpha: 1, a: tx, b: b.tensor(w, [narrow]),
                       beta: beta, c: y)
                b.gemm(transA: true, transB: false, m: narrow, n: 1, k: tall, alpha: 1, a: tx, b: b.tensor(dy, [tall]),
                       beta: beta, c: dw)
                b.gemm(transA: false, transB: true, m: tall, n: narrow, k: 1, alpha: 1, a: b.tensor(dy, [tall]),
                       b: b.tensor(w, [narrow]), beta: 0, c: dx)
                return doubles(b, y) + doubles(b, dw) + doubles(b, dx)
            })
        }
        list.append(Case(name: "MultiCross input gradient", tolerance: 1e-4) { b in
            let layers = 3, g = b.tensor(wide, [rows * width]), dx = b.makeTensor([rows * width], .float32)
            b.crossInputGradient(g: g, h: b.tensor(Array(x.prefix(rows * (layers + 1))), [rows * (layers + 1)]),
                                 e: b.tensor(Array(y.prefix(rows * layers)), [rows * layers]),
                                 weights: b.tensor(Array(z.prefix(layers * width)), [layers * width]), rows: rows,
                                 layers: layers, width: width, into: dx)
            return doubles(b, dx)
        })
        list += primitiveCases(seed: seed) + normalizationCases(seed: seed) + lossCases(seed: seed)
        list += layerCases()
        list += denseOptimizerCases(x: x, y: y, z: z)
        list += OptimizerType.allCases.compactMap(selfTestOptimizer).map { graphReplayCase(seed: seed, optimizer: $0) }
        list += sparseOptimizerCases(seed: seed)
        list += smallModelCases(seed: seed)
        list += [false, true].map { sharedOperandCase(seed: seed, mixedPrecision: $0) }
        list += halfCases(a: a, b: bm, c: c0, m: m, n: n, k: k, x: x, y: y, wide: wide, rows: rows, width: width)
        return list
    }

    /// Every registered layer's conformance cases, built through the registry on each backend with
    /// the same weights (the counter RNG), inputs and upstream gradient: the outputs, then (training
    /// cases) the gradients of the differentiable inputs and of every weight.
    static func layerCases() -> [Case] {
        LayerRegistry.types.flatMap { $0.conformanceCases }.map { c in
            Case(name: "layer \(c.name)", tolerance: 1e-4) { b in
                let run = try ConformanceRun(c, backend: b)
                var values = run.forward().joined().map(Double.init)
                guard c.training else { return values }
                let grads = run.backward(run.upstream())
                for (input, grad) in zip(c.inputs, grads.inputs) where input.differentiable {
                    values += grad.map(Double.init)
                }
                return values + grads.parameters.joined().map(Double.init)
            }
        }
    }

    /// `count` batches of `size` samples: labels 1 with probability 0.3, `dense` normal features,
    /// one key per slot for `slots` slots drawn from `0..<keys`.
    static func smallBatches(_ count: Int, size: Int, dense: Int, slots: Int, keys: Int, seed: UInt64,
                             stream: UInt64) -> [Batch] {
        var rng = CounterRNG(seed: seed, stream: stream)
        return (0..<count).map { _ in
            Batch(count: size, labels: (0..<size).map { _ in rng.nextUniform() < 0.3 ? 1 : 0 },
                  dense: (0..<size * dense).map { _ in Float(rng.nextNormal()) },
                  sparse: [SparseBatch(rowOffsets: (0...size * slots).map(Int64.init),
                                       keys: (0..<size * slots).map { _ in Int64(rng.nextInt(below: keys)) })])
        }
    }

    /// A small DCN trained for six steps with `optimizer` (and a learning rate that warms up, so
    /// that each step's rate must reach the graph), its dense step queued eagerly and replayed as
    /// a graph (`use_cuda_graph`): the per-step losses must agree. Graph-less backends run both
    /// the same way. Ftrl, which has no GPU sparse update, leaves the embedding AdaGrad.
    static func graphReplayCase(seed: UInt64, optimizer: OptimizerParams) -> Case {
        Case(name: "training step replayed as a graph = queued eagerly, \(optimizer.optimizerType.rawValue)",
             tolerance: 1e-4) { b in
            let batchSize = 256, slots = 4
            let batches = smallBatches(6, size: batchSize, dense: 3, slots: slots, keys: 50, seed: seed, stream: 77)
            func losses(graph: Bool) throws -> [Float] {
                let solver = Solver(seed: seed, lr: 0.01, warmupSteps: 6, batchsizeEval: batchSize, batchsize: batchSize,
                                    useCudaGraph: graph)
                let reader = DataReaderParams(dataReaderType: .norm, source: ["in memory"], evalSource: "in memory",
                                              checkType: .none)
                let model = try Model(solver, reader, optimizer, backend: b)
                let sparse = DataReaderSparseParam("data1", 1, true, slots)
                model.add(Input(labelDim: 1, labelName: "label", denseDim: 3, denseName: "dense",
                                dataReaderSparseParamArray: [sparse]))
                let (dcnEmbedding, layers) = Recipes.dcn(sparseInput: sparse, vecSize: 8, workspaceMB: 1, crossLayers: 2,
                                                         deepWidth: 64)
                var embedding = dcnEmbedding
                if optimizer.optimizerType == .ftrl || (try? optimizer.validateForSparse()) == nil {
                    embedding.optimizer = CreateOptimizer(optimizerType: .adaGrad, initialAccuValue: 0.1)
                }
                model.add(embedding)
                layers.forEach(model.add)
                try model.compile()
                // GPU hash insertion gives keys their rows in a racy order and rows their initial
                // vectors by index, so equal rows keep the two runs comparable.
                for embedding in model.graph!.embeddings { b.fill(embedding.table.values, 0.01) }
                return try batches.map { batch in
                    try model.train(batch: batch)
                    return model.currentLoss
                }
            }
            let eager = try losses(graph: false), replayed = try losses(graph: true)
            return zip(eager, replayed).map { Double(abs($0 - $1)) }
        }
    }

    /// A small DCN v2 whose Concat feeds a MultiCross v2 and an InnerProduct through one shared,
    /// padded operand (`SharedOperands`: 4 slots of 8 and 3 dense give 35 columns, padded to 40 on
    /// a GPU), trained for five steps: the per-step losses. With `mixedPrecision` the GPU runs in
    /// bf16 against the CPU's fp32, so the tolerance is bf16's.
    static func sharedOperandCase(seed: UInt64, mixedPrecision: Bool) -> Case {
        Case(name: "small DCN v2 with a shared padded operand, 5 training steps: losses\(mixedPrecision ? ", bf16" : "")",
             tolerance: mixedPrecision ? 2e-2 : 1e-4) { b in
            let batchSize = 256, slots = 4
            let batches = smallBatches(5, size: batchSize, dense: 3, slots: slots, keys: 50, seed: seed, stream: 78)
            let solver = Solver(seed: seed, lr: 0.01, batchsizeEval: batchSize, batchsize: batchSize,
                                useMixedPrecision: mixedPrecision && b.supportsMixedPrecision)
            let reader = DataReaderParams(dataReaderType: .norm, source: ["in memory"], evalSource: "in memory", checkType: .none)
            let model = try Model(solver, reader, CreateOptimizer(optimizerType: .adam), backend: b)
            let sparse = DataReaderSparseParam("data1", 1, true, slots)
            model.add(Input(labelDim: 1, labelName: "label", denseDim: 3, denseName: "dense", dataReaderSparseParamArray: [sparse]))
            let (embedding, layers) = Recipes.dcn(sparseInput: sparse, vecSize: 8, workspaceMB: 1, crossLayers: 2,
                                                  crossProjectionDim: 8, deepWidth: 64, dropoutRate: 0)
            model.add(embedding)
            layers.forEach(model.add)
            try model.compile()
            guard model.graph!.layers.contains(where: { $0 is SharedOperandConcat }) else {
                throw SwiftCTRError(.config, "self-test: concat1 was not built as a shared operand")
            }
            for embedding in model.graph!.embeddings { b.fill(embedding.table.values, 0.01) }
            return try batches.map { batch in
                try model.train(batch: batch)
                return Double(model.currentLoss)
            }
        }
    }

    /// Mixed-precision kernels: 16-bit inputs and outputs on the device; on the CPU the same fp32
    /// math on inputs rounded to 16 bits, with outputs rounded the same way.
    static func halfCases(a: [Float], b bm: [Float], c c0: [Float], m: Int, n: Int, k: Int, x: [Float], y: [Float],
                          wide: [Float], rows: Int, width: Int) -> [Case] {
        var list: [Case] = []
        for half in [DType.bfloat16, .float16] {
            let tag = half == .bfloat16 ? "bf16" : "fp16"
            let round = { (v: [Float]) in HalfFloats.floats(HalfFloats.bits(v, half), half) }
            /// A tensor of `values` in `type` (rounded when 16-bit), and the values back as Doubles.
            func tensor(_ bk: any Backend, _ values: [Float], _ type: DType) -> Tensor {
                guard type != .float32 else { return bk.tensor(values, [values.count]) }
                let t = bk.makeTensor([values.count], type)
                HalfFloats.bits(values, type).withUnsafeBytes { bk.upload($0, to: t) }
                return t
            }
            func read(_ bk: any Backend, _ t: Tensor) -> [Double] {
                guard t.dtype != .float32 else { return bk.floats(t).map(Double.init) }
                let bits = [UInt16](unsafeUninitializedCapacity: t.count) { buffer, done in
                    bk.download(t, into: UnsafeMutableRawBufferPointer(buffer))
                    done = t.count
                }
                return HalfFloats.floats(bits, t.dtype).map(Double.init)
            }
            /// A backend with 16-bit storage stores `type`; one without computes in fp32 and rounds what
            /// the other would store.
            func stored(_ bk: any Backend, _ type: DType) -> DType { bk.supportsMixedPrecision ? type : .float32 }
            /// Inputs as a backend without 16-bit storage sees them: rounded to 16 bits, held in fp32.
            func emulated(_ bk: any Backend, _ values: [Float]) -> [Float] { bk.supportsMixedPrecision ? values : round(values) }
            func result(_ bk: any Backend, _ t: Tensor, _ type: DType) -> [Double] {
                !bk.supportsMixedPrecision && type != .float32 ? round(bk.floats(t)).map(Double.init) : read(bk, t)
            }
            for (ta, tb) in [(false, false), (true, false), (false, true)] {
                list.append(Case(name: "gemm \(ta ? "T" : "N")\(tb ? "T" : "N"), \(tag) A, fp32 and \(tag) C",
                                 tolerance: 1e-2) { bk in
                    let ra = tensor(bk, emulated(bk, a), stored(bk, half))
                    let rb = bk.tensor(emulated(bk, bm), [k * n])
                    let c32 = bk.tensor(c0, [m * n])
                    bk.gemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 0.7, a: ra, b: rb, beta: 0.3, c: c32)
                    let c16 = tensor(bk, emulated(bk, c0), stored(bk, half))
                    bk.gemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 0.7, a: ra, b: rb, beta: 0.3, c: c16)
                    return read(bk, c32) + result(bk, c16, half)
                })
            }
            for (count, w, halfX) in [(4099, 17, false), (4096, 16, false), (4099, 17, true), (4096, 16, true)] {
                let xName = halfX ? "\(tag) x, " : ""
                list.append(Case(name: "reluDropout + backward, \(xName)\(tag) y, dy, dx, rows of \(w)", tolerance: 1e-2) { bk in
                    let xs = Array(x.prefix(count)), bias = bk.tensor(Array(y.prefix(w)), [w])
                    let tx = halfX ? tensor(bk, emulated(bk, xs), stored(bk, half)) : bk.tensor(xs, [count])
                    let out = bk.makeTensor([count], stored(bk, half)), dx = bk.makeTensor([count], stored(bk, half))
                    bk.reluDropout(tx, bias: bias, width: w, into: out, count: count, rate: 0.4, seed: 3, stream: 8)
                    let dys = Array(y.prefix(count)), dy = tensor(bk, emulated(bk, dys), stored(bk, half))
                    bk.reluDropoutBackward(tx, bias: bias, width: w, dy, into: dx, count: count, rate: 0.4, seed: 3, stream: 8,
                                           biasGrad: nil, partial: nil)
                    return result(bk, out, half) + result(bk, dx, half)
                })
            }
            list.append(Case(name: "gemm with one output, \(tag) X: y = X·w, dw = Xᵀ·dy, dX = dy·wᵀ", tolerance: 1e-3) { bk in
                let tall = 70_001, narrow = 24
                let xs = (0..<tall * narrow).map { Float(sin(Double($0) * 0.37)) }, w = Array(wide.prefix(narrow))
                let dy = (0..<tall).map { Float(cos(Double($0) * 0.11)) }
                let tx = tensor(bk, emulated(bk, xs), stored(bk, half))
                let y = bk.makeTensor([tall], .float32), dw = bk.makeTensor([narrow], .float32)
                let dx = bk.makeTensor([tall * narrow], stored(bk, half))
                bk.gemm(transA: false, transB: false, m: tall, n: 1, k: narrow, alpha: 1, a: tx, b: bk.tensor(w, [narrow]),
                        beta: 0, c: y)
                // cuBLAS runs these two with every operand in 16 bits.
                let dy16 = bk.tensor(emulated(bk, dy), [tall])
                bk.gemm(transA: true, transB: false, m: narrow, n: 1, k: tall, alpha: 1, a: tx, b: dy16, beta: 0, c: dw)
                bk.gemm(transA: false, transB: true, m: tall, n: narrow, k: 1, alpha: 1, a: dy16,
                        b: bk.tensor(emulated(bk, w), [narrow]), beta: 0, c: dx)
                return read(bk, y) + read(bk, dw) + result(bk, dx, half)
            })
            // The fused backward of a one-output InnerProduct: 16-byte rows (1024) and element by
            // element (429, a MultiCross v2 output), more rows than partial sums.
            for width in [1024, 429] {
                list.append(Case(name: "one-output backward in one pass, \(tag) X and dX, rows of \(width)", tolerance: 1e-3) { bk in
                    let tall = 20_001
                    let xs = (0..<tall * width).map { Float(sin(Double($0) * 0.37)) }
                    let w = (0..<width).map { Float(cos(Double($0) * 0.7)) }, dy = (0..<tall).map { Float(cos(Double($0) * 0.11)) }
                    let dw = bk.tensor((0..<width).map { Float($0 % 5) }, [width])
                    let dx = bk.makeTensor([tall * width], stored(bk, half))
                    bk.oneOutputBackward(x: tensor(bk, emulated(bk, xs), stored(bk, half)), rows: tall, width: width,
                                         dy: bk.tensor(dy, [tall]), w: bk.tensor(w, [width]), dw: dw, dx: dx,
                                         partial: bk.makeTensor([columnSumPartialRows * width], .float32))
                    return read(bk, dw) + result(bk, dx, half)
                })
            }
            list.append(Case(name: "copyColumns to \(tag), sumRows of \(tag)", tolerance: 1e-2) { bk in
                let dst = bk.makeTensor([rows * 432], stored(bk, half))
                bk.copyColumns(bk.tensor(wide, [rows * width]), srcWidth: width, srcStart: 0, into: dst, dstWidth: 432,
                               dstStart: 0, rows: rows, width: width, accumulate: false)
                // Four columns at a time (416 of 432, as DCN's embedding columns of the shared operand).
                let dst4 = bk.makeTensor([rows * 432], stored(bk, half))
                bk.copyColumns(bk.tensor(Array(wide.prefix(rows * 416)), [rows * 416]), srcWidth: 416, srcStart: 0, into: dst4,
                               dstWidth: 432, dstStart: 0, rows: rows, width: 416, accumulate: false)
                let sums = bk.makeTensor([width], .float32)
                bk.sumRows(tensor(bk, emulated(bk, wide), stored(bk, half)), rows: rows, cols: width,
                           into: sums, accumulate: false)
                return result(bk, dst, half) + result(bk, dst4, half) + read(bk, sums)
            })
        }
        return list
    }

    /// A batch of keys with repeats, multi-hot segments and unseen keys in the eval lookup.
    /// Hash lookup, pooling, gradients and sparse updates with vectors of `vec` (a power of two
    /// and not: the GPU kernels split indices differently; up to 32 floats the GPU sums gradients
    /// by grouped atomics, above by a counting sort). Segments are 8 slots per sample.
    static func embeddingCases(seed: UInt64, vec: Int) -> [Case] {
        var rng = CounterRNG(seed: seed, stream: 123)
        let segments = 200, capacity = 1000
        var offsets: [Int64] = [0], keys: [Int64] = []
        for _ in 0..<segments {
            let nnz = rng.nextInt(below: 4)
            for _ in 0..<nnz { keys.append(Int64(rng.nextInt(below: 300)) * 7_919 - 1_000_000) }
            offsets.append(Int64(keys.count))
        }
        let evalKeys = keys.map { $0 + (($0 & 3) == 0 ? 1 : 0) }
        let values = (0..<(capacity * vec)).map { _ in Float(rng.nextUniform(-1, 1)) }
        let dout = (0..<(segments * vec)).map { _ in Float(rng.nextNormal()) }

        /// Looks the keys up, pools, and returns the pooled output with rows mapped back to keys.
        func lookupAndPool(_ b: any Backend, mean: Bool) throws -> [Double] {
            let table = HashTable(capacity: capacity, backend: b)
            let tk = b.makeTensor([keys.count], .int64), rows = b.makeTensor([keys.count], .int64)
            b.upload(keys, to: tk)
            guard b.hashLookup(table, keys: tk, count: keys.count, rows: rows, insert: true),
                  !b.hashTableState(table).overflowed else {
                throw SwiftCTRError(.capacity, "self-test table overflowed")
            }
            // Make values depend on the key, not on the row a backend happened to give it.
            let rowOf = b.int64s(rows)
            var keyed = [Float](repeating: 0, count: capacity * vec)
            for (j, row) in rowOf.enumerated() {
                for d in 0..<vec { keyed[Int(row) * vec + d] = values[Int((keys[j] & 0x3FF) % Int64(capacity)) * vec + d] }
            }
            let tv = b.tensor(keyed, [capacity * vec])
            b.upload(evalKeys, to: tk)
            guard b.hashLookup(table, keys: tk, count: keys.count, rows: rows, insert: false) else {
                throw SwiftCTRError(.capacity, "eval lookup reported overflow")
            }
            let to = b.makeTensor([offsets.count], .int64)
            b.upload(offsets, to: to)
            let out = b.makeTensor([segments * vec], .float32)
            b.embeddingPool(values: tv, rows: rows, offsets: to, segments: segments, vec: vec, mean: mean, into: out)
            return [Double(b.hashTableState(table).size)] + b.floats(out).map(Double.init)
        }

        /// The gradients per distinct row of `rowsHost` (the rows of each key, -1 for none) in
        /// segments `segmentOffsets` with gradients `segmentDout`: the tensors `embeddingGradients`
        /// wrote, and the distinct count followed by the gradients keyed by row.
        func gradients(_ b: any Backend, rows rowsHost: [Int64], offsets segmentOffsets: [Int64], dout segmentDout: [Float],
                       mean: Bool) -> (uniqueRows: Tensor, grads: Tensor, uniqueCount: Tensor, slots: Tensor, byRow: [Double]) {
            let count = rowsHost.count, segmentCount = segmentOffsets.count - 1
            let rows = b.makeTensor([count], .int64), to = b.makeTensor([segmentOffsets.count], .int64)
            b.upload(rowsHost, to: rows)
            b.upload(segmentOffsets, to: to)
            let uniqueRows = b.makeTensor([count], .int64), grads = b.makeTensor([count * vec], .float32)
            let slots = b.makeTensor([capacity], .int64), uniqueCount = b.makeTensor([1], .int64)
            b.fill(slots, int64: -1)
            b.embeddingGradients(dout: b.tensor(segmentDout, [segmentCount * vec]), rows: rows, offsets: to,
                                 segments: segmentCount, slots: 8, keyCount: count, vec: vec, mean: mean, uniqueRows: uniqueRows,
                                 uniqueGrads: grads, uniqueCount: uniqueCount, rowSlot: slots)
            let u = Int(b.int64s(uniqueCount)[0])
            let order = b.int64s(uniqueRows, count: u), g = b.floats(grads, count: u * vec)
            var byRow = [Double](repeating: 0, count: capacity * vec)
            for (j, row) in order.enumerated() {
                for d in 0..<vec { byRow[Int(row) * vec + d] = Double(g[j * vec + d]) }
            }
            return (uniqueRows, grads, uniqueCount, slots, [Double(u)] + byRow)
        }

        /// Gradients per distinct row, then one sparse update; results keyed by row.
        func gradientsAndUpdate(_ b: any Backend, _ update: SparseUpdate, states: Int) throws -> [Double] {
            let rowsHost = keys.map { Int64((($0 % 997) + 997) % 997) }
            let (uniqueRows, grads, uniqueCount, slots, byRow) = gradients(b, rows: rowsHost, offsets: offsets, dout: dout, mean: true)
            let tv = b.tensor(values, [capacity * vec])
            let stateTensors = (0..<states).map { i in
                i == 2 ? b.makeTensor([capacity], .int64) : b.tensor(values.map { abs($0) * 0.01 }, [capacity * vec])
            }
            let table = HashTable(capacity: capacity, backend: b)
            table.size = 997
            b.upload([Int64(997), 0], to: table.state)
            b.sparseUpdate(update, values: tv, states: stateTensors, uniqueRows: uniqueRows, uniqueGrads: grads,
                           uniqueCount: uniqueCount, maxCount: keys.count, rowSlot: slots, table: table, vec: vec)
            b.clearRowSlots(slots, uniqueRows: uniqueRows, uniqueCount: uniqueCount, maxCount: keys.count)
            return byRow + b.floats(tv).map(Double.init) + b.int64s(slots).map(Double.init)
        }

        /// Gradients per distinct row where a few rows take most keys (their keys span many of
        /// the GPU's sorted chunks) and some keys have no row; results keyed by row.
        func hotGradients(_ b: any Backend, mean: Bool) -> [Double] {
            var hot = CounterRNG(seed: seed, stream: 124)
            var hotOffsets: [Int64] = [0], rowsHost: [Int64] = []
            for _ in 0..<3000 {
                for _ in 0..<(1 + hot.nextInt(below: 6)) {
                    let draw = hot.nextInt(below: 100)
                    rowsHost.append(draw < 40 ? Int64(draw % 3) : draw < 43 ? -1 : Int64(3 + hot.nextInt(below: 900)))
                }
                hotOffsets.append(Int64(rowsHost.count))
            }
            let hotDout = (0..<(3000 * vec)).map { _ in Float(hot.nextNormal()) }
            return gradients(b, rows: rowsHost, offsets: hotOffsets, dout: hotDout, mean: mean).byRow
        }

        return [
            Case(name: "embedding grads, hot rows (sum), vec \(vec)", tolerance: 1e-4) { hotGradients($0, mean: false) },
            Case(name: "embedding grads, hot rows (mean), vec \(vec)", tolerance: 1e-4) { hotGradients($0, mean: true) },
            Case(name: "hash lookup + pool (sum), vec \(vec)", tolerance: 1e-5) { try lookupAndPool($0, mean: false) },
            Case(name: "hash lookup + pool (mean), vec \(vec)", tolerance: 1e-5) { try lookupAndPool($0, mean: true) },
            Case(name: "embedding grads + sparse SGD, vec \(vec)", tolerance: 1e-5) {
                try gradientsAndUpdate($0, .sgd(lr: 0.1, gradScale: 1), states: 0)
            },
            Case(name: "sparse Adam local, vec \(vec)", tolerance: 1e-4) {
                try gradientsAndUpdate($0, .adamLocal(lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, step: 3, gradScale: 1), states: 2)
            },
            Case(name: "sparse Adam global, vec \(vec)", tolerance: 1e-4) {
                try gradientsAndUpdate($0, .adamGlobal(lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, step: 3, gradScale: 1), states: 2)
            },
            Case(name: "sparse Adam lazy global, vec \(vec)", tolerance: 1e-4) {
                try gradientsAndUpdate($0, .adamLazyGlobal(lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, step: 3, gradScale: 1), states: 3)
            },
        ] + sparseOptimizerUpdates.map { name, update in
            Case(name: "sparse \(name), vec \(vec)", tolerance: 1e-5) { try gradientsAndUpdate($0, update, states: 1) }
        }
    }
}

/// Host-side 16-bit floats, rounded as the GPU kernels round (to nearest, ties to even).
enum HalfFloats {
    static func bits(_ values: [Float], _ type: DType) -> [UInt16] {
        values.map { v in
            if type == .float16 { return Float16(v).bitPattern }
            let u = v.bitPattern
            if u & 0x7fff_ffff > 0x7f80_0000 { return UInt16(u >> 16) | 0x40 }
            return UInt16((u &+ 0x7fff &+ ((u >> 16) & 1)) >> 16)
        }
    }

    static func floats(_ bits: [UInt16], _ type: DType) -> [Float] {
        bits.map { type == .float16 ? Float(Float16(bitPattern: $0)) : Float(bitPattern: UInt32($0) << 16) }
    }
}
