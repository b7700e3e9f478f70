/// Training samples per second since the window opened, with the time between `pause` and
/// `resume` (an evaluation) left out, so that a rate measured across an evaluation counts only
/// the training steps and their time. Times are seconds on any monotonic clock.
///
/// ```swift
/// var window = ThroughputWindow(at: 0)
/// window.count(2048)          // one step of 2048 samples
/// window.pause(at: 1)         // evaluation from t = 1 s …
/// window.resume(at: 4)        // … to t = 4 s
/// window.count(2048)
/// window.rate(at: 5)          // 2048: 4096 samples in 2 s of training
/// ```
struct ThroughputWindow: Equatable, Sendable {
    private(set) var samples = 0
    /// Training seconds of the spans that `pause` closed.
    private var closedSeconds = 0.0
    /// Start of the running span; nil while paused.
    private var runningSince: Double?

    init(at time: Double) { runningSince = time }

    mutating func count(_ samples: Int) { self.samples += samples }

    mutating func pause(at time: Double) {
        guard let start = runningSince else { return }
        closedSeconds += time - start
        runningSince = nil
    }

    mutating func resume(at time: Double) {
        if runningSince == nil { runningSince = time }
    }

    /// Training seconds up to `time`.
    func seconds(at time: Double) -> Double { closedSeconds + (runningSince.map { time - $0 } ?? 0) }

    /// Samples per training second up to `time`; 0 before any training time has passed.
    func rate(at time: Double) -> Double {
        let seconds = seconds(at: time)
        return seconds > 0 ? Double(samples) / seconds : 0
    }
}
