import CTRCore
import CTRCPU
import CTROptimizers
import Foundation
import Testing

// Dense optimizers (layer math §9) and the learning-rate schedule (API spec §6.1) against
// hand-written fp64 updates.

/// The CPU scheduler of HugeCTR's learning_rate_scheduler.hpp, transcribed in fp64.
private func scheduleRef(base: Double, warmup: Int, decayStart: Int, decaySteps: Int, power: Double, end: Double,
                         step: Int) -> Double {
    if step <= warmup { return Double(step) * base / Double(warmup) }
    guard decayStart != 0 else { return base }
    if step <= decayStart { return base }
    if step <= decayStart + decaySteps {
        let f = pow(Double(decayStart + decaySteps - step) / Double(decaySteps), power)
        return max(base * f, end)
    }
    return end
}

@Suite struct OptimizerTests {
    let cpu = TS.cpu

    /// Two weight tensors (odd sizes) with their gradients.
    private func weights() -> [(value: Tensor, grad: Tensor)] {
        [cpu.tensor(TS.normals(7, seed: 1), [7]), cpu.tensor(TS.normals(6, seed: 2), [2, 3])].map {
            (value: $0, grad: cpu.makeTensor($0.shape, .float32))
        }
    }

    @Test func adamMatchesHandComputedSteps() throws {
        let (lr, beta1, beta2, epsilon, scaler): (Float, Float, Float, Float, Float) = (0.01, 0.9, 0.999, 1e-3, 2)
        let ws = weights()
        let optimizer = try DenseOptimizer(OptimizerParams(optimizerType: .adam, beta1: beta1, beta2: beta2, epsilon: epsilon),
                                           weights: ws, backend: cpu)
        var w = ws.map { TS.floats($0.value).map(Double.init) }
        var m = w.map { [Double](repeating: 0, count: $0.count) }, v = m
        let (b1, b2, eps) = (Double(beta1), Double(beta2), Double(epsilon))
        for t in 1...3 {
            for (k, weight) in ws.enumerated() {
                let g = TS.normals(weight.grad.count, seed: 10 * UInt64(t) + UInt64(k), std: 0.01)
                cpu.upload(g, to: weight.grad)
                let alpha = Double(lr) * (1 - pow(b2, Double(t))).squareRoot() / (1 - pow(b1, Double(t)))
                for i in g.indices {
                    let gi = Double(g[i]) / Double(scaler)
                    m[k][i] = b1 * m[k][i] + (1 - b1) * gi
                    v[k][i] = b2 * v[k][i] + (1 - b2) * gi * gi
                    w[k][i] -= alpha * m[k][i] / (v[k][i].squareRoot() + eps)
                }
            }
            optimizer.update(lr: lr, scaler: scaler)
            #expect(optimizer.step == t)
            for (k, weight) in ws.enumerated() {
                TS.expectClose(TS.floats(weight.value), w[k], rtol: 1e-5, atol: 1e-7, "Adam weight \(k) after step \(t)")
            }
        }
    }

    /// Bias correction starts at t = 1: the first step is α_1·m/(√v + ε), i.e. about lr·sign(g) for ε ≪ |g|.
    @Test func adamFirstStepIsLearningRateTimesSign() throws {
        let ws = weights()
        let optimizer = try DenseOptimizer(OptimizerParams(optimizerType: .adam, epsilon: 1e-7), weights: ws, backend: cpu)
        let before = ws.map { TS.floats($0.value) }
        let grads = ws.map { TS.awayFromZero($0.grad.count, seed: 77, gap: 0.1) }
        for (weight, g) in zip(ws, grads) { cpu.upload(g, to: weight.grad) }
        optimizer.update(lr: 0.5, scaler: 4)
        let c = (1 - 0.999).squareRoot()  // α_1 = lr·√(1−β2)/(1−β1); m = (1−β1)·g; √v = √(1−β2)·|g|
        for (k, weight) in ws.enumerated() {
            let after = TS.floats(weight.value)
            TS.expectClose(after, zip(before[k], grads[k]).map { w, g in
                let gs = Double(g) / 4
                return Double(w) - 0.5 * c * gs / (c * abs(gs) + 1e-7)
            }, rtol: 1e-6, atol: 1e-6, "first Adam step of weight \(k)")
            TS.expectClose(zip(after, before[k]).map { $0 - $1 }, grads[k].map { $0 > 0 ? -0.5 : 0.5 },
                           rtol: 1e-3, atol: 0, "first Adam step ≈ −lr·sign(g)")
        }
    }

    @Test func sgdMatchesHandComputedSteps() throws {
        let ws = weights()
        let optimizer = try DenseOptimizer(OptimizerParams(optimizerType: .sgd), weights: ws, backend: cpu)
        var w = ws.map { TS.floats($0.value).map(Double.init) }
        for t in 1...3 {
            let lr = Float(0.1) * Float(t)
            for (k, weight) in ws.enumerated() {
                let g = TS.normals(weight.grad.count, seed: 30 + 10 * UInt64(t) + UInt64(k))
                cpu.upload(g, to: weight.grad)
                for i in g.indices { w[k][i] -= Double(lr) * Double(g[i]) / 2 }
            }
            optimizer.update(lr: lr, scaler: 2)
            for (k, weight) in ws.enumerated() {
                TS.expectClose(TS.floats(weight.value), w[k], rtol: 1e-6, atol: 1e-6, "SGD weight \(k) after step \(t)")
            }
        }
    }

