// swift-tools-version:6.0
import PackageDescription

let strict: [SwiftSetting] = [.enableUpcomingFeature("MemberImportVisibility")]

let package = Package(
    name: "SwiftCTR",
    products: [
        .library(name: "SwiftCTR", targets: ["SwiftCTR"]),
        .executable(name: "swiftctr", targets: ["swiftctr"]),
        // The C entry points the Python package `hugectr` loads (docs/python.md).
        .library(name: "SwiftCTRPy", type: .dynamic, targets: ["SwiftCTRPy"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .target(name: "CTRCore", swiftSettings: strict),
        .target(name: "CTRCPU", dependencies: ["CTRCore"], swiftSettings: strict),
        .target(name: "CTRCUDA", dependencies: ["CTRCore"], swiftSettings: strict),
        .target(name: "CTRLayers", dependencies: ["CTRCore"], swiftSettings: strict),
        .target(name: "CTREmbedding", dependencies: ["CTRCore"], swiftSettings: strict),
        .target(name: "CTROptimizers", dependencies: ["CTRCore"], swiftSettings: strict),
        .target(name: "CTRData", dependencies: ["CTRCore"], swiftSettings: strict),
        // Open MPI, loaded at run time: one worker per process under mpirun (MPICollective).
        .target(name: "CTRMPI", dependencies: ["CTRCore"], swiftSettings: strict),
        .target(
            name: "SwiftCTR",
            dependencies: ["CTRCore", "CTRCPU", "CTRCUDA", "CTRLayers", "CTREmbedding", "CTROptimizers", "CTRData", "CTRMPI"],
            swiftSettings: strict),
        .target(name: "SwiftCTRPy", dependencies: ["SwiftCTR"], swiftSettings: strict),
        .executableTarget(
            name: "swiftctr",
            dependencies: ["SwiftCTR", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict),
        // Every MPICollective operation under mpirun against InProcessCollective (scripts/mpi-tests.sh).
        .executableTarget(name: "swiftctr-mpi-check", dependencies: ["CTRCore", "CTRCPU", "CTRMPI"], swiftSettings: strict),
        .executableTarget(name: "dcn-example", dependencies: ["SwiftCTR"], path: "Examples/DCN", swiftSettings: strict),
        // The other HugeCTR sample models (Examples/json); scripts/examples-check.sh checks their graphs.
        .executableTarget(name: "dcn-v2-example", dependencies: ["SwiftCTR"], path: "Examples/DCNv2", swiftSettings: strict),
        .executableTarget(name: "wdl-example", dependencies: ["SwiftCTR"], path: "Examples/WDL", swiftSettings: strict),
        .executableTarget(name: "deepfm-example", dependencies: ["SwiftCTR"], path: "Examples/DeepFM", swiftSettings: strict),
        .executableTarget(name: "criteo-example", dependencies: ["SwiftCTR"], path: "Examples/Criteo", swiftSettings: strict),
        .executableTarget(name: "criteo-multi-slots-example", dependencies: ["SwiftCTR"], path: "Examples/CriteoMultiSlots", swiftSettings: strict),
        .executableTarget(name: "din-example", dependencies: ["SwiftCTR"], path: "Examples/DIN", swiftSettings: strict),
        .executableTarget(name: "din-try-example", dependencies: ["SwiftCTR"], path: "Examples/DINTry", swiftSettings: strict),
        .executableTarget(name: "dlrm-example", dependencies: ["SwiftCTR"], path: "Examples/DLRM", swiftSettings: strict),
        .executableTarget(name: "ftrl-example", dependencies: ["SwiftCTR"], path: "Examples/FTRL", swiftSettings: strict),
        .executableTarget(name: "dlrm-dcnv2-example", dependencies: ["SwiftCTR"], path: "Examples/DLRMDCNv2", swiftSettings: strict),
        .executableTarget(name: "gmf-example", dependencies: ["SwiftCTR"], path: "Examples/GMF", swiftSettings: strict),
        .executableTarget(name: "ncf-example", dependencies: ["SwiftCTR"], path: "Examples/NCF", swiftSettings: strict),
        .executableTarget(name: "neumf-example", dependencies: ["SwiftCTR"], path: "Examples/NeuMF", swiftSettings: strict),
        .executableTarget(name: "mmoe-example", dependencies: ["SwiftCTR"], path: "Examples/MMoE", swiftSettings: strict),
        .executableTarget(name: "shared-bottom-example", dependencies: ["SwiftCTR"], path: "Examples/SharedBottom", swiftSettings: strict),
        .executableTarget(name: "bst-example", dependencies: ["SwiftCTR"], path: "Examples/BST", swiftSettings: strict),
        .executableTarget(name: "readme-example", dependencies: ["SwiftCTR"], path: "Examples/Readme", swiftSettings: strict),
        .testTarget(
            name: "SwiftCTRTests",
            dependencies: ["SwiftCTR", "CTRCore", "CTRCPU", "CTRCUDA", "CTRLayers", "CTREmbedding", "CTROptimizers", "CTRData", "CTRMPI"],
            exclude: ["Fixtures"],
            swiftSettings: strict),
    ]
)
