import CTRCore
import CTRCUDA

extension BackendSelfTest {
    /// One case of the NCCL group: runs on a collective of workers and returns every worker's
    /// outputs in worker order.
    struct CollectiveCase {
        let name: String
        let tolerance: Double
        let run: (any Collective, [any Backend]) throws -> [Double]
    }

    /// The NCCL group: every `Collective` operation of an `NCCLCollective` over the GPUs `gpus`
    /// gives (all visible ones; one on a one-GPU machine) against `InProcessCollective` over as many
    /// `reference` workers, on the same inputs. Without NCCL (`nccl` throws) every case is
    /// skipped with the reason; a GPU or a collective that cannot be set up fails every case.
    static func ncclResults(seed: UInt64, reference: any Backend, nccl: () throws(SwiftCTRError) -> NCCLLibrary,
                            gpus: () throws -> [CUDABackend]) -> [Result] {
        let list = collectiveCases(seed: seed)
        let library: NCCLLibrary
        do {
            library = try nccl()
        } catch {
            // The first line says what was looked for, the last how to install it; doctor lists the paths.
            let lines = error.message.split(separator: "\n")
            let reason = lines.count > 1 ? "\(lines[0]) \(lines[lines.count - 1])" : error.message
            return list.map {
                Result(name: $0.name, maxAbsError: .nan, maxRelError: .nan, passed: true, detail: reason, skipped: true)
            }
        }
        let backends: [CUDABackend], collective: NCCLCollective
        do {
            backends = try gpus()
            collective = try NCCLCollective(backends: backends, nccl: library, timeout: CollectiveTimeout.fromEnvironment())
        } catch {
            return list.map { Result(name: $0.name, maxAbsError: .nan, maxRelError: .nan, passed: false, detail: "\(error)") }
        }
        let simulated = InProcessCollective(backends: Array(repeating: reference, count: backends.count))
        return list.map { c in
            let name = "\(c.name), \(backends.count) GPU\(backends.count == 1 ? "" : "s")"
            do {
                let expected = try c.run(simulated, simulated.backends)
                let got = try c.run(collective, backends)
                // The collective records its failures in every backend: report the first, clear the rest.
                var failure: (any Error)?
                for backend in backends {
                    do { try backend.check() } catch { failure = failure ?? error }
                }
                if let failure { throw failure }
                return compare(name, expected, got, tolerance: c.tolerance)
            } catch {
                return Result(name: name, maxAbsError: .nan, maxRelError: .nan, passed: false, detail: "\(error)")
            }
        }
    }

    /// A backend on every visible GPU, `gpu` itself on its own, with `gpu`'s context current after.
    static func everyGPU(with gpu: CUDABackend) throws -> [CUDABackend] {
        defer { try? gpu.device.makeCurrent() }
        return try (0..<CUDADevice.visibleCount(driver: gpu.device.driver)).map { ordinal in
            ordinal == gpu.device.ordinal ? gpu : try CUDABackend(ordinal: ordinal)
        }
    }

    /// The cases: sizes that are no multiple of a GPU's vector width, a different input per worker,
    /// and an all-to-all whose blocks all differ in size, some of them empty.
    static func collectiveCases(seed: UInt64) -> [CollectiveCase] {
        /// Worker g's `n` normals, the same on every backend.
        func normals(_ g: Int, _ n: Int) -> [Float] {
            var rng = CounterRNG(seed: seed, stream: 300 + UInt64(g))
            return (0..<n).map { _ in Float(rng.nextNormal()) }
        }
        /// Makes `b`'s GPU current: each worker has its own.
        func focus(_ b: any Backend) throws { try (b as? CUDABackend)?.device.makeCurrent() }
        /// A tensor of `values` on `b`.
        func tensor<T>(_ b: any Backend, _ values: [T], _ type: DType) throws -> Tensor {
            try focus(b)
            let t = b.makeTensor([values.count], type)
            values.withUnsafeBytes { b.upload($0, to: t) }
            return t
        }
        /// Every worker's fp32 `tensors`, one after another.
        func outputs(_ backends: [any Backend], _ tensors: [Tensor]) throws -> [Double] {
            try backends.indices.flatMap { g in
                try focus(backends[g])
                return backends[g].floats(tensors[g]).map(Double.init)
            }
        }
        return [
            CollectiveCase(name: "NCCL allReduceSum fp32", tolerance: 1e-5) { c, bs in
                let buffers = try bs.indices.map { g in try tensor(bs[g], normals(g, 4099), .float32) }
                c.allReduceSum(buffers, count: 4099)
                return try outputs(bs, buffers)
            },
            CollectiveCase(name: "NCCL allReduceSum fp64", tolerance: 1e-12) { c, bs in
                let buffers = try bs.indices.map { g in try tensor(bs[g], normals(g, 1031).map { Double($0) / 3 }, .float64) }
                c.allReduceSum(buffers, count: 1031)
                return try bs.indices.flatMap { g in
                    try focus(bs[g])
                    return [Double](unsafeUninitializedCapacity: 1031) { buffer, initialized in
                        bs[g].download(buffers[g], into: UnsafeMutableRawBufferPointer(buffer))
                        initialized = 1031
                    }
                }
            },
            CollectiveCase(name: "NCCL reduceScatterSum", tolerance: 1e-5) { c, bs in
                let send = try bs.indices.map { g in try tensor(bs[g], normals(g, 1031 * bs.count), .float32) }
                let receive = try bs.indices.map { g in try tensor(bs[g], [Float](repeating: -1, count: 1031), .float32) }
                c.reduceScatterSum(send, into: receive, count: 1031)
                return try outputs(bs, receive)
            },
            CollectiveCase(name: "NCCL allGather", tolerance: 0) { c, bs in
                let send = try bs.indices.map { g in try tensor(bs[g], normals(g, 517), .float32) }
                let receive = try bs.indices.map { g in try tensor(bs[g], [Float](repeating: -1, count: 517 * bs.count), .float32) }
                c.allGather(send, into: receive, count: 517)
                return try outputs(bs, receive)
            },
            CollectiveCase(name: "NCCL allToAll, unequal counts, int64", tolerance: 0) { c, bs in
                let n = bs.count
                // Every block its own size; with several GPUs, g sends nothing to g + 1.
                let counts = (0..<n).map { g in (0..<n).map { h in n > 1 && h == (g + 1) % n ? 0 : 40 + 29 * g + 13 * h } }
                let send = try bs.indices.map { g in
                    try tensor(bs[g], (0..<counts[g].reduce(0, +)).map { Int64(g) << 32 | Int64($0) }, .int64)
                }
                let receive = try bs.indices.map { h in
                    try tensor(bs[h], [Int64](repeating: -1, count: counts.reduce(0) { $0 + $1[h] }), .int64)
                }
                c.allToAll(send, into: receive, counts: counts)
                return try bs.indices.flatMap { h in
                    try focus(bs[h])
                    return bs[h].int64s(receive[h]).map(Double.init)
                }
            },
            CollectiveCase(name: "NCCL barrier after queued work", tolerance: 0) { c, bs in
                let buffers = try bs.indices.map { g in try tensor(bs[g], [Float](repeating: 0, count: 1 << 20), .float32) }
                for (g, buffer) in buffers.enumerated() {
                    try focus(bs[g])
                    bs[g].fill(buffer, Float(g) + 0.5)
                }
                c.barrier()
                return try outputs(bs, buffers)
            },
        ]
    }
}
