/// One kernel argument, passed by value as the kernel's C parameter of the same type.
///
/// ```swift
/// let arguments: [KernelArgument] = [.float(2), .pointer(x), .pointer(y), .int32(Int32(n))]
/// ```
public enum KernelArgument: Sendable {
    /// A device address (`T*` in the kernel).
    case pointer(CUdeviceptr)
    case int32(Int32)
    case uint32(UInt32)
    case int64(Int64)
    case uint64(UInt64)
    case float(Float)
    /// A scalar that changes from step to step (a seed, a learning rate as float bits), passed as
    /// the kernel's `step_scalar { u64 value; const u64* slot; }`: the kernel reads `*slot` when
    /// the slot is set, so a captured CUDA graph replays with each step's value.
    /// `CUDABackend` fills in the slot while it captures or replays a graph.
    case perStep(UInt64, slot: CUdeviceptr = 0)

    /// The bytes of the argument's slot: 8, or 16 for `step_scalar` (two 8-byte fields).
    var slotSize: Int {
        if case .perStep = self { 16 } else { 8 }
    }

    /// Writes the value at the start of a `slotSize`-byte, 8-aligned slot.
    func store(to slot: UnsafeMutableRawPointer) {
        switch self {
        case .pointer(let value): slot.storeBytes(of: value, as: UInt64.self)
        case .int32(let value): slot.storeBytes(of: value, as: Int32.self)
        case .uint32(let value): slot.storeBytes(of: value, as: UInt32.self)
        case .int64(let value): slot.storeBytes(of: value, as: Int64.self)
        case .uint64(let value): slot.storeBytes(of: value, as: UInt64.self)
        case .float(let value): slot.storeBytes(of: value, as: Float.self)
        case .perStep(let value, let address):
            slot.storeBytes(of: value, as: UInt64.self)
            slot.storeBytes(of: address, toByteOffset: 8, as: UInt64.self)
        }
    }
}
