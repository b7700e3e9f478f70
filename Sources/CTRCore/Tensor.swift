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
