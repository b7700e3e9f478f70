import CTRCore

/// A loss layer: the last layer of a task. Its forward writes the gradient of the scaled mean loss
/// into its logits' gradient (training) or the task's probabilities into `predictions`
/// (evaluation), and the mean loss into `lossValue`; its backward does nothing.
public protocol Loss: Layer {
    /// Per-sample probabilities of the last evaluation forward, `(batch, labels of the task)`.
    var predictions: Tensor { get }
    /// The label tensor this loss reads.
    var label: Variable { get }
    /// Loss scaler (solver `scaler`); optimizers divide it back out.
    var scaler: Float { get set }
    /// float [1]: the mean loss of the last forward, in backend memory.
    var lossValue: Tensor { get }
}

extension Loss {
    /// The mean loss of the last forward (waits for the device).
    public func loss(on backend: any Backend) -> Float { backend.floats(lossValue)[0] }
}
