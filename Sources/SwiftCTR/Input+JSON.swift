/// HugeCTR's graph-JSON `Data` entry of the `Input` (spec §2.2), both directions.
///
/// Several labels are written name-sorted (the order their data columns have), so an Input with
/// labels `["liked", "clicked"]` reads back as `["clicked", "liked"]`, which trains the same model.
/// Legacy files (§2.6) that give `max_feature_num_per_sample` or `max_nnz` instead of
/// `nnz_per_slot` are read too.
///
/// ```swift
/// let entry = input.hugeCTRJSON()   // ["type": "Data", "label": […], "dense": […], "sparse": […]]
/// // GraphConfig(hugeCTRJSON:) reads it back as layers[0].
/// ```
extension Input {
    /// The `Data` entry `graph_to_json` writes (with v23.08's `"type": "DistributedSlot"` per sparse input).
    public func hugeCTRJSON() -> [String: JSONValue] {
        let labels = zip(labelNames, labelDims).sorted { $0.0 < $1.0 }
        let label: [String: JSONValue] = labels.count == 1
            ? ["top": .string(labels[0].0), "label_dim": .int(labels[0].1)]
            : ["top": .array(labels.map { .string($0.0) }), "label_dim": .array(labels.map { .int($0.1) })]
        let sparse: [JSONValue] = dataReaderSparseParamArray.map { param in
            ["top": .string(param.topName), "type": "DistributedSlot", "nnz_per_slot": .array(param.nnzPerSlot.map { .int($0) }),
             "is_fixed_length": .bool(param.isFixedLength), "slot_num": .int(param.slotNum)]
        }
        return ["type": "Data", "label": .object(label), "dense": ["top": .string(denseName), "dense_dim": .int(denseDim)],
                "sparse": .array(sparse)]
    }

    /// Reads the `Data` entry; the legacy data-source keys (`source`, `check`, …) are marked as
    /// known, since `DataReaderParams(legacyDataLayer:)` reads them.
    package init(hugeCTRJSON reader: JSONEntryReader) throws {
        let type = try reader.required("type", "the string \"Data\"", \.stringValue)
        guard type == "Data" else {
            throw SwiftCTRError(.config, "\(reader.place): key 'type': the first layer must be the Data layer, expected \"Data\", found \"\(type)\". Put the Data entry (label, dense, sparse) first in 'layers'.")
        }
        let label = try reader.object("label")
        let names = try label.required("top", "a label name or an array of names", \.namesValue)
        let dims = try label.required("label_dim", "an integer or an array of integers",
                                      { $0.intValue.map { [$0] } ?? $0.arrayValue(\.intValue) })
        guard dims.count == names.count else {
            throw SwiftCTRError(.config, "\(reader.place): key 'label.label_dim': expected \(names.count) label dims (one per name in label.top), found \(dims.count). Give one label_dim per label name.")
        }
        let dense = try reader.object("dense")
        let denseName = try dense.required("top", "a tensor name", \.stringValue)
        let denseDim = try dense.required("dense_dim", "an integer", \.intValue)
        dense.use("aligned")
        let sparse = try reader.objects("sparse", "an array of sparse inputs ({\"top\", \"slot_num\", \"nnz_per_slot\", …})")
            .map(DataReaderSparseParam.init(hugeCTRJSON:))
        for key in DataReaderParams.legacyDataLayerKeys { reader.use(key) }
        self.init(labelDims: dims, labelNames: names, denseDim: denseDim, denseName: denseName,
                  dataReaderSparseParamArray: sparse)
    }
}

extension DataReaderSparseParam {
    /// One element of the Data entry's `sparse` array.
    init(hugeCTRJSON reader: JSONEntryReader) throws {
        let top = try reader.required("top", "a tensor name", \.stringValue)
        let slots = try reader.required("slot_num", "an integer", \.intValue)
        _ = try reader.optional("type", "\"DistributedSlot\" or \"LocalizedSlot\"", \.stringValue)
        let fixed = try reader.optional("is_fixed_length", "true or false (or 0/1)",
                                        { $0.boolValue ?? $0.intValue.flatMap { [0, 1].contains($0) ? $0 == 1 : nil } }) ?? false
        let nnz: [Int]
        if let given = try reader.optional("nnz_per_slot", "an integer or an array of integers",
                                           { $0.intValue.map { [$0] } ?? $0.arrayValue(\.intValue) }) {
            nnz = given.count == 1 ? Array(repeating: given[0], count: max(slots, 0)) : given
        } else if let perSample = try reader.optional("max_feature_num_per_sample", "an integer", \.intValue) {
            // Legacy: a key budget per sample; spread it over the slots (at least one key each).
            let slotCount = max(slots, 1)
            nnz = (0..<slotCount).map { max(1, perSample / slotCount + ($0 < perSample % slotCount ? 1 : 0)) }
            _ = try reader.optional("max_nnz", "an integer", \.intValue)
        } else if let maxNNZ = try reader.optional("max_nnz", "an integer", \.intValue) {
            nnz = Array(repeating: maxNNZ, count: max(slots, 0))
        } else {
            throw SwiftCTRError(.config, "\(reader.place): key '\(reader.path)nnz_per_slot' is required: expected an integer or an array of integers, found nothing (the key is missing). Add \"nnz_per_slot\" to '\(reader.path.dropLast())' (legacy files give max_feature_num_per_sample).")
        }
        guard nnz.count == slots else {
            throw SwiftCTRError(.config, "\(reader.place): key '\(reader.path)nnz_per_slot': expected \(slots) entries (slot_num) or one number, found \(nnz.count). Give one nnz per slot.")
        }
        self.init(top, nnzPerSlot: nnz, isFixedLength: fixed, slotNum: slots)
    }
}
