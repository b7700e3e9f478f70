import Foundation

/// HugeCTR's non-trainable parameters JSON (`<prefix>_dense_<iter>.model.ntp.json`, API spec §4.4):
/// one object per layer with such parameters (BatchNorm's running "mean" and "var"), in layer
/// order, numbers as C++ `std::to_string(float)` prints them (fixed, 6 decimals).
///
/// ```swift
/// let text = NonTrainableParams.json([("BatchNorm", [("mean", [0.5]), ("var", [1.25])])])
/// // {"layers": [{"type": "BatchNorm", "mean": [0.500000], "var": [1.250000]}]}, indented
/// ```
enum NonTrainableParams {
    typealias Layer = (type: String, values: [(key: String, values: [Float])])

    static func json(_ layers: [Layer]) -> String {
        let objects = layers.map { layer in
            let fields = ["      \"type\": \"\(layer.type)\""] + layer.values.map { entry in
                "      \"\(entry.key)\": [" + entry.values.map { String(format: "%f", $0) }.joined(separator: ", ") + "]"
            }
            return "    {\n" + fields.joined(separator: ",\n") + "\n    }"
        }
        return "{\n  \"layers\": [\n" + objects.joined(separator: ",\n") + "\n  ]\n}\n"
    }

    /// The values of `path` for layers of the given types and keys, each `counts` long; throws
    /// naming the file, the layer index and what differs.
    static func read(_ path: String, expected: [(type: String, keys: [String], count: Int)]) throws -> [[[Float]]] {
        let data = try ModelFileReader.bytes(path, what: "non-trainable parameters")
        func fail(_ message: String) -> SwiftCTRError {
            SwiftCTRError(.data, "non-trainable parameters file '\(path)': " + message)
        }
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let layers = root["layers"] as? [Any] else {
            throw fail("expected a JSON object with a \"layers\" array, as save_params_to_files writes it. The file is truncated or not a .ntp.json file.")
        }
        guard layers.count == expected.count else {
            throw fail("\(layers.count) layers listed, but the model has \(expected.count) layers with non-trainable parameters (\(expected.map(\.type).joined(separator: ", "))). The file belongs to another model.")
        }
        return try zip(layers, expected).enumerated().map { index, pair in
            let (entry, want) = pair
            guard let object = entry as? [String: Any], let type = object["type"] as? String else {
                throw fail("layers[\(index)] is not an object with a \"type\" string.")
            }
            guard type == want.type else {
                throw fail("layers[\(index)] has type \"\(type)\", expected \"\(want.type)\" (the model's \(index + 1)th layer with non-trainable parameters).")
            }
            return try want.keys.map { key in
                guard let numbers = object[key] as? [Any] else {
                    throw fail("layers[\(index)] (\(type)) has no \"\(key)\" array.")
                }
                let values = numbers.compactMap { ($0 as? Double).map(Float.init) }
                guard values.count == numbers.count, values.count == want.count else {
                    throw fail("layers[\(index)] (\(type)) \"\(key)\" holds \(numbers.count) entries\(values.count == numbers.count ? "" : " (not all numbers)"), expected \(want.count) numbers, one per feature.")
                }
                return values
            }
        }
    }
}
