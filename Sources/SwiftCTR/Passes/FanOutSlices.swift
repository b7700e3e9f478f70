/// The pass that gives every tensor read by k > 1 layers a Slice with k full-width copies, named
/// `<tensor>_slice0` … `<tensor>_slice<k-1>`, right before its first reader; reader j then reads
/// copy j, and the Slice's backward sums the readers' gradients (HugeCTR's graph analysis). The
/// labels are exempt: only losses read them.
///
/// ```swift
/// // concat1 read by multicross1 and fc1:
/// let plan = try FanOutSlices.apply(layers, labelNames: ["label"])
/// // … Slice(concat1 → concat1_slice0, concat1_slice1), MultiCross(concat1_slice0), InnerProduct(concat1_slice1) …
/// ```
enum FanOutSlices {
    /// The most layers that may share one tensor.
    static let maxReaders = 5

    static func apply(_ layers: [DenseLayer], labelNames: Set<String>) throws -> [PlannedLayer] {
        var readers: [String: [Int]] = [:], firstRead: [String] = []
        for (i, layer) in layers.enumerated() {
            for bottom in layer.bottomNames where !labelNames.contains(bottom) {
                if readers[bottom] == nil { firstRead.append(bottom) }
                readers[bottom, default: []].append(i)
            }
        }
        let defined = Set(layers.flatMap(\.topNames))
        var renamed = layers
        var slices: [Int: [PlannedLayer]] = [:]
        for tensor in firstRead {
            let users = readers[tensor]!
            guard users.count > 1 else { continue }
            guard users.count <= maxReaders else {
                throw SwiftCTRError(.config, "tensor '\(tensor)' is read by \(users.count) layers; at most \(maxReaders) may share one tensor. Add an explicit Slice or restructure the graph.")
            }
            let tops = (0..<users.count).map { "\(tensor)_slice\($0)" }
            if let clash = tops.first(where: defined.contains) {
                throw SwiftCTRError(.config, "tensor '\(tensor)' is read by \(users.count) layers, so it gets an implicit Slice with tops \(tops), but a layer already defines '\(clash)'. Rename that layer's top.")
            }
            // One copy per read: a layer that names the tensor twice reads two copies.
            for (k, user) in users.enumerated() {
                let position = renamed[user].bottomNames.firstIndex(of: tensor)!
                renamed[user].bottomNames[position] = tops[k]
            }
            var slice = PlannedLayer(DenseLayer(.slice, bottomNames: [tensor], topNames: tops, ranges: []))
            slice.isFanOutSlice = true
            slices[users[0], default: []].append(slice)
        }
        return renamed.enumerated().flatMap { i, layer in (slices[i] ?? []) + [PlannedLayer(layer)] }
    }
}
