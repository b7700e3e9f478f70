import SwiftCTR

/// A keyword the caller got wrong: unknown, missing, or of the wrong type (Python's `TypeError`).
struct ArgumentError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// The keyword arguments of one Python call, read one by one with the type and default HugeCTR's
/// binding gives them. Every read value (given or default) lands in `resolved`, which `make`
/// returns, so Python shows the same defaults Swift uses.
///
/// ```swift
/// var kw = try Keywords("CreateSolver", args)
/// let batch = try kw.int("batchsize", 2048)
/// try kw.finish()   // throws for a keyword nobody read
/// ```
struct Keywords {
    let owner: String
    private let given: [String: JSONValue]
    private var read: [String] = []
    private(set) var resolved: [String: JSONValue] = [:]

    init(_ owner: String, _ value: JSONValue?) throws {
        self.owner = owner
        switch value {
        case nil, .null?: given = [:]
        case .object(let members)?: given = members
        case let other?: throw ArgumentError("\(owner): expected keyword arguments as an object, found \(other.summary).")
        }
    }

    /// The raw value of `name`, or `fallback` (nil: the keyword is required).
    private mutating func value(_ name: String, _ fallback: JSONValue?) throws -> JSONValue {
        read.append(name)
        if let given = given[name], given != .null { return given }
        guard let fallback else {
            throw ArgumentError("\(owner)() missing required keyword argument '\(name)'. Pass \(name)=….")
        }
        return fallback
    }

    private func wrongType(_ name: String, _ expected: String, _ found: JSONValue) -> ArgumentError {
        ArgumentError("\(owner): keyword '\(name)' expects \(expected), found \(Self.describe(found)).")
    }

    /// What a Python value was, in Python's words.
    static func describe(_ value: JSONValue) -> String {
        switch value {
        case .object(let members):
            if case .string(let e)? = members["enum"], case .string(let n)? = members["name"] { return "\(e).\(n)" }
            if case .string(let c)? = members["class"] { return "a \(c) object" }
            if members["map"] != nil { return "a dict" }
            return value.summary
        case .array(let items): return "a list of \(items.count) element\(items.count == 1 ? "" : "s")"
        case .string(let text): return "the str '\(text)'"
        case .bool(let flag): return "the bool \(flag ? "True" : "False")"
        case .int(let n): return "the int \(n)"
        case .double(let x): return "the float \(x)"
        case .null: return "None"
        }
    }

    /// Throws when a keyword was given that this call does not take.
    func finish() throws {
        let unknown = given.keys.filter { !read.contains($0) }.sorted()
        guard let first = unknown.first else { return }
        let near = read.min { Self.distance($0, first) < Self.distance($1, first) }
        let hint = near.map { Self.distance($0, first) <= 3 ? " Did you mean '\($0)'?" : "" } ?? ""
        throw ArgumentError("\(owner)() got an unexpected keyword argument '\(first)'.\(hint) \(owner) takes: \(read.sorted().joined(separator: ", ")).")
    }

