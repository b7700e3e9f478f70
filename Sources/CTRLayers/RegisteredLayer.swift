/// A layer-book type that `LayerRegistry` builds. Each conforming layer keeps in its own file
/// everything a new reader needs: the math (doc comment), the HugeCTR parameters it reads, its
/// shape rules and construction (`make`), and the sample cases that `swift test` checks against a
/// float64 reference and `swiftctr selftest` checks device-against-CPU.
///
/// ```swift
/// let layer = try ReLU.make(DenseLayer(.relu, bottomNames: ["fc1"], topNames: ["relu1"]), inputs: [fc1],
///                           context: LayerBuildContext(backend: cpu, initializer: WeightInitializer(seed: 1)))
/// ```
public protocol RegisteredLayer: Layer, SendableMetatype {
    /// The layer-book type this class builds.
    static var layerType: LayerType { get }
    /// The HugeCTR `DenseLayer` keys this type reads besides `bottom_names` and `top_names`; it
    /// ignores the others, as HugeCTR does.
    static var parameterNames: [String] { get }
    /// Checks the layer book's shape rules for `config` on `inputs` (each violation a
    /// `SwiftCTRError` of kind `.shape` naming the layer, what was expected and found, and the fix)
    /// and builds the layer. `inputs` is never empty.
    static func make(_ config: DenseLayer, inputs: [Variable], context: LayerBuildContext) throws -> any Layer
    /// Sample configurations covering the type's modes, each with a float64 reference forward.
    static var conformanceCases: [ConformanceCase] { get }
    /// Why `config` may not be built with `use_mixed_precision` (HugeCTR builds the layer in fp32
    /// only), or nil when it may. Default: nil.
    static func mixedPrecisionRefusal(_ config: DenseLayer) -> String?
}

extension RegisteredLayer {
    public var type: LayerType { Self.layerType }

    public static func mixedPrecisionRefusal(_ config: DenseLayer) -> String? { nil }

    /// The refusal of a layer HugeCTR builds in fp32 only.
    public static var fp32Only: String {
        "HugeCTR builds \(layerType.rawValue) in fp32 only, so the layer book does not allow it with use_mixed_precision. Turn mixed precision off (Solver(useMixedPrecision: false)) or remove the layer."
    }
}
