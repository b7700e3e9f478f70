/// A JSON value as HugeCTR's graph files hold it, typed so that tests and readers can tell an
/// integer from a float and say what they found.
///
/// ```swift
/// let entry: [String: JSONValue] = ["type": "Dropout", "bottom": "fc1", "top": "drop1", "rate": 0.5]
/// print(JSONValue.object(entry).serialized())  // 2-space pretty printing, keys sorted, as HugeCTR writes
/// ```
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// A C++ `float` as HugeCTR writes it: widened to double (`0.9f` → `0.8999999761581421`).
    public static func float(_ value: Float) -> JSONValue { .double(Double(value)) }

    /// What this value is, for error messages: `a string "abc"`, `the number 2.5`, `an array of 3 elements`.
    public var summary: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return "the boolean \(value)"
        case .int(let value): return "the integer \(value)"
        case .double(let value): return "the number \(value)"
        case .string(let value): return "the string \"\(value)\""
        case .array(let items): return "an array of \(items.count) element\(items.count == 1 ? "" : "s")"
        case .object(let members): return "an object with keys [\(members.keys.sorted().joined(separator: ", "))]"
        }
    }

    /// The text nlohmann::json writes with `setw(2)` (HugeCTR's `graph_to_json`): 2-space indentation,
    /// one array element per line, object keys sorted, floats in shortest round-trip form.
    public func serialized(indent: Int = 0) -> String {
        let pad = String(repeating: " ", count: indent + 2), close = String(repeating: " ", count: indent)
        switch self {
        case .null: return "null"
        case .bool(let value): return value ? "true" : "false"
        case .int(let value): return String(value)
        case .double(let value): return value.isFinite ? value.description : "null"
        case .string(let value): return Self.quoted(value)
        case .array(let items):
            if items.isEmpty { return "[]" }
            return "[\n" + items.map { pad + $0.serialized(indent: indent + 2) }.joined(separator: ",\n") + "\n\(close)]"
        case .object(let members):
            if members.isEmpty { return "{}" }
            let lines = members.keys.sorted().map { key in
                pad + Self.quoted(key) + ": " + members[key]!.serialized(indent: indent + 2)
            }
            return "{\n" + lines.joined(separator: ",\n") + "\n\(close)}"
        }
    }

    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(nilLiteral: ()) { self = .null }
}
