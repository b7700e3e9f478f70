import CTRCore
import CTRCPU
import CTRLayers
import Foundation
import Testing

// CrossEntropyLoss and MultiCrossEntropyLoss beyond their registry conformance cases: each shape
// rule's own message, overflow-free softmax and sigmoid, HugeCTR's class-index rule, ignored
// labels and the evaluation outputs.

@Suite struct LossTests {
    let cpu = TS.cpu

    // MARK: shape rules

    @Test(arguments: [
        ShapeErrorCase(name: "CrossEntropyLoss with one class", inputs: [[1], [1]],
                       config: DenseLayer(.crossEntropyLoss, bottomNames: ["x0", "x1"], topNames: ["loss_bad"]),
                       mentions: ["expects logits (batch, C) with C ≥ 2 classes, found 'x0' (1)"]),
        ShapeErrorCase(name: "CrossEntropyLoss on 3D logits", inputs: [[2, 3], [3]],
                       config: DenseLayer(.crossEntropyLoss, bottomNames: ["x0", "x1"], topNames: ["loss_bad"]),
                       mentions: ["found 'x0' (2, 3)"]),
        ShapeErrorCase(name: "CrossEntropyLoss with a label of 3 columns for 2 classes", inputs: [[2], [3]],
                       config: DenseLayer(.crossEntropyLoss, bottomNames: ["x0", "x1"], topNames: ["loss_bad"]),
                       mentions: ["label 'x1' (3) does not fit logits 'x0' (2)", "or the class index (batch, 1)"]),
        ShapeErrorCase(name: "CrossEntropyLoss with a class index for 3 classes", inputs: [[3], [1]],
                       config: DenseLayer(.crossEntropyLoss, bottomNames: ["x0", "x1"], topNames: ["loss_bad"]),
                       mentions: ["label 'x1' (1) does not fit logits 'x0' (3)", "(batch, 3) (one-hot or class weights). Set"]),
        ShapeErrorCase(name: "CrossEntropyLoss with one bottom", inputs: [[2]],
                       config: DenseLayer(.crossEntropyLoss, bottomNames: ["x0"], topNames: ["loss_bad"]),
                       mentions: ["expects 2 bottom tensors, found 1"]),
        ShapeErrorCase(name: "MultiCrossEntropyLoss with unequal shapes", inputs: [[3], [2]],
                       config: DenseLayer(.multiCrossEntropyLoss, bottomNames: ["x0", "x1"], topNames: ["loss_bad"]),
                       mentions: ["[logits (batch, L), label (batch, L)] of one shape, found 'x0' (3) and 'x1' (2)"]),
        ShapeErrorCase(name: "MultiCrossEntropyLoss with target weights for another width", inputs: [[3], [3]],
                       config: DenseLayer(.multiCrossEntropyLoss, bottomNames: ["x0", "x1"], topNames: ["loss_bad"],
                                          targetWeightVec: [1, 2]),
                       mentions: ["target_weight_vec has 2 entries for 3 labels"]),
        ShapeErrorCase(name: "MultiCrossEntropyLoss with a NaN target weight", inputs: [[2], [2]],
                       config: DenseLayer(.multiCrossEntropyLoss, bottomNames: ["x0", "x1"], topNames: ["loss_bad"],
                                          targetWeightVec: [1, .nan]),
                       mentions: ["target_weight_vec must hold finite weights"]),
    ])
    func shapeRuleErrors(_ c: ShapeErrorCase) throws {
        try LayerTests().shapeRuleErrors(c)
    }

    // MARK: CrossEntropyLoss

    /// Logits of ±1000 overflow HugeCTR's softmax (no maximum subtracted); here the loss is the
    /// exact `lse − x_c` and the gradient `a − y`.
    @Test func crossEntropyWithHugeLogitsStaysFinite() throws {
        let logits = TS.variable("fc", [2, 2], [1000, -1000, 0, 1000])
        let label = TS.variable("label", [2, 2], [0, 1, 1, 0])
        let layer = try TS.make(DenseLayer(.crossEntropyLoss, bottomNames: ["fc", "label"], topNames: ["loss"]), [logits, label])
        let loss = try #require(layer as? CrossEntropyLoss)
        layer.forward(StepContext(batch: 2, training: true))
        // Sample 0 misses by 2000, sample 1 by 1000: the mean is 1500.
        #expect(abs(loss.loss - 1500) < 1e-2, "loss \(loss.loss)")
        TS.expectClose(TS.floats(logits.grad), [0.5, -0.5, -0.5, 0.5] as [Double], rtol: 1e-6, atol: 1e-7, "gradient (a − y)/B")
        layer.forward(StepContext(batch: 2, training: false))
        TS.expectClose(TS.floats(loss.predictions), [1, 0, 0, 1] as [Double], rtol: 0, atol: 1e-7, "softmax probabilities")
    }

