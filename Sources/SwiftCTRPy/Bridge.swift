import Foundation
import SwiftCTR

/// The C entry points of `libSwiftCTRPy.so`, which the Python package `hugectr` loads with
/// ctypes (docs/python.md): one JSON request in, one JSON reply out. Every error becomes a reply;
/// nothing a caller passes may end the process.
@_cdecl("hctr_call")
public func hctr_call(_ request: UnsafePointer<CChar>?,
                      _ onEvent: (@convention(c) (UnsafePointer<CChar>?) -> Int32)?) -> UnsafeMutablePointer<CChar>? {
    let reply = Bridge.shared.reply(to: request.map { String(cString: $0) } ?? "", onEvent: onEvent)
    return strdup(reply.serialized())
}

@_cdecl("hctr_free")
public func hctr_free(_ reply: UnsafeMutablePointer<CChar>?) {
    free(reply)
}

/// Copies buffer `buffer` (from `check_out_tensor` or `predict`) into `destination` and frees it;
/// returns the number of floats copied, or −1 for an unknown buffer or a count other than its size.
@_cdecl("hctr_take_floats")
public func hctr_take_floats(_ buffer: Int64, _ destination: UnsafeMutablePointer<Float>?, _ count: Int64) -> Int64 {
    Bridge.shared.take(Int(buffer), into: destination, count: Int(count))
}

typealias EventSink = @convention(c) (UnsafePointer<CChar>?) -> Int32

/// A Python callback raised; Python re-raises its own exception.
struct CallbackError: Error {}

/// The objects Python holds handles to, and the dispatch of requests to them.
final class Bridge: @unchecked Sendable {
    static let shared = Bridge()
    private let lock = NSRecursiveLock()
    private var nextHandle = 1
    private var objects: [Int: AnyObject] = [:]
    private var buffers: [Int: [Float]] = [:]

    func reply(to text: String, onEvent: EventSink?) -> JSONValue {
        lock.lock()
        defer { lock.unlock() }
        do {
            guard case .object(let request) = try JSONValue(text: text), case .string(let method)? = request["method"] else {
                throw ArgumentError("hctr_call: expected {\"method\": NAME, \"args\": {...}}, found \(text.prefix(200)).")
            }
            let args: [String: JSONValue]
            switch request["args"] {
            case nil, .null?: args = [:]
            case .object(let members)?: args = members
            case let other?: throw ArgumentError("\(method): args must be an object, found \(other.summary).")
            }
            return .object(["ok": try call(method, Arguments(method, args), onEvent: onEvent)])
        } catch {
            return .object(["error": Self.describe(error)])
        }
    }

    static func describe(_ error: any Error) -> JSONValue {
        let (kind, message): (String, String)
        switch error {
        case let e as ArgumentError: (kind, message) = ("argument", e.message)
        case let e as SwiftCTRError:
            let kinds: [SwiftCTRError.Kind: String] = [.config: "config", .shape: "config", .data: "data", .capacity: "data",
                                                       .device: "device", .io: "io", .numeric: "numeric"]
            (kind, message) = (kinds[e.kind] ?? "internal", e.description)
        case let e as DataError: (kind, message) = ("data", e.description)
        case is CallbackError: (kind, message) = ("callback", "a TrainingCallback raised an exception")
        default: (kind, message) = ("internal", "\(error)")
        }
        return .object(["kind": .string(kind), "message": .string(message)])
    }

    func register(_ object: AnyObject) -> JSONValue {
        let handle = nextHandle
        nextHandle += 1
        objects[handle] = object
        return .object(["handle": .int(handle)])
    }

    func object<T: AnyObject>(_ args: inout Arguments, _ type: T.Type, _ what: String) throws -> T {
        let handle = try args.int("handle")
        guard let object = objects[handle] as? T else {
            throw ArgumentError("\(args.method): handle \(handle) is not a live \(what); it was freed or never made.")
        }
        return object
    }

