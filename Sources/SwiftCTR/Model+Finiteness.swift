/// Numerical faults: a NaN or Inf loss stops training with an error that names the iteration and,
/// from the step's forward pass re-run with a check per layer output, the first tensor that went
/// non-finite. The loss is read every `finiteCheckInterval` iterations and at display points and
/// snapshots, so the device is not waited for at every step; with `finiteCheckInterval = 1`
/// every step checks its loss before its update, so the error names the exact step and the
/// weights stay those that produced it. A snapshot is written only from finite weights, so the
/// newest complete snapshot always holds a model that trains on.
///
/// ```swift
/// model.finiteCheckInterval = 1              // exact, but waits for the device each step
/// do { try model.fit(maxIter: 1000, display: 100, snapshot: 200, snapshotPrefix: "out/dcn") }
/// catch let error as SwiftCTRError where error.kind == .numeric {
///     print(error.message)   // "loss is NaN at iteration 310: … the first non-finite output is 'fc1' …"
///     try model.resume(from: "out/dcn")     // out/dcn_200.snapshot.json, finite
/// }
/// ```
extension Model {
    /// One training step of iteration `iteration` (counted from 1) on `batch`; with
    /// `finiteCheckInterval` 1 the loss is checked before the update.
    func trainStep(_ graph: any StepRunner, batch: Batch, lr: Float, iteration: Int, snapshotPrefix: String? = nil) throws {
        lastPass = (.train, batch.count, solver.batchsize)
        do {
            try graph.train(batch: batch, lr: lr, iteration: step, checkingLoss: finiteCheckInterval == 1)
        } catch let fault as NonFiniteLoss {
            throw nonFiniteLoss(fault.loss, iteration: iteration, batch: batch, lr: lr, beforeUpdate: true,
                                snapshotPrefix: snapshotPrefix)
        }
    }

    /// After training iteration `iteration` on `batch` with rate `lr`: at every
    /// `finiteCheckInterval`-th iteration, or when `force`, reads the loss (waiting for the
    /// device) and returns it; throws a numeric error when it is NaN or Inf. Returns nil when
    /// it does not check.
    @discardableResult
    func checkLoss(iteration: Int, batch: Batch, lr: Float, force: Bool = false, snapshotPrefix: String? = nil) throws -> Float? {
        guard force || (finiteCheckInterval > 0 && iteration % finiteCheckInterval == 0) else { return nil }
        let loss = try running().lastLoss
        backend.synchronize()
        guard loss.isFinite else {
            throw nonFiniteLoss(loss, iteration: iteration, batch: batch, lr: lr, beforeUpdate: false, snapshotPrefix: snapshotPrefix)
        }
        lastFiniteCheck = iteration
        return loss
    }

    /// Throws before a snapshot after iteration `iteration` (trained with rate `lr`) when a dense
    /// weight is NaN or Inf, so that no snapshot holds a diverged model.
    func checkWeights(iteration: Int, lr: Float, snapshotPrefix: String) throws {
        let bad = try compiled().nonFiniteParameters()
        guard !bad.isEmpty else { return }
        throw SwiftCTRError(.numeric, "the dense weights \(bad.map(\.name).joined(separator: ", ")) hold NaN or Inf after iteration \(iteration): an update diverged, so no snapshot was written. Lower lr (now \(lr)) or check the data for extreme dense values." + snapshotNote(snapshotPrefix))
    }

    /// The error for a non-finite loss at `iteration`, with what the re-run forward pass found.
    private func nonFiniteLoss(_ loss: Float, iteration: Int, batch: Batch, lr: Float, beforeUpdate: Bool,
                               snapshotPrefix: String?) -> SwiftCTRError {
        let diagnosis: String
        do {
            diagnosis = try running().diagnoseNonFinite(batch: batch, iteration: beforeUpdate ? step : step - 1)
        } catch {
            diagnosis = "the check could not run (\(error))."
        }
        let since = lastFiniteCheck > 0 ? " (it was finite at iteration \(lastFiniteCheck), the check before)" : ""
        let when = beforeUpdate
            ? "The step stopped before its update, so the weights are those that produced it. Its forward pass re-run with checks: "
            : "The batch of iteration \(iteration) re-run with checks on the weights after its update: "
        let exact = beforeUpdate ? "" : " For the exact step, set finiteCheckInterval = 1 (each step then checks its loss before its update)."
        return SwiftCTRError(.numeric, "loss is \(numberText(loss)) at iteration \(iteration)\(since): training diverged. \(when)\(diagnosis) Lower lr (now \(lr)) or check the data for extreme dense values.\(exact)" + snapshotNote(snapshotPrefix))
    }

    private func snapshotNote(_ prefix: String?) -> String {
        guard let prefix, let newest = try? Self.newestSnapshot(prefix: prefix) else { return "" }
        return " The newest complete snapshot, '\(newest)', holds finite weights: resume from it with a lower lr."
    }
}
