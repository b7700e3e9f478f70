/// Which kind of device a `Model` built without an explicit backend trains on.
public enum Devices: String, Sendable, Codable {
    case cpu, cuda
}
