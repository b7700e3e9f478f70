/// Where one worker's blocks of a `Collective.allToAll` lie, from the G×G count matrix: worker g
/// sends `counts[g][h]` elements to h, its blocks one after another in h order from element 0 of
/// its send buffer, and receives `counts[h][g]` from h, one after another in h order from element
/// 0 of its receive buffer. Empty blocks are left out on both sides, so no worker posts a send or
/// receive of nothing that its peer would not match.
///
/// ```swift
/// let layout = AllToAllLayout(counts: [[1, 2], [3, 4]], worker: 1)
/// // sends: (peer 0, offset 0, 3), (peer 1, offset 3, 4); receives: (0, 0, 2), (1, 2, 4)
/// ```
struct AllToAllLayout: Equatable {
    /// `count` elements to or from `peer`, starting at element `offset`.
    struct Block: Equatable {
        let peer: Int
        let offset: Int
        let count: Int
    }

    let sends: [Block]
    let receives: [Block]

    init(counts: [[Int]], worker: Int) {
        precondition(counts.allSatisfy { $0.count == counts.count } && counts.indices.contains(worker),
                     "allToAll needs a G×G count matrix and a worker below G")
        sends = Self.blocks(counts.indices.map { counts[worker][$0] })
        receives = Self.blocks(counts.indices.map { counts[$0][worker] })
    }

    /// The elements sent and received.
    var sent: Int { sends.reduce(0) { $0 + $1.count } }
    var received: Int { receives.reduce(0) { $0 + $1.count } }

    /// Blocks of `counts[peer]` elements one after another, the empty ones left out.
    private static func blocks(_ counts: [Int]) -> [Block] {
        var offset = 0
        return counts.enumerated().compactMap { peer, count in
            precondition(count >= 0, "allToAll counts must be ≥ 0, found \(count)")
            defer { offset += count }
            return count > 0 ? Block(peer: peer, offset: offset, count: count) : nil
        }
    }
}
