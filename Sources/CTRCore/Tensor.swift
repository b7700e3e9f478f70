/// Element type of a `Tensor`.
public enum DType: String, Sendable, Codable, CustomStringConvertible {
    /// `bfloat16` and `float16` hold activations of mixed-precision training on a GPU.
    case float32, int64, int32, bfloat16, float16, float64

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .float32, .int32: 4
        case .int64, .float64: 8
        case .bfloat16, .float16: 2
        }
    }

    public var description: String { rawValue }
}

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

/// Memory owned by one backend. A CPU buffer is host memory; a CUDA buffer is device memory.
public protocol DeviceStorage: AnyObject, Sendable {
    var byteCount: Int { get }
}

/// Host memory, 64-byte aligned and zero-filled, freed with its last reference.
public final class HostStorage: DeviceStorage, @unchecked Sendable {
    public let pointer: UnsafeMutableRawPointer
    public let byteCount: Int

    public init(byteCount: Int) {
        self.byteCount = byteCount
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 64), alignment: 64)
        pointer.initializeMemory(as: UInt8.self, repeating: 0, count: max(byteCount, 64))
    }

    deinit { pointer.deallocate() }
}

/// A typed, shaped view of backend memory with reference semantics: layers share tensors by name,
/// and a reshape is a new view of the same storage.
///
/// ```swift
/// let x = backend.makeTensor([32, 429], .float32)
/// let flat = x.reshaped([32 * 429])
/// ```
public final class Tensor: @unchecked Sendable, CustomStringConvertible {
    public let shape: Shape
    public let dtype: DType
    public let storage: any DeviceStorage
    /// Offset of element 0 in bytes from the start of `storage`.
    public let byteOffset: Int

    public init(shape: Shape, dtype: DType, storage: any DeviceStorage, byteOffset: Int = 0) {
        precondition(byteOffset + shape.count * dtype.size <= storage.byteCount, "tensor view exceeds its storage")
        self.shape = shape
        self.dtype = dtype
        self.storage = storage
        self.byteOffset = byteOffset
    }

    public var count: Int { shape.count }
    public var byteCount: Int { count * dtype.size }

    /// The same memory under another shape with the same element count.
    public func reshaped(_ newShape: Shape) -> Tensor {
        precondition(newShape.count == count, "reshape \(shape) -> \(newShape) changes the element count")
        return Tensor(shape: newShape, dtype: dtype, storage: storage, byteOffset: byteOffset)
    }

    /// The leading `n` elements of the flat memory under `newShape` (for partial batches and
    /// workspaces sized for the largest case).
    public func prefix(_ newShape: Shape) -> Tensor {
        precondition(newShape.count <= count, "prefix \(newShape) is larger than \(shape)")
        return Tensor(shape: newShape, dtype: dtype, storage: storage, byteOffset: byteOffset)
    }

    /// The `newShape.count` elements starting at element `offset`, as a tensor of `newShape`
    /// sharing this memory (e.g. one row of a matrix).
    public func view(from offset: Int, _ newShape: Shape) -> Tensor {
        precondition(offset >= 0 && offset + newShape.count <= count, "view [\(offset), +\(newShape.count)) outside \(shape)")
        return Tensor(shape: newShape, dtype: dtype, storage: storage, byteOffset: byteOffset + offset * dtype.size)
    }

    public var description: String { "Tensor\(shape) \(dtype)" }
}

extension Tensor {
    /// Host pointer of a CPU tensor. Only a CPU backend calls this.
    @inlinable
    public func hostPointer<T>(as type: T.Type) -> UnsafeMutablePointer<T> {
        guard let host = storage as? HostStorage else {
            preconditionFailure("hostPointer on a tensor that is not in host memory")
        }
        return (host.pointer + byteOffset).assumingMemoryBound(to: T.self)
    }
}
