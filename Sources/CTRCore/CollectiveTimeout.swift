#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How long a collective call waits for the other workers before it gives up and says which call
/// hung: `SWIFTCTR_COLLECTIVE_TIMEOUT` seconds, 20 when unset. `MPICollective` waits for the other
/// ranks this long, `NCCLCollective` for its GPUs' streams.
///
/// ```swift
/// let timeout = try CollectiveTimeout.fromEnvironment()   // SWIFTCTR_COLLECTIVE_TIMEOUT=60: 60 s
/// ```
public enum CollectiveTimeout {
    /// The timeout when `SWIFTCTR_COLLECTIVE_TIMEOUT` is unset.
    public static let standard = Duration.seconds(20)

    /// `SWIFTCTR_COLLECTIVE_TIMEOUT` (seconds, > 0), or `standard` when it is unset.
    public static func fromEnvironment() throws(SwiftCTRError) -> Duration {
        try parse(getenv("SWIFTCTR_COLLECTIVE_TIMEOUT").map { String(cString: $0) })
    }

    /// `text` as the value of `SWIFTCTR_COLLECTIVE_TIMEOUT`; nil gives `standard`.
    public static func parse(_ text: String?) throws(SwiftCTRError) -> Duration {
        guard let text else { return standard }
        guard let seconds = Double(text), seconds > 0, seconds.isFinite else {
            throw SwiftCTRError(.config, "SWIFTCTR_COLLECTIVE_TIMEOUT must be a number of seconds > 0, found '\(text)'. "
                + "Set it to e.g. 60, or unset it for the default of \(describe(standard)).")
        }
        return .seconds(seconds)
    }

    /// "20 s", "2.5 s": a timeout in messages.
    public static func describe(_ timeout: Duration) -> String {
        let seconds = timeout.inSeconds
        return "\(seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)) s"
    }
}
