/// Any JSON text decodes into a `JSONValue` (with Foundation's `JSONDecoder`), integers kept apart
/// from numbers with a fraction or an exponent, so a HugeCTR graph file can be read into the
/// entries `DenseLayer(hugeCTRJSON:index:)` takes.
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
