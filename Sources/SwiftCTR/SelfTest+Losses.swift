import CTRCore
import Foundation

extension BackendSelfTest {
    /// The loss kernels on batches that span many thread blocks (the layer cases use a few rows):
    /// softmax cross-entropy with class weights and with class indices, the weighted multi-label
    /// cross-entropy with ignored labels, the L1/L2 penalty over several tensors, with and
    /// without gradients, and the AUC of one column of a multi-label task.
    static func lossCases(seed: UInt64) -> [Case] {
        var rng = CounterRNG(seed: seed, stream: 97)
        func normals(_ n: Int) -> [Float] { (0..<n).map { _ in Float(rng.nextNormal() * 3) } }
        func doubles(_ b: any Backend, _ t: Tensor) -> [Double] { b.floats(t).map(Double.init) }
        let rows = 3001, classes = 5, width = 7
        let logits = normals(rows * classes), wide = normals(rows * width)
        let soft = (0..<rows * classes).map { _ in Float(rng.nextUniform()) }
        let indices = (0..<rows).map { _ in Float(rng.nextInt(below: 2)) }
        let multi = (0..<rows * width).map { _ in rng.nextUniform() < 0.2 ? -1 : Float(rng.nextInt(below: 2)) }
        let targetWeights = (0..<width).map { Float($0 + 1) / 4 }
        let weights = [normals(4099), normals(17), normals(1)].map { $0.enumerated().map { $1 * Float($0 % 3) } }

        var list: [Case] = []
        for (name, labels, labelWidth, c) in [("class weights", soft, classes, classes), ("class indices", indices, 1, 2)] {
            list.append(Case(name: "softmaxCrossEntropy, \(name)", tolerance: 1e-5) { b in
                let grad = b.makeTensor([(rows + 3) * c], .float32), loss = b.makeTensor([1], .float32)
                b.fill(grad, 9)
                b.softmaxCrossEntropy(logits: b.tensor(Array(logits.prefix((rows + 3) * c)), [(rows + 3) * c]),
                                      labels: b.tensor(Array(labels.prefix((rows + 3) * labelWidth)), [(rows + 3) * labelWidth]),
                                      labelWidth: labelWidth, classes: c, grad: grad, count: rows, rows: rows + 3,
                                      gradScale: 1 / Float(rows), loss: loss)
                return doubles(b, loss) + doubles(b, grad)
            })
        }
        list.append(Case(name: "multiCrossEntropy", tolerance: 1e-5) { b in
            let n = rows * width, grad = b.makeTensor([n], .float32), loss = b.makeTensor([1], .float32)
            b.multiCrossEntropy(logits: b.tensor(wide, [n]), labels: b.tensor(multi, [n]),
                                weights: b.tensor(targetWeights, [width]), width: width, grad: grad, count: rows - 2,
                                rows: rows, gradScale: 1 / Float(n), loss: loss)
            return doubles(b, loss) + doubles(b, grad)
        })
        for penalty in [WeightPenalty.l1, .l2] {
            list.append(Case(name: "addPenalty \(penalty), with and without gradients", tolerance: 1e-5) { b in
                let values = weights.map { b.tensor($0, [$0.count]) }, grads = weights.map { b.tensor($0.reversed(), [$0.count]) }
                let loss = b.tensor([0.25], [1]), term = b.tensor([0.5], [1])
                b.addPenalty(penalty, weights: values, grads: grads, termScale: 0.01, gradScale: 0.03, loss: loss)
                b.addPenalty(penalty, weights: values, grads: nil, termScale: 0.02, gradScale: 1, loss: term)
                return doubles(b, loss) + doubles(b, term) + grads.flatMap { doubles(b, $0) } + values.flatMap { doubles(b, $0) }
            })
        }
        list.append(Case(name: "AUC histogram, strided predictions, missing labels", tolerance: 1e-9) { b in
            let histogram = b.makeTensor([AUCHistogram.count], .float64)
            let p = wide.map { 1 / (1 + exp(-$0)) }
            b.aucAccumulate(predictions: b.tensor(p, [p.count]).view(from: 2, [p.count - 2]), predictionStride: width,
                            labels: b.tensor(multi, [multi.count]).view(from: 3, [multi.count - 3]), labelStride: width,
                            count: rows - 1, histogram: histogram)
            return [b.aucFromHistogram(histogram)]
        })
        return list
    }
}
