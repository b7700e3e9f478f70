import CTRCore

/// HugeCTR's learning-rate schedule: linear warm-up, constant, then polynomial decay to `endLR`.
/// `next()` is called once before each training iteration (step counts from 1).
///
/// ```swift
/// var schedule = try LearningRateScheduler(baseLR: 0.001, warmupSteps: 10)
/// schedule.next()   // 0.0001: step 1 of the warm-up
/// ```
public struct LearningRateScheduler: Sendable {
    public var baseLR: Float, warmupSteps: Int, decayStart: Int, decaySteps: Int, decayPower: Float, endLR: Float
    public private(set) var step = 0

    public init(baseLR: Float, warmupSteps: Int = 1, decayStart: Int = 0, decaySteps: Int = 1,
                decayPower: Float = 2, endLR: Float = 0) throws {
        guard baseLR >= 0, decayPower >= 1, endLR >= 0, warmupSteps >= 0, decaySteps >= 1, decayStart >= 0 else {
            throw SwiftCTRError(.config, "learning-rate schedule needs lr ≥ 0, warmup_steps ≥ 0, decay_steps ≥ 1, decay_power ≥ 1 and end_lr ≥ 0; found lr \(baseLR), warmup_steps \(warmupSteps), decay_steps \(decaySteps), decay_power \(decayPower), end_lr \(endLR).")
        }
        self.baseLR = baseLR
        self.warmupSteps = warmupSteps
        self.decayStart = decayStart
        self.decaySteps = decaySteps
        self.decayPower = decayPower
        self.endLR = endLR
    }

    public mutating func next() -> Float {
        step += 1
        if step <= warmupSteps { return Float(step) * baseLR / Float(warmupSteps) }
        guard decayStart != 0 else { return baseLR }
        if step <= decayStart { return baseLR }
        if step <= decayStart + decaySteps {
            let f = Float(decayStart + decaySteps - step) / Float(decaySteps)
            return max(baseLR * powf_(f, decayPower), endLR)
        }
        return endLR
    }

    /// Continues the schedule after `step` calls of `next()`, e.g. when resuming a snapshot.
    package mutating func restore(step: Int) {
        self.step = step
    }
}

@inline(__always)
private func powf_(_ x: Float, _ y: Float) -> Float {
    Float(exp(Double(y) * log(Double(x))))
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
