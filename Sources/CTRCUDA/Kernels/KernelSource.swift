/// The CUDA C source of every kernel the CUDA backend launches: the prelude, then each op
/// family's kernels, which live beside their launch code in `Kernels/<Family>.swift`. NVRTC
/// compiles the assembled source once per device architecture (cached on disk by its hash), and
/// `KernelSignature` reads every kernel's parameters from it. Each kernel mirrors one `Backend`
/// method of the CPU backend; `swiftctr selftest --device cuda` compares the two.
enum KernelSource {
    /// Every op family's kernels, in the order they are compiled.
    static let families: [(name: String, source: String)] = [
        ("Memory", memory), ("GEMM", gemm), ("Elementwise", elementwise), ("Reduction", reduction),
        ("Normalization", normalization),
        ("CrossInteraction", crossInteraction), ("Loss", loss), ("Optimizer", optimizer), ("Embedding", embedding),
        ("Embedding+KeySlots", embeddingKeySlots), ("Metrics", metrics),
    ]

    /// The one source NVRTC compiles.
    static let assembled = ([prelude] + families.map { "// \($0.name): Kernels/\($0.name).swift\n\n" + $0.source })
        .joined(separator: "\n")
}
