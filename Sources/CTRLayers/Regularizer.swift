/// `Regularizer_t`.
public enum Regularizer: String, Sendable, Codable {
    case l1 = "L1"
    case l2 = "L2"
}
