import CTRCore
import CTRData
import Foundation

// The generic half of every fuzz target: libFuzzer's entry points, input splitting and scratch
// files. Each format adds one file, Fuzz/<Name>Target.swift, defining
// `fuzzTarget(_:)` (check one input; trap only on a real bug) and `fuzzSeeds()` (valid inputs
// to start from); scripts/fuzz.sh links this file with exactly one of them.

/// libFuzzer: one input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(UnsafeRawBufferPointer(start: data, count: size))
    fuzzTarget(&input)
    return 0
}

/// libFuzzer: called once before the corpus is read; writes the target's seeds into the folder
/// `FUZZ_SEED_DIR` names, so a fresh corpus starts from valid files.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    guard let folder = ProcessInfo.processInfo.environment["FUZZ_SEED_DIR"] else { return 0 }
    try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    for (i, seed) in fuzzSeeds().enumerated() {
        _ = FileManager.default.createFile(atPath: folder + "/seed-\(i)", contents: Data(seed))
    }
    return 0
}

/// An input read front to back: small parameters first, the rest is the file's bytes.
struct FuzzInput {
    let bytes: UnsafeRawBufferPointer
    private(set) var position = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// The next byte, 0 once the input is used up.
    mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    /// A value in `range` from the next byte.
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(byte()) % (range.count)
    }

    mutating func bool() -> Bool { byte() & 1 == 1 }

    /// The bytes not taken as parameters.
    var rest: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[min(position, bytes.count)...]) }
}

/// A seed: the parameter bytes (`int(a ... b)` reads byte `v − a` as `v`), then `payload`.
func fuzzSeed(_ parameters: [UInt8], _ payload: [UInt8]) -> [UInt8] {
    parameters + payload
}

/// A scratch path of this process (on /dev/shm when there is one), the same on every call with
/// the same name, so files are overwritten rather than piled up.
func scratchPath(_ name: String) -> String {
    let folder = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    return "\(folder)/swiftctr-fuzz-\(getpid())-\(name)"
}

/// Writes `bytes` to `scratchPath(name)` and returns the path.
func scratchFile(_ name: String, _ bytes: UnsafeRawBufferPointer) -> String {
    let path = scratchPath(name)
    _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
    return path
}

/// The bytes of a file (empty when it is missing).
func fileBytes(_ path: String) -> [UInt8] {
    [UInt8](FileManager.default.contents(atPath: path) ?? Data())
}

/// Runs `body`; a thrown `DataError` is a correct answer to a bad input, anything else is a bug.
func expectingDataErrors(_ body: () throws -> Void) {
    do {
        try body()
    } catch is DataError {
        return
    } catch {
        fatalError("a bad input must give a DataError, got \(type(of: error)): \(error)")
    }
}

/// Traps with `message` unless `condition` holds: an invariant of a successfully read batch.
func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("invariant broken: \(message())") }
}

/// The invariants of any batch of `layout`: array sizes and CSR offsets.
func checkBatch(_ batch: Batch, layout: DataLayout, maxCount: Int) {
    require(batch.count >= 1 && batch.count <= maxCount, "batch count \(batch.count) outside 1...\(maxCount)")
    require(batch.labels.count == batch.count * layout.labelDim, "labels \(batch.labels.count) for \(batch.count) samples")
    require(batch.dense.count == batch.count * layout.denseDim, "dense \(batch.dense.count) for \(batch.count) samples")
    require(batch.sparse.count == layout.sparse.count, "sparse inputs \(batch.sparse.count)")
    for (input, sparse) in zip(layout.sparse, batch.sparse) {
        let offsets = sparse.rowOffsets
        require(offsets.count == batch.count * input.slotNum + 1 && offsets.first == 0, "row offsets of '\(input.name)'")
        require(offsets.last == Int64(sparse.keys.count), "last row offset \(offsets.last ?? -1) vs \(sparse.keys.count) keys")
        for r in 1 ..< offsets.count { require(offsets[r] >= offsets[r - 1], "row offsets decrease at \(r)") }
        require(sparse.keys.count <= batch.count * input.maxNNZPerSample, "more keys than the capacity")
    }
}
