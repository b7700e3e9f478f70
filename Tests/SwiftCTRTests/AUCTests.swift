import CTRCore
import CTRCPU
import Foundation
import Testing

/// Pair counting: every (positive weight, negative weight) pair scores 1 when ordered right and ½ on a tie.
private func naiveAUC(_ predictions: [Float], _ labels: [Float]) -> Double {
    var score = 0.0
    var positives = 0.0
    var negatives = 0.0
    for i in predictions.indices {
        positives += Double(labels[i])
        negatives += 1 - Double(labels[i])
        for j in predictions.indices {
            let weight = Double(labels[i]) * (1 - Double(labels[j]))
            if predictions[i] > predictions[j] { score += weight } else if predictions[i] == predictions[j] { score += weight / 2 }
        }
    }
    return score / (positives * negatives)
}

@Test func aucSpecTestVector() {
    #expect(exactAUC(predictions: [0.1, 0.4, 0.4, 0.8], labels: [0, 0, 1, 1]) == 0.875)
}

@Test func aucHandCases() {
    #expect(exactAUC(predictions: [0.1, 0.2, 0.3, 0.4], labels: [0, 0, 1, 1]) == 1)
    #expect(exactAUC(predictions: [0.4, 0.3, 0.2, 0.1], labels: [0, 0, 1, 1]) == 0)
    #expect(exactAUC(predictions: [0.5, 0.5, 0.5], labels: [0, 1, 1]) == 0.5)
    // sklearn: roc_auc_score([0, 1, 0, 1, 1], [0.3, 0.3, 0.1, 0.9, 0.2]) = 0.75
    #expect(exactAUC(predictions: [0.3, 0.3, 0.1, 0.9, 0.2], labels: [0, 1, 0, 1, 1]) == 0.75)
    #expect(exactAUC(predictions: [0.2, 0.9] as [Double], labels: [0, 1]) == 1)
}

@Test func aucUndefinedCases() {
    #expect(exactAUC(predictions: [0.1, 0.2], labels: [1, 1]).isNaN)
    #expect(exactAUC(predictions: [0.1, 0.2], labels: [0, 0]).isNaN)
    #expect(exactAUC(predictions: [] as [Float], labels: []).isNaN)
    #expect(exactAUC(predictions: [.nan, 0.2], labels: [0, 1]).isNaN)
}

@Test(arguments: [1, 2, 3, 4, 5])
func aucMatchesPairCountingWithTies(seed: Int) {
    var rng = CounterRNG(seed: UInt64(seed), stream: 9)
    let n = 100 + rng.nextInt(below: 300)
    let levels = 1 + rng.nextInt(below: 12)
    let fractional = seed.isMultiple(of: 2)
    var predictions: [Float] = []
    var labels: [Float] = []
    for _ in 0 ..< n {
        let p = Float(rng.nextInt(below: levels)) / Float(levels)
        predictions.append(p)
        let y: Float = fractional ? Float(rng.nextInt(below: 5)) / 4 : (rng.nextUniform() < 0.3 + 0.4 * Double(p) ? 1 : 0)
        labels.append(y)
    }
    let fast = exactAUC(predictions: predictions, labels: labels)
    let slow = naiveAUC(predictions, labels)
    #expect(abs(fast - slow) < 1e-12, "seed \(seed): \(fast) vs \(slow)")
    #expect(exactAUC(predictions: predictions.map(Double.init), labels: labels) == fast)
}

// MARK: - The backend's histogram AUC (what evaluation reports)

/// The histogram AUC of one backend over `batches` of (predictions, labels).
private func histogramAUC(_ batches: [([Float], [Float])], labelStride: Int = 1) -> Double {
    let cpu = CPUBackend(threads: 1)
    let histogram = cpu.makeTensor([AUCHistogram.count], .float64)
    for (p, l) in batches {
        cpu.aucAccumulate(predictions: cpu.tensor(p, [p.count]), labels: cpu.tensor(l, [l.count]), labelStride: labelStride,
                          count: p.count, histogram: histogram)
    }
    return cpu.aucFromHistogram(histogram)
}

@Test func histogramAUCHandCases() {
    #expect(histogramAUC([([0.1, 0.4, 0.4, 0.8], [0, 0, 1, 1])]) == 0.875)
    #expect(histogramAUC([([0.3, 0.3], [0, 1]), ([0.1, 0.9, 0.2], [0, 1, 1])]) == 0.75)  // two batches
    #expect(histogramAUC([([0.1, 0.2], [1, 1])]).isNaN)
    #expect(histogramAUC([([0.1, .nan, 0.3], [0, 1, 1])]).isNaN)
    // Labels read `labelStride` apart: only the first of each pair counts.
    #expect(histogramAUC([([0.2, 0.9], [0, 1, 1, 0])], labelStride: 2) == 1)
}

/// On continuous predictions the 13-bit bins agree with the exact sort to well under 1e-4, and a
/// second evaluation starts from an empty histogram.
@Test(arguments: [1, 2, 3])
func histogramAUCMatchesExact(seed: Int) {
    var rng = CounterRNG(seed: UInt64(seed), stream: 21)
    let n = 200_000
    var predictions: [Float] = [], labels: [Float] = []
    for _ in 0..<n {
        let logit = rng.nextNormal() * 2 - 3
        let p = Float(1 / (1 + exp(-logit)))
        predictions.append(p)
        labels.append(rng.nextUniform() < Double(p) * 1.3 ? 1 : 0)
    }
    let exact = exactAUC(predictions: predictions, labels: labels)
    let half = n / 2
    let binned = histogramAUC([(Array(predictions[..<half]), Array(labels[..<half])),
                               (Array(predictions[half...]), Array(labels[half...]))])
    #expect(abs(binned - exact) < 2e-5, "seed \(seed): histogram \(binned) vs exact \(exact)")
    #expect(exact > 0.6)
}
