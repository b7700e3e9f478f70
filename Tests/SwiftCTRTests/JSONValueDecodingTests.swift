import CTRLayers
import Foundation
import Testing

/// JSON text through `JSONDecoder` into `JSONValue` entries, and on into layers.
@Suite("JSON text")
struct JSONValueDecodingTests {
    @Test func textDecodesIntoEntriesAndLayers() throws {
        let text = #"{"type": "InnerProduct", "bottom": ["a"], "top": "fc", "fc_param": {"num_output": 64, "weight_init": "Zero"}, "x": [1.5, null, true]}"#
        let entry = try JSONDecoder().decode([String: JSONValue].self, from: Data(text.utf8))
        #expect(entry["fc_param"] == .object(["num_output": .int(64), "weight_init": .string("Zero")]))
        #expect(entry["x"] == .array([.double(1.5), .null, .bool(true)]))
        let layer = try DenseLayer(hugeCTRJSON: entry, index: 0)
        #expect(layer.layerType == .innerProduct && layer.numOutput == 64 && layer.weightInitType == .zero)
        #expect(layer.bottomNames == ["a"] && layer.topNames == ["fc"])
    }
}
