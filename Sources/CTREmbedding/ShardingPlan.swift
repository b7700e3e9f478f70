/// Which of `workers` workers owns each key of one embedding, as HugeCTR places them (API spec
/// §5.6–5.8, §5.10): a Distributed embedding spreads every slot's keys by `key mod N` (the key
/// read as an unsigned 64-bit integer); Localized and OneHot embeddings keep slot s whole on
/// worker `s mod N`, which then owns `⌊S/N⌋ + (g < S mod N ? 1 : 0)` slots, local slot j of
/// worker g being slot `g + j·N`. It also splits a batch's samples: worker g's dense network takes
/// rows `[g·B/N, (g+1)·B/N)` of a batch of `B` (the configured batch size), the valid ones of them
/// in an incomplete batch (spec §3.1).
///
/// ```swift
/// let plan = ShardingPlan(.localizedSlotSparseEmbeddingHash, workers: 2, slots: 3)
/// plan.owner(key: 17, slot: 2)      // 0: slot 2 lives on worker 2 mod 2
/// plan.ownedSlots(1)                // [1]
/// let routed = plan.route(keys: [4, 9, 17], offsets: [0, 1, 2, 3], samples: 1)
/// routed[0].keys                    // [4, 17]: slots 0 and 2 of the sample
/// ```
public struct ShardingPlan: Sendable, Equatable {
    public let embeddingType: EmbeddingType
    public let workers: Int
    /// The embedding's slots (its input's `slot_num`).
    public let slots: Int

    public init(_ embeddingType: EmbeddingType, workers: Int, slots: Int) {
        precondition(workers >= 1 && slots >= 1, "a plan needs at least one worker and one slot")
        self.embeddingType = embeddingType
        self.workers = workers
        self.slots = slots
    }

    /// Whether keys are placed by their value (Distributed) rather than by their slot.
    public var placesByKey: Bool { embeddingType == .distributedSlotSparseEmbeddingHash }

    /// The worker that owns `key` of slot `slot`.
    public func owner(key: Int64, slot: Int) -> Int {
        placesByKey ? Int(UInt64(bitPattern: key) % UInt64(workers)) : slot % workers
    }

    /// The slots whose keys worker g holds, in order: every slot for Distributed (each holds the
    /// keys of every slot it owns), `g, g + N, …` for Localized and OneHot.
    public func ownedSlots(_ worker: Int) -> [Int] {
        placesByKey ? Array(0..<slots) : Array(stride(from: worker, to: slots, by: workers))
    }

    /// The slots of worker g's table: `slots` for Distributed, its owned slots' count otherwise.
    public func slotCount(_ worker: Int) -> Int {
        placesByKey ? slots : slots / workers + (worker < slots % workers ? 1 : 0)
    }

    /// Worker g's samples among the `count` of a batch whose configured size is `batchSize`:
    /// `[g·B/N, (g+1)·B/N)` clamped to the valid rows.
    public func sampleRows(_ worker: Int, batchSize: Int, count: Int) -> Range<Int> {
        Self.sampleRows(worker, workers: workers, batchSize: batchSize, count: count)
    }

    /// Worker g's samples of `workers`, for any embedding (or none).
    public static func sampleRows(_ worker: Int, workers: Int, batchSize: Int, count: Int) -> Range<Int> {
        let chunk = batchSize / workers
        return min(worker * chunk, count)..<min((worker + 1) * chunk, count)
    }

    /// One worker's part of a batch: the keys it owns as CSR over the segments of its table
    /// (`samples × slotCount(g)`, sample-major), and for each of those keys its position in the
    /// batch's key list.
    public struct Route: Sendable, Equatable {
        public var keys: [Int64] = []
        public var offsets: [Int64] = [0]
        public var positions: [Int] = []
    }

    /// Splits a batch's keys (CSR over `samples × slots` segments, sample-major) among the
    /// workers. The keys keep their batch order on each worker, so a worker sees its own keys in
    /// the order a single worker would.
    public func route(keys: [Int64], offsets: [Int64], samples: Int) -> [Route] {
        precondition(offsets.count == samples * slots + 1, "route needs samples × slots + 1 offsets")
        var routes = (0..<workers).map { worker in
            var route = Route()
            route.offsets.reserveCapacity(samples * slotCount(worker) + 1)
            return route
        }
        keys.withUnsafeBufferPointer { pk in
            offsets.withUnsafeBufferPointer { po in
                for sample in 0..<samples {
                    for slot in 0..<slots {
                        let segment = sample * slots + slot
                        for j in Int(po[segment])..<Int(po[segment + 1]) {
                            let g = owner(key: pk[j], slot: slot)
                            routes[g].keys.append(pk[j])
                            routes[g].positions.append(j)
                        }
                        if placesByKey {
                            for g in 0..<workers { routes[g].offsets.append(Int64(routes[g].keys.count)) }
                        } else {
                            let g = slot % workers
                            routes[g].offsets.append(Int64(routes[g].keys.count))
                        }
                    }
                }
            }
        }
        return routes
    }
}