    @Test(arguments: [
        ("RMSProp", OptimizerParams(optimizerType: .rmsProp)),
        ("Adam beta1 1", OptimizerParams(optimizerType: .adam, beta1: 1)),
        ("Adam beta2 -0.1", OptimizerParams(optimizerType: .adam, beta2: -0.1)),
        ("Adam epsilon 0", OptimizerParams(optimizerType: .adam, epsilon: 0)),
    ] as [(String, OptimizerParams)])
    func invalidDenseOptimizerThrows(_ name: String, _ params: OptimizerParams) {
        let error = #expect(throws: SwiftCTRError.self, "\(name) must be rejected") {
            _ = try DenseOptimizer(params, weights: weights(), backend: cpu)
        }
        #expect(error?.kind == .config)
    }

    // MARK: learning-rate schedule

    /// The test vector of the API spec §9: base 1, warmup 4, decay_start 10, decay_steps 10, power 2, end 0.01.
    @Test func scheduleSpecVector() throws {
        var s = try LearningRateScheduler(baseLR: 1, warmupSteps: 4, decayStart: 10, decaySteps: 10, decayPower: 2, endLR: 0.01)
        let lrs = (1...25).map { _ in s.next() }
        let expected: [Int: Float] = [1: 0.25, 2: 0.5, 3: 0.75, 4: 1, 5: 1, 10: 1, 11: 0.81, 12: 0.64, 15: 0.25,
                                      19: 0.01, 20: 0.01, 21: 0.01, 25: 0.01]
        for (step, lr) in expected.sorted(by: { $0.key < $1.key }) {
            #expect(abs(lrs[step - 1] - lr) <= 1e-6, "step \(step): \(lrs[step - 1]), expected \(lr)")
        }
        #expect(s.step == 25)
    }

    /// DLRM MLPerf sample: lr 24, warmup 2750, decay_start 49315, decay_steps 27772, power 2, end 0.
    @Test func scheduleDLRMExample() throws {
        var s = try LearningRateScheduler(baseLR: 24, warmupSteps: 2750, decayStart: 49315, decaySteps: 27772, decayPower: 2,
                                          endLR: 0)
        var lrs: [Float] = [0]  // lrs[step]
        for _ in 1...77100 { lrs.append(s.next()) }
        let checks: [(Int, Double)] = [
            (1, 24.0 / 2750), (1375, 12), (2750, 24), (2751, 24), (49315, 24),
            (49316, 24 * pow(27771.0 / 27772, 2)), (63201, 6), (70144, 24 * pow(6943.0 / 27772, 2)),
            (77086, 24 * pow(1.0 / 27772, 2)), (77087, 0), (77100, 0),
        ]
        for (step, lr) in checks {
            #expect(abs(Double(lrs[step]) - lr) <= 1e-5 * max(1, lr), "step \(step): \(lrs[step]), expected \(lr)")
        }
    }

    @Test(arguments: [
        [1, 0, 1, 2],  // defaults: constant base
        [5, 0, 1, 2],  // warmup, no decay
        [3, 8, 5, 1],  // linear decay
        [6, 4, 7, 3],  // decay_start inside the warmup
        [0, 2, 3, 2],  // no warmup
        [2, 5, 1, 2],  // one decay step
    ])
    func scheduleMatchesReference(_ p: [Int]) throws {
        let (warmup, decayStart, decaySteps, power) = (p[0], p[1], p[2], p[3])
        for end in [0.0, 0.05] {
            var s = try LearningRateScheduler(baseLR: 0.8, warmupSteps: warmup, decayStart: decayStart, decaySteps: decaySteps,
                                              decayPower: Float(power), endLR: Float(end))
            for step in 1...30 {
                let lr = s.next()
                let expected = scheduleRef(base: 0.8, warmup: warmup, decayStart: decayStart, decaySteps: decaySteps,
                                           power: Double(power), end: end, step: step)
                #expect(abs(Double(lr) - expected) <= 1e-6, "\(p) end \(end), step \(step): \(lr) vs \(expected)")
            }
        }
    }

    @Test(arguments: [
        [-0.1, 1, 2, 0],  // base_lr < 0
        [1, 1, 0.5, 0],  // decay_power < 1
        [1, 1, 2, -0.01],  // end_lr < 0
    ] as [[Float]])
    func invalidScheduleThrows(_ p: [Float]) {
        let error = #expect(throws: SwiftCTRError.self) {
            _ = try LearningRateScheduler(baseLR: p[0], warmupSteps: Int(p[1]), decayStart: 10, decaySteps: 5,
                                          decayPower: p[2], endLR: p[3])
        }
        #expect(error?.kind == .config)
    }
}