    func release(_ args: inout Arguments) throws {
        objects[try args.int("handle")] = nil
    }

    /// A float buffer for Python to take, with its shape.
    func buffer(_ values: [Float], shape: [Int]) -> JSONValue {
        let id = nextHandle
        nextHandle += 1
        buffers[id] = values
        return .object(["shape": .array(shape.map { .int($0) }), "buffer": .int(id)])
    }

    func take(_ id: Int, into destination: UnsafeMutablePointer<Float>?, count: Int) -> Int64 {
        lock.lock()
        defer { lock.unlock() }
        guard let values = buffers[id], values.count == count, let destination else { return -1 }
        buffers[id] = nil
        values.withUnsafeBufferPointer { destination.update(from: $0.baseAddress!, count: count) }
        return Int64(count)
    }

    private func call(_ method: String, _ arguments: Arguments, onEvent: EventSink?) throws -> JSONValue {
        var args = arguments
        let result: JSONValue
        switch method {
        case "version": result = .string(Bridge.version)
        case "make":
            let cls = try args.string("class")
            result = try Makers.make(cls, args.raw("kwargs"))
        case "DataGenerator.generate": result = try DataGeneratorBridge.generate(&args)
        default:
            if method.hasPrefix("Model.") {
                result = try ModelMethods.call(method, &args, bridge: self, onEvent: onEvent)
            } else if method.hasPrefix("LearningRateScheduler.") {
                result = try ModelMethods.scheduler(method, &args, bridge: self)
            } else if method.hasPrefix("InferenceModel.") {
                result = try InferenceBridge.call(method, &args, bridge: self)
            } else {
                throw ArgumentError("hctr_call: unknown method '\(method)'; see docs/python.md for the methods.")
            }
        }
        try args.finish()
        return result
    }

    static let version = "23.8.0"
}

/// A request's arguments, read like keywords (a method's name in the messages).
struct Arguments {
    let method: String
    private var keywords: Keywords

    init(_ method: String, _ args: [String: JSONValue]) throws {
        self.method = method
        keywords = try Keywords(method, .object(args))
    }

    mutating func int(_ name: String, _ fallback: Int? = nil) throws -> Int { try keywords.int(name, fallback) }
    mutating func float(_ name: String, _ fallback: Float? = nil) throws -> Float { try keywords.float(name, fallback) }
    mutating func bool(_ name: String, _ fallback: Bool? = nil) throws -> Bool { try keywords.bool(name, fallback) }
    mutating func string(_ name: String, _ fallback: String? = nil) throws -> String { try keywords.string(name, fallback) }
    mutating func strings(_ name: String, _ fallback: [String]? = nil) throws -> [String] { try keywords.strings(name, fallback) }
    mutating func floats(_ name: String, _ fallback: [Float]? = nil) throws -> [Float] { try keywords.floats(name, fallback) }
    mutating func ints(_ name: String, _ fallback: [Int]? = nil) throws -> [Int] { try keywords.ints(name, fallback) }
    mutating func member(_ name: String, of type: PyEnum, _ fallback: String? = nil) throws -> String {
        try keywords.member(name, of: type, fallback)
    }
    mutating func value<T: RawRepresentable>(_ name: String, of type: PyEnum, _ fallback: String? = nil) throws -> T
        where T.RawValue == String {
        try keywords.value(name, of: type, fallback)
    }
    /// The raw value of `name` (nil when absent), marked as read.
    mutating func raw(_ name: String) -> JSONValue? {
        let value = has(name) ? rawValue(name) : nil
        keywords.accept(name, .null)
        return value
    }
    mutating func map(_ name: String) throws -> [(JSONValue, JSONValue)] { try keywords.map(name, []) }
    func has(_ name: String) -> Bool { keywords.has(name) }
    private func rawValue(_ name: String) -> JSONValue? { keywords.givenValue(name) }
    func finish() throws { try keywords.finish() }
}
