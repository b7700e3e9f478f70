import CTRCore

/// The shape-rule checks the layer builders share, phrased for the user: each names the layer,
/// its bottoms, what was expected and found, and the fix.
struct Checker {
    let config: DenseLayer
    let inputs: [Variable]

    func error(_ message: String) -> SwiftCTRError {
        SwiftCTRError(.shape, "layer '\(config.name)' (\(config.layerType.rawValue)), bottoms \(config.bottomNames): \(message)")
    }

    func describeInputs() -> String {
        inputs.map { "'\($0.name)' \($0.perSampleShape)" }.joined(separator: ", ")
    }

    func inputCount(_ n: Int) throws {
        guard inputs.count == n else {
            throw error("expects \(n) bottom tensor\(n == 1 ? "" : "s"), found \(inputs.count). Fix bottom_names.")
        }
    }

    /// Like `inputCount`, on the names in `bottom_names`: a layer that may read the parts of a
    /// folded Concat (InnerProduct) gets several inputs for its one bottom.
    func bottomNameCount(_ n: Int) throws {
        guard config.bottomNames.count == n else {
            throw error("expects \(n) bottom tensor\(n == 1 ? "" : "s"), found \(config.bottomNames.count). Fix bottom_names.")
        }
    }

    func topCount(_ n: Int) throws {
        guard config.topNames.count == n else {
            throw error("expects \(n) top name\(n == 1 ? "" : "s"), found \(config.topNames.count) (\(config.topNames)). Fix top_names.")
        }
    }

    func rank(in ranks: [Int]) throws {
        for input in inputs where !ranks.contains(input.shape.rank) {
            throw error("bottom '\(input.name)' must be \(ranks.map { "\($0)D" }.joined(separator: " or ")) (batch first), found \(input.shape.rank)D with per-sample shape \(input.perSampleShape). Add a Reshape before this layer.")
        }
    }

    func positive(_ value: Int, _ parameter: String) throws {
        guard value >= 1 else { throw error("\(parameter) must be ≥ 1, found \(value). Set \(parameter).") }
    }

    func sameShapes() throws {
        guard inputs.allSatisfy({ $0.shape == inputs[0].shape }) else {
            throw error("all bottoms must have the same shape, found \(describeInputs()).")
        }
    }
}
