/// `FcPosition_t`: where a `FusedInnerProduct` sits in a chain of them. HugeCTR passes ReLU masks
/// and gradients between the layers of a `Head`, `Body`…, `Tail` chain through three extra tensors;
/// `Head` and `Body` give them as tops 2–4, `Body` and `Tail` read them as bottoms 2–4.
///
/// ```swift
/// DenseLayer(.fusedInnerProduct, bottomNames: ["dense"], topNames: ["fc1", "fc1_mask", "fc1_dRelu", "fc1_db"],
///            numOutput: 512, posType: .head)
/// ```
public enum FcPosition: String, Sendable, Codable {
    /// A single layer, not part of a chain (`FcPosition_t.Non`, the default).
    case none = "None"
    /// The first layer of a chain: 1 bottom (or 2), 4 tops.
    case head = "Head"
    /// A middle layer: 4 bottoms, 4 tops.
    case body = "Body"
    /// The last layer: 4 bottoms, 1 top.
    case tail = "Tail"
    /// A chain of one: 1 bottom, 1 top.
    case isolated = "Isolated"
}
