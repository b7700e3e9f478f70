/// Where host buffers for batches come from: plain memory by default; a GPU backend hands out
/// page-locked (pinned) memory, which its uploads copy from directly, so a reader that decodes
/// into these buffers feeds the GPU without another copy. A pool recycles buffers of equal
/// size; `take` and `give` may be called from any thread.
public protocol HostBufferPool: AnyObject, Sendable {
    /// At least `bytes` bytes, 64-byte aligned; nil when the memory cannot be had (the caller
    /// then uses plain memory).
    func take(bytes: Int) -> UnsafeMutableRawPointer?
    /// Returns a buffer `take` gave, of the same `bytes`.
    func give(_ pointer: UnsafeMutableRawPointer, bytes: Int)
}

/// One host buffer, returned to its pool (or freed) with its last reference.
public final class HostBuffer: @unchecked Sendable {
    public let pointer: UnsafeMutableRawPointer
    public let byteCount: Int
    /// The pool the memory came from; nil for plain memory.
    public let pool: (any HostBufferPool)?

    /// `byteCount` bytes from `pool`, or plain memory when there is no pool or it has none.
    public init(byteCount: Int, pool: (any HostBufferPool)? = nil) {
        let bytes = max(byteCount, 64)
        self.byteCount = bytes
        if let pool, let pointer = pool.take(bytes: bytes) {
            self.pointer = pointer
            self.pool = pool
        } else {
            pointer = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
            self.pool = nil
        }
    }

    deinit {
        if let pool { pool.give(pointer, bytes: byteCount) } else { pointer.deallocate() }
    }
}

/// An immutable array of plain values in a `HostBuffer`: what batches hold, so that a reader can
/// fill pinned memory and hand it on without copying. Reads like an `Array`.
///
/// ```swift
/// let labels: HostArray<Float> = [1, 0, 1]
/// labels[2]                               // 1
/// labels.withUnsafeBytes { backend.upload($0, to: tensor) }
/// ```
public struct HostArray<Element: BitwiseCopyable>: RandomAccessCollection, Sendable {
    public let buffer: HostBuffer
    public let count: Int

    /// The first `count` values of `buffer` (which must hold them, written).
    public init(buffer: HostBuffer, count: Int) {
        precondition(count * MemoryLayout<Element>.stride <= buffer.byteCount, "HostArray: \(count) values overflow the buffer")
        self.buffer = buffer
        self.count = count
    }

    /// A copy of `values` in plain memory.
    public init(_ values: [Element]) {
        buffer = HostBuffer(byteCount: values.count * MemoryLayout<Element>.stride)
        count = values.count
        values.withUnsafeBytes { buffer.pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }

    public init() { self.init([]) }

    /// `count` values from `pool` (plain memory when nil) that `body` writes, every one.
    public init(count: Int, pool: (any HostBufferPool)?, writing body: (UnsafeMutablePointer<Element>) throws -> Void) rethrows {
        buffer = HostBuffer(byteCount: count * MemoryLayout<Element>.stride, pool: pool)
        self.count = count
        try body(buffer.pointer.assumingMemoryBound(to: Element.self))
    }

    @inline(__always)
    var base: UnsafeMutablePointer<Element> { buffer.pointer.assumingMemoryBound(to: Element.self) }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    @inline(__always)
    public subscript(position: Int) -> Element {
        precondition(position >= 0 && position < count, "HostArray index \(position) out of range 0..<\(count)")
        return base[position]
    }

    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Element>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: base, count: count))
    }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: buffer.pointer, count: count * MemoryLayout<Element>.stride))
    }

    /// The values as a Swift array (a copy).
    public var array: [Element] { withUnsafeBufferPointer { Array($0) } }
}

extension HostArray: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: Element...) { self.init(elements) }
}

extension HostArray: Equatable where Element: Equatable {
    public static func == (a: HostArray, b: HostArray) -> Bool { a.elementsEqual(b) }
    public static func == (a: HostArray, b: [Element]) -> Bool { a.elementsEqual(b) }
    public static func == (a: [Element], b: HostArray) -> Bool { a.elementsEqual(b) }
}

extension HostArray: CustomStringConvertible {
    public var description: String { array.description }
}