    private static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in 1...max(b.count, 1) where !b.isEmpty {
                let keep = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = keep
            }
        }
        return row[b.count]
    }

    private mutating func store(_ name: String, _ value: JSONValue) { resolved[name] = value }

    mutating func int(_ name: String, _ fallback: Int? = nil) throws -> Int {
        let v = try value(name, fallback.map { .int($0) })
        guard case .int(let n) = v else { throw wrongType(name, "an int", v) }
        store(name, v)
        return n
    }

    mutating func float(_ name: String, _ fallback: Float? = nil) throws -> Float {
        let v = try value(name, fallback.map { .double(Double($0)) })
        let x: Double
        switch v {
        case .int(let n): x = Double(n)
        case .double(let d): x = d
        default: throw wrongType(name, "a float", v)
        }
        store(name, .double(x))
        return Float(x)
    }

    mutating func bool(_ name: String, _ fallback: Bool? = nil) throws -> Bool {
        let v = try value(name, fallback.map { .bool($0) })
        guard case .bool(let flag) = v else { throw wrongType(name, "a bool (True or False)", v) }
        store(name, v)
        return flag
    }

    mutating func string(_ name: String, _ fallback: String? = nil) throws -> String {
        let v = try value(name, fallback.map { .string($0) })
        guard case .string(let text) = v else { throw wrongType(name, "a str", v) }
        store(name, v)
        return text
    }

    /// A list whose every element `convert` accepts.
    private mutating func list<T>(_ name: String, _ fallback: [JSONValue]?, _ what: String,
                                  _ convert: (JSONValue) -> T?) throws -> [T] {
        let v = try value(name, fallback.map { .array($0) })
        guard case .array(let items) = v else { throw wrongType(name, "a list of \(what)", v) }
        var out: [T] = []
        for (i, item) in items.enumerated() {
            guard let converted = convert(item) else {
                throw ArgumentError("\(owner): keyword '\(name)' expects a list of \(what), but element \(i) is \(Self.describe(item)).")
            }
            out.append(converted)
        }
        store(name, v)
        return out
    }

    mutating func ints(_ name: String, _ fallback: [Int]? = nil) throws -> [Int] {
        try list(name, fallback?.map { .int($0) }, "ints") { if case .int(let n) = $0 { n } else { nil } }
    }

    mutating func floats(_ name: String, _ fallback: [Float]? = nil) throws -> [Float] {
        try list(name, fallback?.map { .double(Double($0)) }, "floats") {
            switch $0 {
            case .int(let n): Float(n)
            case .double(let d): Float(d)
            default: nil
            }
        }
    }

    mutating func strings(_ name: String, _ fallback: [String]? = nil) throws -> [String] {
        try list(name, fallback?.map { .string($0) }, "strs") { if case .string(let s) = $0 { s } else { nil } }
    }

    mutating func bools(_ name: String, _ fallback: [Bool]? = nil) throws -> [Bool] {
        try list(name, fallback?.map { .bool($0) }, "bools") { if case .bool(let b) = $0 { b } else { nil } }
    }

    /// A str or a list of strs (`source`, `bottom_names`), as a list.
    mutating func stringOrList(_ name: String, _ fallback: [String]? = nil) throws -> [String] {
        let v = try value(name, fallback.map { .array($0.map { .string($0) }) })
        if case .string(let one) = v {
            store(name, v)
            return [one]
        }
        read.removeLast()
        return try strings(name, fallback)
    }

    /// An int or a list of ints (`nnz_per_slot`), as given.
    mutating func intOrList(_ name: String) throws -> Either<Int, [Int]> {
        let v = try value(name, nil)
        if case .int(let n) = v {
            store(name, v)
            return .one(n)
        }
        guard case .array = v else { throw wrongType(name, "an int or a list of ints", v) }
        read.removeLast()
        return .many(try ints(name))
    }

    /// Pairs such as Slice's `ranges=[(0, 10), (10, 13)]`.
    mutating func pairs(_ name: String, _ fallback: [[Int]]? = nil) throws -> [[Int]] {
        try list(name, fallback?.map { .array($0.map { .int($0) }) }, "(int, int) pairs") { item -> [Int]? in
            guard case .array(let pair) = item, pair.count == 2, case .int(let a) = pair[0], case .int(let b) = pair[1] else { return nil }
            return [a, b]
        }
    }

    /// `vvgpu`: a list of lists of ints.
    mutating func intLists(_ name: String, _ fallback: [[Int]]) throws -> [[Int]] {
        try list(name, fallback.map { .array($0.map { .int($0) }) }, "lists of ints") { item -> [Int]? in
            guard case .array(let inner) = item else { return nil }
            var out: [Int] = []
            for v in inner { guard case .int(let n) = v else { return nil }; out.append(n) }
            return out
        }
    }

    /// A member of the Python enum `type` (e.g. `Layer_t`), by its member name.
    mutating func member(_ name: String, of type: PyEnum, _ fallback: String? = nil) throws -> String {
        let v = try value(name, fallback.map { PyEnum.tag(type, $0) })
        guard let member = type.member(v) else {
            if case .object(let o) = v, case .string(let e)? = o["enum"], e == type.rawValue, case .string(let m)? = o["name"] {
                throw ArgumentError("\(owner): keyword '\(name)': \(type.rawValue) has no member '\(m)'; its members are \(type.members.joined(separator: ", ")).")
            }
            throw wrongType(name, "a member of hugectr.\(type.rawValue) (\(type.members.joined(separator: ", ")))", v)
        }
        store(name, v)
        return member
    }

    /// A list of members of one enum (MLP's `activations`), as member names.
    mutating func members(_ name: String, of type: PyEnum) throws -> [String] {
        try list(name, [], "hugectr.\(type.rawValue) members") { type.member($0) }
    }

    /// An object that an earlier `make` returned (its class and keywords), or nil when the
    /// keyword was not given and has no default.
    mutating func object(_ name: String, classes: [String], optional: Bool = true) throws -> (String, JSONValue)? {
        read.append(name)
        guard let v = given[name], v != .null else {
            if optional { return nil }
            throw ArgumentError("\(owner)() missing required keyword argument '\(name)'. Pass \(name)=hugectr.\(classes[0])(…).")
        }
        guard let (cls, kwargs) = Self.objectParts(v), classes.contains(cls) else {
            throw wrongType(name, "a hugectr.\(classes.joined(separator: " or hugectr.")) object", v)
        }
        store(name, v)
        return (cls, kwargs)
    }

    /// A list of objects of one class (`data_reader_sparse_param_array`).
    mutating func objects(_ name: String, of cls: String) throws -> [JSONValue] {
        try list(name, nil, "hugectr.\(cls) objects") { item -> JSONValue? in
            guard let (c, kwargs) = Self.objectParts(item), c == cls else { return nil }
            return kwargs
        }
    }

    /// A dict as Python sent it (`{"map": [[key, value], …]}`), as pairs.
    mutating func map(_ name: String, _ fallback: [(JSONValue, JSONValue)]) throws -> [(JSONValue, JSONValue)] {
        let v = try value(name, .object(["map": .array(fallback.map { .array([$0.0, $0.1]) })]))
        guard case .object(let o) = v, case .array(let entries)? = o["map"] else { throw wrongType(name, "a dict", v) }
        var out: [(JSONValue, JSONValue)] = []
        for entry in entries {
            guard case .array(let kv) = entry, kv.count == 2 else { throw wrongType(name, "a dict", v) }
            out.append((kv[0], kv[1]))
        }
        store(name, v)
        return out
    }

    /// Reads a keyword that is accepted for compatibility and has no effect here.
    mutating func accept(_ name: String, _ fallback: JSONValue) {
        read.append(name)
        store(name, given[name] ?? fallback)
    }

    static func objectParts(_ v: JSONValue) -> (String, JSONValue)? {
        guard case .object(let o) = v, case .string(let cls)? = o["class"] else { return nil }
        return (cls, o["kwargs"] ?? .object([:]))
    }

    func givenValue(_ name: String) -> JSONValue? { given[name] }

    func has(_ name: String) -> Bool { given[name].map { $0 != .null } ?? false }
}

enum Either<A, B> {
    case one(A)
    case many(B)
}
