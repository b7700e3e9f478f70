import CTRCore
import CTREmbedding

extension BackendSelfTest {
    /// The hyper-parameters the self-test trains `type` with (every state and term in play), or
    /// nil when dense weights cannot use it (RMSProp).
    static func selfTestOptimizer(_ type: OptimizerType) -> OptimizerParams? {
        let params = CreateOptimizer(optimizerType: type, beta: 0.5, lambda1: 1e-3, lambda2: 1e-2,
                                     initialAccuValue: 0.1, momentumFactor: 0.9)
        return (try? params.validateForDense()) == nil ? nil : params
    }

    /// The one-state sparse updates, for the single-update cases of `embeddingCases`.
    static let sparseOptimizerUpdates: [(String, SparseUpdate)] = [
        ("AdaGrad", .adaGrad(lr: 0.1, epsilon: 1e-7, gradScale: 0.5)),
        ("MomentumSGD local", .momentumLocal(lr: 0.1, factor: 0.9, gradScale: 0.5)),
        ("MomentumSGD global", .momentumGlobal(lr: 0.1, factor: 0.9, gradScale: 0.5)),
        ("Nesterov local", .nesterovLocal(lr: 0.1, mu: 0.9, gradScale: 0.5)),
        ("Nesterov global", .nesterovGlobal(lr: 0.1, mu: 0.9, gradScale: 0.5)),
    ]

    /// Three steps of each dense optimizer kernel with a new gradient and learning rate per step
    /// (Ftrl's last one 0, which must change nothing): the weights and every state.
    static func denseOptimizerCases(x: [Float], y: [Float], z: [Float]) -> [Case] {
        let count = x.count, rates: [Float] = [0.05, 0.02, 0.01]
        func run(_ b: any Backend, states: Int, _ step: (Tensor, Tensor, [Tensor], Float) -> Void) -> [Double] {
            let w = b.tensor(x, [count]), g = b.makeTensor([count], .float32)
            let s = (0..<states).map { i in b.tensor(z.map { abs($0) * Float(i + 1) * 0.1 }, [count]) }
            for (t, lr) in rates.enumerated() {
                b.upload(y.map { $0 * Float(t + 1) }, to: g)
                step(w, g, s, lr)
            }
            return ([w] + s).flatMap { b.floats($0).map(Double.init) }
        }
        return [
            Case(name: "dense AdaGrad, 3 steps", tolerance: 1e-5) { b in
                run(b, states: 1) { b.adaGrad(weight: $0, grad: $1, accum: $2[0], count: count, lr: $3, epsilon: 1e-7, gradScale: 0.5) }
            },
            Case(name: "dense MomentumSGD, 3 steps", tolerance: 1e-5) { b in
                run(b, states: 1) {
                    b.momentumSGD(weight: $0, grad: $1, momentum: $2[0], count: count, lr: $3, factor: 0.9, gradScale: 0.5)
                }
            },
            Case(name: "dense Nesterov, 3 steps", tolerance: 1e-5) { b in
                run(b, states: 1) { b.nesterov(weight: $0, grad: $1, accum: $2[0], count: count, lr: $3, mu: 0.9, gradScale: 0.5) }
            },
            Case(name: "dense Ftrl, 3 steps (the last with lr 0)", tolerance: 1e-5) { b in
                var step = 0
                return run(b, states: 2) { w, g, s, lr in
                    step += 1
                    b.ftrl(weight: w, grad: g, n: s[0], z: s[1], count: count, lr: step == 3 ? 0 : lr, beta: 0.5,
                           lambda1: 0.05, lambda2: 0.01, gradScale: 0.5)
                }
            },
        ]
    }

    /// Three training steps of a one-hot `HashEmbedding` (rows are the keys on every backend)
    /// with each sparse optimizer and update type that `oneHotCases` does not train: the pooled
    /// outputs and the whole table, so Global's untouched rows count too.
    static func sparseOptimizerCases(seed: UInt64) -> [Case] {
        var rng = CounterRNG(seed: seed, stream: 141)
        let sizes = [40, 7, 300], vec = 6, samples = 12
        let starts = sizes.indices.map { Int64(sizes[..<$0].reduce(0, +)) }
        let steps = (0..<3).map { _ in
            var keys: [Int64] = [], offsets: [Int64] = [0]
            for segment in 0..<(samples * sizes.count) {
                let slot = segment % sizes.count
                for _ in 0..<rng.nextInt(below: 3) { keys.append(starts[slot] + Int64(rng.nextInt(below: sizes[slot]))) }
                offsets.append(Int64(keys.count))
            }
            return (keys: keys, offsets: offsets)
        }
        let grads = steps.map { _ in (0..<(samples * sizes.count * vec)).map { _ in Float(rng.nextNormal()) } }
        let optimizers: [(String, SparseOptimizer)] = [
            ("Adam local", .adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-7, global: false, lazy: false)),
            ("Adam lazy global", .adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-7, global: true, lazy: true)),
            ("AdaGrad", .adaGrad(initialAccuValue: 0.1, epsilon: 1e-7)),
            ("MomentumSGD local", .momentumSGD(factor: 0.9, global: false)),
            ("MomentumSGD global", .momentumSGD(factor: 0.9, global: true)),
            ("Nesterov local", .nesterov(mu: 0.9, global: false)),
            ("Nesterov global", .nesterov(mu: 0.9, global: true)),
        ]
        return optimizers.map { name, optimizer in
            Case(name: "one-hot embedding, 3 steps of sparse \(name)", tolerance: 1e-4) { b in
                let emb = try HashEmbedding(oneHot: "selftest_optimizer", vecSize: vec, slots: sizes.count, slotSizes: sizes,
                                            combiner: .sum, maxBatch: samples, maxKeysPerSample: 2 * sizes.count,
                                            optimizer: optimizer, seed: seed, backend: b)
                var pooled: [Double] = []
                for (t, (step, g)) in zip(steps, grads).enumerated() {
                    try emb.forward(keys: step.keys, offsets: step.offsets, batch: samples, training: true)
                    pooled += b.floats(emb.output).map(Double.init)
                    b.upload(g, to: emb.outputGrad)
                    emb.backward()
                    emb.update(lr: 0.05 / Float(t + 1), scaler: 2)
                }
                return pooled + b.floats(emb.values).map(Double.init)
            }
        }
    }
}
