import CTRCore

/// A loss layer: the last layer of a task. Its forward writes the gradient of the scaled mean loss
/// into its logits' gradient (training) or the task's probabilities into `predictions`
/// (evaluation), and the mean loss into `lossValue`; its backward does nothing. A regularizer's
/// term and gradient come after the model's backward, through `regularize`.
public protocol Loss: Layer {
    /// Per-sample probabilities of the last evaluation forward, `(batch, width of the logits)`.
    var predictions: Tensor { get }
    /// The label tensor this loss reads.
    var label: Variable { get }
    /// The factor of every gradient this loss writes: the solver's `scaler` (optimizers divide it
    /// back out) times the task's loss weight.
    var scaler: Float { get set }
    /// float [1]: the mean loss of the last forward (plus the regularizer's term once
    /// `regularize` ran), in backend memory.
    var lossValue: Tensor { get }
    /// The L1/L2 penalty (`use_regularizer`) this loss adds on the model's dense weights; nil without.
    var regularization: Regularization? { get }
    /// The (prediction column, label column) pairs whose AUCs average into the task's AUC.
    var aucColumns: [(prediction: Int, label: Int)] { get }
}

extension Loss {
    /// The mean loss of the last forward (waits for the device).
    public func loss(on backend: any Backend) -> Float { backend.floats(lossValue)[0] }

    public var aucColumns: [(prediction: Int, label: Int)] { [(0, 0)] }

    /// Adds the regularizer's term over `weights` to `lossValue` and, in a training step, its
    /// gradient times `scaler` to the weights' gradients; nothing without a regularizer. Run it
    /// after the backward pass, which may assign weight gradients, and before the update.
    ///
    /// ```swift
    /// for layer in layers.reversed() { layer.backward(context) }
    /// loss.regularize(layers.flatMap(\.parameters), context: context, on: backend)
    /// ```
    public func regularize(_ weights: [Variable], context: StepContext, on backend: any Backend) {
        guard let regularization, !weights.isEmpty else { return }
        let termScale = regularization.lambda / Float(max(context.batch, 1))
        backend.addPenalty(regularization.penalty, weights: weights.map(\.value),
                           grads: context.training ? weights.map(\.grad) : nil, termScale: termScale,
                           gradScale: termScale * scaler, loss: lossValue)
    }
}

/// What the loss layers share: `[logits, label]` inputs, a `(1, 1)` output named after the layer,
/// the probabilities and loss value tensors, the gradient scale, the regularizer, and a backward
/// that does nothing (the forward wrote the logits' gradient).
public class LossLayer {
    public let name: String
    public let inputs: [Variable]
    public let outputs: [Variable]
    public let predictions: Tensor
    public let lossValue: Tensor
    public var scaler: Float = 1
    public let regularization: Regularization?
    public var label: Variable { inputs[1] }
    let backend: any Backend

    /// The mean loss of the last forward (waits for the device).
    public var loss: Float { backend.floats(lossValue)[0] }

    init(name: String, logits: Variable, label: Variable, regularization: Regularization?, backend: any Backend) {
        self.name = name
        self.backend = backend
        self.regularization = regularization
        inputs = [logits, label]
        outputs = [Variable(name: name, shape: [1, 1], backend: backend)]
        predictions = backend.makeTensor(logits.shape, .float32)
        lossValue = backend.makeTensor([1], .float32)
    }

    public func backward(_ context: StepContext) {}

    /// The `DenseLayer` keys every loss reads.
    static let regularizerParameterNames = ["use_regularizer", "regularizer_type", "lambda"]

    /// The checks every loss's builder starts with (two bottoms, a usable `lambda`), and the
    /// regularizer `config` asks for.
    static func checkBottoms(_ config: DenseLayer, _ inputs: [Variable]) throws -> (Checker, Regularization?) {
        let check = Checker(config: config, inputs: inputs)
        try check.inputCount(2)
        return (check, try Regularization.of(config, check: check))
    }
}
