/// The dimensions of a row-major tensor; the first dimension is the batch where there is one.
///
/// ```swift
/// let s: Shape = [4096, 26, 16]
/// s.count   // 1_703_936
/// ```
public struct Shape: Equatable, Hashable, Sendable, CustomStringConvertible, ExpressibleByArrayLiteral {
    public var dims: [Int]

    public init(_ dims: [Int]) { self.dims = dims }
    public init(arrayLiteral elements: Int...) { self.dims = elements }

    public var rank: Int { dims.count }
    public var count: Int { dims.reduce(1, *) }
    public var last: Int { dims.last ?? 1 }
    public subscript(i: Int) -> Int { dims[i] }

    /// The shape without its first (batch) dimension.
    public var perSample: Shape { Shape(Array(dims.dropFirst())) }

    public var description: String { "(" + dims.map(String.init).joined(separator: ", ") + ")" }
}
