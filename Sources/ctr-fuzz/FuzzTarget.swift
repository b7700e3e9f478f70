/// One fuzzed input format: a name for the command line, seed inputs to mutate, and a function
/// that feeds an input to the reader. A crash, a sanitizer report or a hang in `run` is a bug;
/// a thrown error is the expected outcome for a malformed input.
///
/// To fuzz another format, add a file with a type conforming to `FuzzTarget` and list it in
/// ``fuzzTargets``.
///
/// ```swift
/// enum ParquetFuzz: FuzzTarget { static let name = "parquet"; … }
/// ```
protocol FuzzTarget: SendableMetatype {
    static var name: String { get }
    /// Well-formed inputs the mutations start from.
    static func seeds() throws -> [[UInt8]]
    /// Reads `input` fully, throwing on malformed data and never crashing.
    static func run(_ input: [UInt8]) throws
}

/// Every format `ctr-fuzz` knows.
let fuzzTargets: [any FuzzTarget.Type] = [ParquetFuzz.self]
