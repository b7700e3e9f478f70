/// HugeCTR's `hugectr.TrainingCallback` (spec §1.16): `fit` tells it when training starts and
/// ends and around each evaluation; `current_iter` is the 0-based iteration, as HugeCTR passes it.
/// A callback that throws stops `fit` with its error.
///
/// ```swift
/// final class StopAt: TrainingCallback {
///     func onEvalEnd(currentIter: Int, evalResults: [String: Double]) throws -> Bool { evalResults["AUC", default: 0] > 0.8 }
/// }
/// model.trainingCallbacks = [StopAt()]
/// ```
public protocol TrainingCallback: AnyObject {
    func onTrainingStart() throws
    func onTrainingEnd(currentIter: Int) throws
    func onEvalStart(currentIter: Int) throws -> Bool
    /// Returning true stops training after this evaluation.
    func onEvalEnd(currentIter: Int, evalResults: [String: Double]) throws -> Bool
}

extension TrainingCallback {
    public func onTrainingStart() throws {}
    public func onTrainingEnd(currentIter: Int) throws {}
    public func onEvalStart(currentIter: Int) throws -> Bool { false }
    public func onEvalEnd(currentIter: Int, evalResults: [String: Double]) throws -> Bool { false }
}
