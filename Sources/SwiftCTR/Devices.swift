/// Which kind of device a `Model` built without an explicit backend trains on.
///
/// ```swift
/// let solver = Solver(vvgpu: [[0]], devices: .cuda)   // trains on GPU 0
/// ```
public enum Devices: String, Sendable, Codable {
    case cpu, cuda
}
