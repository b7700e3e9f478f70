import CTRCore
import Foundation

/// `ctr-fuzz FORMAT …`: fuzzes one reader. Built with `-sanitize=fuzzer` and `-D CTR_LIBFUZZER`
/// (scripts/fuzz.sh does) it is a libFuzzer binary taking libFuzzer's arguments; otherwise it
/// runs a seeded mutation loop, `ctr-fuzz FORMAT RUNS [SEED]`, or replays files,
/// `ctr-fuzz FORMAT --replay FILE…`.
///
/// ```
/// CTR_FUZZ_TARGET=parquet .build-fuzz/release/ctr-fuzz -runs=1000000 corpus/
/// ctr-fuzz parquet 100000 7
/// ```
@main
enum CTRFuzz {
    static func main() {
        let arguments = CommandLine.arguments
        #if CTR_LIBFUZZER
        guard let name = ProcessInfo.processInfo.environment["CTR_FUZZ_TARGET"], let target = find(name) else {
            fail("set CTR_FUZZ_TARGET to one of: \(fuzzTargets.map { $0.name }.joined(separator: ", "))")
        }
        selected.target = target
        if let folder = ProcessInfo.processInfo.environment["CTR_FUZZ_SEEDS"] { writeSeeds(target, to: folder) }
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            try? selected.target?.run(Array(UnsafeBufferPointer(start: data, count: size)))
            return 0
        })
        #else
        guard arguments.count >= 3, let target = find(arguments[1]) else {
            fail("usage: ctr-fuzz FORMAT RUNS [SEED] | ctr-fuzz FORMAT --replay FILE…; formats: \(fuzzTargets.map { $0.name }.joined(separator: ", "))")
        }
        if arguments[2] == "--replay" {
            for file in arguments.dropFirst(3) {
                guard let data = FileManager.default.contents(atPath: file) else { fail("cannot read \(file)") }
                do {
                    try target.run(Array(data))
                    print("\(file): read")
                } catch {
                    print("\(file): \(error)")
                }
            }
            return
        }
        guard let runs = Int(arguments[2]), runs >= 0 else { fail("RUNS must be a count, found '\(arguments[2])'") }
        let seed = arguments.count > 3 ? UInt64(arguments[3]) ?? 1 : 1
        mutationLoop(target, runs: runs, seed: seed)
        #endif
    }

    /// Writes the target's seeds into `folder` (a libFuzzer corpus folder) as seed-N files.
    static func writeSeeds(_ target: any FuzzTarget.Type, to folder: String) {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for (i, seed) in try target.seeds().enumerated() {
                try Data(seed).write(to: URL(fileURLWithPath: folder + "/seed-\(i)"))
            }
        } catch {
            fail("cannot write the seeds of \(target.name) into \(folder): \(error)")
        }
    }

    static func find(_ name: String) -> (any FuzzTarget.Type)? {
        fuzzTargets.first { $0.name == name }
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        exit(2)
    }

    /// Runs `runs` mutated seeds; input `i` depends only on `(seed, i)`, so a crash at input `i`
    /// (printed before it runs with CTR_FUZZ_VERBOSE=1) is reproduced by the same arguments.
    static func mutationLoop(_ target: any FuzzTarget.Type, runs: Int, seed: UInt64) {
        let seeds: [[UInt8]]
        do {
            seeds = try target.seeds()
        } catch {
            fail("cannot build the seeds of \(target.name): \(error)")
        }
        guard !seeds.isEmpty else { fail("\(target.name) has no seed inputs") }
        let verbose = ProcessInfo.processInfo.environment["CTR_FUZZ_VERBOSE"] == "1"
        let start = Date()
        var rejected = 0
        for i in 0 ..< runs {
            var rng = CounterRNG(seed: seed, stream: UInt64(i))
            var input = seeds[rng.nextInt(below: seeds.count)]
            let mutations = 1 + rng.nextInt(below: 8)
            for _ in 0 ..< mutations { Mutator.mutate(&input, &rng) }
            if verbose { print("input \(i)") }
            do { try target.run(input) } catch { rejected += 1 }
            if (i + 1) % 100_000 == 0 { print("\(i + 1) inputs, \(rejected) rejected, \(Int(Date().timeIntervalSince(start))) s") }
        }
        print("done: \(runs) inputs (\(rejected) rejected as malformed) in \(String(format: "%.1f", Date().timeIntervalSince(start))) s, seed \(seed)")
    }
}

#if CTR_LIBFUZZER
/// libFuzzer's driver (FuzzerInterface.h: int LLVMFuzzerRunDriver(int *argc, char ***argv,
/// int (*UserCb)(const uint8_t *Data, size_t Size))); linked in by -sanitize=fuzzer.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> Int32) -> Int32

/// The format libFuzzer's callback feeds (set once, before the driver starts).
final class Selected: @unchecked Sendable {
    var target: (any FuzzTarget.Type)?
}

let selected = Selected()
#endif

/// Byte-level mutations: flips, interesting values, insertions, deletions, copies, truncation.
enum Mutator {
    static let interesting: [UInt32] = [0, 1, 2, 4, 7, 8, 15, 16, 31, 32, 63, 64, 127, 128, 255, 256, 0x7FFF, 0x8000, 0xFFFF,
                                        0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF]

    static func mutate(_ input: inout [UInt8], _ rng: inout CounterRNG) {
        guard !input.isEmpty else {
            input = [UInt8(truncatingIfNeeded: rng.nextInt(below: 256))]
            return
        }
        let at = rng.nextInt(below: input.count)
        switch rng.nextInt(below: 9) {
        case 0: input[at] ^= 1 << UInt8(rng.nextInt(below: 8))
        case 1: input[at] = UInt8(truncatingIfNeeded: rng.nextInt(below: 256))
        case 2: input[at] = UInt8(truncatingIfNeeded: interesting[rng.nextInt(below: interesting.count)])
        case 3:
            let v = interesting[rng.nextInt(below: interesting.count)]
            for k in 0 ..< 4 where at + k < input.count { input[at + k] = UInt8(truncatingIfNeeded: v >> UInt32(8 * k)) }
        case 4: input.insert(contentsOf: (0 ..< 1 + rng.nextInt(below: 8)).map { _ in UInt8(truncatingIfNeeded: rng.nextInt(below: 256)) }, at: at)
        case 5: input.removeSubrange(at ..< min(input.count, at + 1 + rng.nextInt(below: 16)))
        case 6:
            let from = rng.nextInt(below: input.count), n = min(1 + rng.nextInt(below: 32), input.count - max(from, at))
            if n > 0 { input.replaceSubrange(at ..< at + n, with: input[from ..< from + n]) }
        case 7: input.removeLast(rng.nextInt(below: min(input.count, 64)) + 1)
        default:
            // Varints steer Thrift lengths and counts: set one to a random larger value.
            input[at] = 0x80 | UInt8(truncatingIfNeeded: rng.nextInt(below: 128))
        }
    }
}
