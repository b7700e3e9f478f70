import CTRCore

/// An `InnerProduct` followed, optionally, by a ReLU computed in place on its output:
/// `Y = max(X·W + b, 0)`. The bias add and the ReLU are one pass forward, and the ReLU's mask
/// is read from the output (`Y > 0` exactly where `X·W + b > 0`) in one pass backward, so no
/// pre-activation is kept; the ReLU's backward turns the output's gradient into `dZ` in place.
/// The sub-layers of `MLP` and `FusedInnerProduct` are these.
/// Cost: the InnerProduct's 6·rows·in·out FLOPs plus one pass over `Y` each way for the ReLU.
final class ActivatedInnerProduct {
    let innerProduct: InnerProduct
    let relu: Bool

    init(_ innerProduct: InnerProduct, relu: Bool) {
        self.innerProduct = innerProduct
        self.relu = relu
        innerProduct.biasAddedByConsumer = relu
    }

    var output: Variable { innerProduct.outputs[0] }

    func forward(_ context: StepContext) {
        innerProduct.forward(context)
        guard relu else { return }
        let y = output
        innerProduct.backend.reluDropout(y.value, bias: innerProduct.bias?.value, width: y.shape.last, into: y.value,
                                         count: y.count(context.batch), rate: 0, seed: 0, stream: 0)
    }

    func backward(_ context: StepContext) {
        if relu {
            let y = output
            innerProduct.backend.reluDropoutBackward(y.value, bias: nil, width: y.shape.last, y.grad, into: y.grad,
                                                     count: y.count(context.batch), rate: 0, seed: 0, stream: 0,
                                                     biasGrad: nil, partial: nil)
        }
        innerProduct.backward(context)
    }
}
