/// Any JSON text decodes into a `JSONValue` (with Foundation's `JSONDecoder`), integers kept apart
/// from numbers with a fraction, so a HugeCTR graph file can be read into the entries
/// `DenseLayer(hugeCTRJSON:index:)` takes. `JSONDecoder` reads a number with an integral value
/// (`10.0`, `1e2`) as an integer, which the layer readers accept where a float belongs; to keep
/// such a number a `.double` (and compare whole files), read the file with `JSONValue(file:)`.
///
/// ```swift
/// let entry = try JSONDecoder().decode([String: JSONValue].self, from: Data(#"{"type": "ReLU", "bottom": "fc1", "top": "relu1"}"#.utf8))
/// ```
extension JSONValue: Decodable {
    public init(from decoder: any Decoder) throws {
        let single = try decoder.singleValueContainer()
        if single.decodeNil() { self = .null }
        else if let flag = try? single.decode(Bool.self) { self = .bool(flag) }
        else if let integer = try? single.decode(Int.self) { self = .int(integer) }
        else if let number = try? single.decode(Double.self) { self = .double(number) }
        else if let string = try? single.decode(String.self) { self = .string(string) }
        else if let array = try? single.decode([JSONValue].self) { self = .array(array) }
        else { self = .object(try single.decode([String: JSONValue].self)) }
    }
}
