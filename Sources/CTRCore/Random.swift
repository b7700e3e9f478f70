#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A counter-based random generator: value `i` of stream `s` under seed `k` is a pure function of
/// `(k, s, i)`, so any element can be drawn independently (and in parallel) and a run is
/// reproducible bit for bit.
///
/// ```swift
/// var rng = CounterRNG(seed: 42, stream: 7)
/// let u = rng.nextUniform()          // in [0, 1)
/// let n = rng.nextNormal()           // N(0, 1)
/// ```
public struct CounterRNG: Sendable {
    public let seed: UInt64
    public let stream: UInt64
    public var counter: UInt64

    public init(seed: UInt64, stream: UInt64 = 0, counter: UInt64 = 0) {
        self.seed = seed
        self.stream = stream
        self.counter = counter
    }

    /// SplitMix64 finaliser over a key mixed from seed, stream and counter.
    @inlinable
    public static func hash(_ seed: UInt64, _ stream: UInt64, _ counter: UInt64) -> UInt64 {
        var z = seed &+ stream &* 0xD1B5_4A32_D192_ED03 &+ counter &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inlinable
    public mutating func next() -> UInt64 {
        defer { counter &+= 1 }
        return Self.hash(seed, stream, counter)
    }

    /// Uniform in [0, 1) with 53 random bits.
    @inlinable
    public mutating func nextUniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform in [low, high).
    @inlinable
    public mutating func nextUniform(_ low: Double, _ high: Double) -> Double {
        low + (high - low) * nextUniform()
    }

    /// Standard normal by Box-Muller (one draw per call; the pair's second half is dropped to keep
    /// the counter-to-value mapping simple).
    @inlinable
    public mutating func nextNormal() -> Double {
        let u1 = max(nextUniform(), 0x1.0p-60)
        let u2 = nextUniform()
        return (-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2)
    }

    /// A stable stream number for a named tensor (FNV-1a of the name).
    public static func stream(named name: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in name.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return h
    }

    /// Uniform integer in 0..<bound.
    @inlinable
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0)
        return Int(next().multipliedFullWidth(by: UInt64(bound)).high)
    }
}

// libm directly: the kernels and the RNG must not need Foundation.
@usableFromInline func _log(_ x: Double) -> Double { log(x) }
@usableFromInline func _cos(_ x: Double) -> Double { cos(x) }
