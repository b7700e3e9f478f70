import Dispatch

/// Runs `body` over `0..<count` split into at most `threads` contiguous chunks; small ranges run
/// inline, because a dispatch costs more than a few thousand flops.
@inline(__always)
func parallelFor(_ count: Int, threads: Int, grain: Int = 32_768, _ body: (Range<Int>) -> Void) {
    let chunks = min(threads, max(1, count / grain))
    if chunks <= 1 {
        body(0..<count)
        return
    }
    withoutActuallyEscaping(body) { body in
        // The chunks write disjoint ranges; the kernels' pointers are only touched inside them.
        let box = UncheckedSendable(body)
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            box.value((count * c / chunks)..<(count * (c + 1) / chunks))
        }
    }
}

struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
