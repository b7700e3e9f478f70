/// `Initializer_t`: how a weight tensor starts. `.default` is the layer's own choice.
public enum Initializer: String, Sendable, Codable {
    case `default` = "Default"
    case uniform = "Uniform"
    case xavierNorm = "XavierNorm"
    case xavierUniform = "XavierUniform"
    case zero = "Zero"
}
