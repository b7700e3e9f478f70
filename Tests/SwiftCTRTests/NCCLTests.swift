@testable import CTRCUDA
@testable import SwiftCTR
import CTRCore
import CTRCPU
import Testing

// NCCL without a GPU: what a missing or old libnccl says, the library table over a fake libnccl,
// the all-to-all block layout against InProcessCollective, and the self-test group skipping
// without NCCL. The collective itself runs on GPUs in `swiftctr selftest --device cuda`.

/// A Python environment with the nccl wheel's folder, where only `loadable` opens.
private struct FakeNCCLLoader: DynamicLibraryLoader {
    static let wheel = "/venv/lib/python3.12/site-packages/nvidia/nccl/lib/libnccl.so.2"
    var loadable: Set<String> = []
    var missingSymbols: Set<String> = []
    var variables = ["VIRTUAL_ENV": "/venv"]

    func open(_ path: String) -> UnsafeMutableRawPointer? {
        loadable.contains(path) ? UnsafeMutableRawPointer(bitPattern: 0x3000) : nil
    }

    func symbol(_ handle: UnsafeMutableRawPointer, _ name: String) -> UnsafeMutableRawPointer? {
        guard name.hasPrefix("nccl"), !missingSymbols.contains(name) else { return nil }
        return name == "ncclGetVersion" ? unsafeBitCast(getVersion, to: UnsafeMutableRawPointer.self)
            : unsafeBitCast(unused, to: UnsafeMutableRawPointer.self)
    }

    func environment(_ name: String) -> String? { variables[name] }

    func contentsOfDirectory(_ path: String) -> [String] {
        ["/venv/lib": ["python3.12"], "/venv/lib/python3.12/site-packages/nvidia": ["cublas", "nccl"]][path] ?? []
    }
}

private let getVersion: @convention(c) (UnsafeMutablePointer<Int32>) -> Int32 = { $0.pointee = 22703; return 0 }
/// Stands in for the entry points the tests never call.
private let unused: @convention(c) () -> Int32 = { 3 }

@Suite("NCCL")
struct NCCLTests {
    @Test("a libnccl that does not load: the sonames and wheel folders tried, and the fix")
    func missingLibrary() throws {
        let error = try #require(throws: SwiftCTRError.self) { try NCCLLibrary.load(loader: FakeNCCLLoader()) }
        #expect(error.kind == .device)
        for part in ["libnccl.so.2", FakeNCCLLoader.wheel, "/usr/lib/x86_64-linux-gnu/libnccl.so.2",
                     "pip install nvidia-nccl-cu12", "apt-get install libnccl2", "train on one GPU"] {
            #expect(error.message.contains(part), "\(part) missing from: \(error.message)")
        }
    }

    @Test("libnccl from the nvidia-nccl wheel: every entry point resolved, the version read")
    func loadsFromTheWheel() throws {
        let nccl = try NCCLLibrary.load(loader: FakeNCCLLoader(loadable: [FakeNCCLLoader.wheel]))
        #expect(nccl.library.path == FakeNCCLLoader.wheel)
        #expect(nccl.version == 22703 && nccl.versionString == "2.27.3")
        #expect(nccl.ncclGetLastError != nil)
    }

    @Test("a venv whose bin folder is on PATH is searched without being activated")
    func venvOnPath() throws {
        let loader = FakeNCCLLoader(loadable: [FakeNCCLLoader.wheel], variables: ["PATH": "/usr/local/bin:/venv/bin:/usr/bin"])
        #expect(try NCCLLibrary.load(loader: loader).library.path == FakeNCCLLoader.wheel)
    }

    @Test("an NCCL older than 2.7 names the entry point it lacks")
    func oldLibrary() throws {
        let loader = FakeNCCLLoader(loadable: ["libnccl.so.2"], missingSymbols: ["ncclSend", "ncclGetLastError"])
        let error = try #require(throws: SwiftCTRError.self) { try NCCLLibrary.load(loader: loader) }
        #expect(error.message.contains("ncclSend") && error.message.contains("NCCL 2.7 or newer"), "\(error.message)")
    }

