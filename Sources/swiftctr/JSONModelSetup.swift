import Foundation
import SwiftCTR

/// What `swiftctr train MODEL.json` and `swiftctr summary MODEL.json` share: the file read as a
/// `ModelConfig`, its warnings (printed to standard error), the `--precision` mapping and the
/// device of a legacy configuration.
struct JSONModelSetup {
    let file: String
    let config: ModelConfig
    /// The file's warnings, then the ones the setup adds.
    var warnings: [String]

    init(file: String) throws {
        self.file = file
        config = try ModelConfig(file: file)
        warnings = config.warnings
    }

    /// The adjustable parts of `swiftctr train`'s solver for a graph JSON: `--precision` and
    /// `--cuda-graph`. fp16 scales the loss by 1024, as `swiftctr train` does.
    static func apply(precision: String, to solver: inout Solver) {
        solver.useMixedPrecision = precision == "bf16" || precision == "fp16"
        solver.mixedPrecisionType = precision == "fp16" ? .float16 : .bfloat16
        solver.enableTF32Compute = precision == "tf32"
        solver.scaler = precision == "fp16" ? 1024 : 1
    }

    /// The backend for a legacy configuration's `solver`: `--device cpu` trains in fp32 (a
    /// configuration's `mixed_precision` needs a GPU, so it is switched off with a warning) on
    /// `workers` simulated workers (`--workers`; the configuration's `gpu` list names GPUs);
    /// `--device cuda` takes the first GPU of the configuration's `gpu` list, `cuda:N` GPU N.
    mutating func backend(_ device: String, workers: Int = 1, solver: inout Solver) throws -> any Backend {
        if device == "cpu" {
            solver.vvgpu = [Array(0..<workers)]
            if solver.useMixedPrecision {
                warnings.append("'\(file)' asks for mixed precision, which needs a GPU; training in fp32 on the CPU (use --device cuda for fp16).")
                solver.useMixedPrecision = false
                solver.scaler = 1
            }
            return CPUBackend()
        }
        let listed = solver.vvgpu.flatMap { $0 }
        guard device == "cuda" || Int(device.dropFirst(5)) != nil else {
            throw SwiftCTRError(.config, "--device \(device): a legacy configuration trains on one GPU; give --device cuda:N.")
        }
        let ordinal = device == "cuda" ? listed.first ?? 0 : Int(device.dropFirst(5)) ?? 0
        if listed.count > 1 {
            warnings.append("'\(file)' lists GPUs \(listed); this version trains on one GPU: GPU \(ordinal).")
        }
        solver.vvgpu = [[ordinal]]
        return try CUDABackend(ordinal: ordinal)
    }

    /// The legacy solver's model files, which this version does not load: one warning each.
    func printWarnings() {
        for warning in warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
    }
}
