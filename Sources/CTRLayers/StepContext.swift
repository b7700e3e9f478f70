/// Per-step information every layer sees.
public struct StepContext: Sendable {
    /// Samples in this batch (≤ the compiled batch size).
    public var batch: Int
    public var training: Bool
    /// Training iteration, for dropout masks.
    public var iteration: Int
    public var seed: UInt64

    public init(batch: Int, training: Bool, iteration: Int = 0, seed: UInt64 = 0) {
        self.batch = batch
        self.training = training
        self.iteration = iteration
        self.seed = seed
    }
}
