/// How the keys of one (sample, slot) are pooled.
public enum Combiner: String, Sendable, Codable {
    case sum, mean
}