    @Test("all-to-all blocks: each worker's sends and receives, empty blocks left out")
    func allToAllLayout() {
        let counts = [[1, 0, 2], [3, 4, 5], [0, 6, 7]]
        let middle = AllToAllLayout(counts: counts, worker: 1)
        #expect(middle.sends == [.init(peer: 0, offset: 0, count: 3), .init(peer: 1, offset: 3, count: 4),
                                 .init(peer: 2, offset: 7, count: 5)])
        #expect(middle.receives == [.init(peer: 1, offset: 0, count: 4), .init(peer: 2, offset: 4, count: 6)])
        #expect(AllToAllLayout(counts: counts, worker: 0).sends.map(\.peer) == [0, 2])
        #expect(AllToAllLayout(counts: [[5]], worker: 0).receives == [.init(peer: 0, offset: 0, count: 5)])
    }

    @Test("moving each block where the layout says gives InProcessCollective's allToAll", arguments: [1, 2, 3, 4])
    func allToAllLayoutMatchesInProcess(workers: Int) {
        let cpu = CPUBackend()
        let counts = (0..<workers).map { g in (0..<workers).map { h in (3 * g + 5 * h + 1) % 4 * (g + 2) } }
        let send = (0..<workers).map { g in (0..<counts[g].reduce(0, +)).map { Int64(g * 1000 + $0) } }
        let sendTensors = send.map { values in
            let t = cpu.makeTensor([max(values.count, 1)], .int64)
            cpu.upload(values, to: t)
            return t
        }
        let sizes = (0..<workers).map { h in counts.reduce(0) { $0 + $1[h] } }
        let receiveTensors = sizes.map { cpu.makeTensor([max($0, 1)], .int64) }
        let simulated = InProcessCollective(backends: Array(repeating: cpu, count: workers))
        simulated.allToAll(sendTensors, into: receiveTensors, counts: counts)

        let layouts = (0..<workers).map { AllToAllLayout(counts: counts, worker: $0) }
        var moved = sizes.map { [Int64](repeating: 0, count: $0) }
        for (g, layout) in layouts.enumerated() {
            for block in layout.sends {
                let slot = layouts[block.peer].receives.first { $0.peer == g }!
                #expect(slot.count == block.count)
                moved[block.peer][slot.offset..<slot.offset + slot.count] = send[g][block.offset..<block.offset + block.count]
            }
        }
        for h in 0..<workers {
            #expect(Array(cpu.int64s(receiveTensors[h]).prefix(sizes[h])) == moved[h], "worker \(h) of \(workers)")
        }
    }

    @Test("without NCCL the self-test's NCCL group is skipped, saying why")
    func selfTestSkipsWithoutNCCL() {
        let missing = { () throws(SwiftCTRError) in try NCCLLibrary.load(loader: FakeNCCLLoader()) }
        let results = BackendSelfTest.ncclResults(seed: 7, reference: CPUBackend(), nccl: missing) {
            Issue.record("no GPU is opened without NCCL")
            return []
        }
        #expect(results.count == BackendSelfTest.collectiveCases(seed: 7).count)
        for result in results {
            #expect(result.skipped && result.passed && result.name.hasPrefix("NCCL "))
            #expect(result.detail.contains("libnccl.so.2") && result.detail.contains("pip install nvidia-nccl-cu12"),
                    "\(result.detail)")
        }
        let report = BackendSelfTest.report(results, device: "test")
        #expect(report.contains("skipped: CUDA library missing"), "\(report)")
        #expect(report.contains("0 passed, 0 failed, 6 skipped"), "\(report)")
    }

    /// Where there is a GPU: the group on every visible GPU passes (or is skipped without NCCL).
    @Test(.enabled(if: CUDADriver.isAvailable(), "no libcuda on this machine"))
    func selfTestGroupOnTheseGPUs() throws {
        let gpu = try CUDABackend()
        let nccl = { () throws(SwiftCTRError) in try NCCLLibrary.load() }
        let results = BackendSelfTest.ncclResults(seed: 7, reference: CPUBackend(), nccl: nccl) {
            try BackendSelfTest.everyGPU(with: gpu)
        }
        for result in results { #expect(result.passed, "\(result.name): \(result.detail)") }
    }
}
