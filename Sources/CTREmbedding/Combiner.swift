/// How the keys of one (sample, slot) are pooled (HugeCTR's `combiner`).
///
/// ```swift
/// let combiner = Combiner(rawValue: "mean")   // .mean: the average of the slot's vectors
/// ```
public enum Combiner: String, Sendable, Codable {
    case sum, mean
}