    /// A `(B, 1)` label is the class index, 1 from 0.5 on (HugeCTR's `y < 0.5 ? 0 : 1`), read from
    /// the sample's own row.
    @Test func crossEntropyClassIndexLabels() throws {
        let xs: [Float] = [0.3, -0.2, 1.5, 0.5, -1, 2]
        let logits = TS.variable("fc", [3, 2], xs), label = TS.variable("label", [3, 1], [0.49, 0.5, 1])
        let layer = try TS.make(DenseLayer(.crossEntropyLoss, bottomNames: ["fc", "label"], topNames: ["loss"]), [logits, label])
        layer.forward(StepContext(batch: 3, training: true))
        let classes = [0, 1, 1]
        var expected: [Double] = [], total = 0.0
        for b in 0..<3 {
            let x0 = Double(xs[2 * b]), x1 = Double(xs[2 * b + 1]), lse = log(exp(x0) + exp(x1))
            total += lse - (classes[b] == 0 ? x0 : x1)
            expected += [(exp(x0 - lse) - (classes[b] == 0 ? 1 : 0)) / 3, (exp(x1 - lse) - (classes[b] == 1 ? 1 : 0)) / 3]
        }
        #expect(abs(Double((layer as! CrossEntropyLoss).loss) - total / 3) < 1e-6)
        TS.expectClose(TS.floats(logits.grad), expected, rtol: 1e-5, atol: 1e-7, "class-index gradient")
    }

    /// Two-class tasks report the AUC of class 1; with a class index that is label column 0.
    @Test func crossEntropyAUCColumns() throws {
        func columns(classes: Int, labelWidth: Int) throws -> [[Int]] {
            let layer = try TS.make(DenseLayer(.crossEntropyLoss, bottomNames: ["fc", "label"], topNames: ["loss"]),
                                    [TS.variable("fc", [2, classes], []), TS.variable("label", [2, labelWidth], [])])
            return (layer as! CrossEntropyLoss).aucColumns.map { [$0.prediction, $0.label] }
        }
        #expect(try columns(classes: 2, labelWidth: 2) == [[1, 1]])
        #expect(try columns(classes: 2, labelWidth: 1) == [[1, 0]])
        #expect(try columns(classes: 3, labelWidth: 3) == [[0, 0], [1, 1], [2, 2]])
    }

    // MARK: MultiCrossEntropyLoss

    /// A label below −0.5 contributes nothing and gets gradient 0, but still counts in the B·L
    /// divisor; evaluation gives σ(x) without overflow.
    @Test func multiCrossEntropyIgnoresMissingLabels() throws {
        let xs: [Float] = [0.5, 200, -1, -300], ys: [Float] = [1, -1, 0, 0.25]
        let logits = TS.variable("fc", [2, 2], xs), label = TS.variable("label", [2, 2], ys)
        let layer = try TS.make(DenseLayer(.multiCrossEntropyLoss, bottomNames: ["fc", "label"], topNames: ["loss"],
                                           targetWeightVec: [2, 0.5]), [logits, label])
        let loss = try #require(layer as? MultiCrossEntropyLoss)
        layer.forward(StepContext(batch: 2, training: true))
        let weights = [2.0, 0.5, 2, 0.5]
        let expected = [0, 2, 3].reduce(0.0) {
            $0 + weights[$1] * ConformanceReference.binaryCrossEntropy(logit: Double(xs[$1]), label: Double(ys[$1]))
        } / 4
        #expect(abs(Double(loss.loss) - expected) <= 1e-5 * max(1, expected), "loss \(loss.loss) vs \(expected)")
        let grad = TS.floats(logits.grad)
        #expect(grad[1] == 0, "an ignored label has no gradient")
        TS.expectClose([grad[0], grad[2], grad[3]],
                       [0, 2, 3].map { weights[$0] * (ConformanceReference.sigmoid(Double(xs[$0])) - Double(ys[$0])) / 4 },
                       rtol: 1e-5, atol: 1e-7, "weighted gradient / (B·L)")
        layer.forward(StepContext(batch: 2, training: false))
        TS.expectClose(TS.floats(loss.predictions), xs.map { ConformanceReference.sigmoid(Double($0)) }, rtol: 1e-6, atol: 1e-7, "σ(x)")
        #expect(loss.aucColumns.map(\.prediction) == [0, 1])
    }
}
