import CTRCore

/// The slot of each key a Localized embedding looked up (for its `slot_id` file).
extension CPUBackend {
    public func recordKeySlots(rows: Tensor, offsets: Tensor, segments: Int, slots: Int, into keySlots: Tensor) {
        let pr = rows.hostPointer(as: Int64.self), po = offsets.hostPointer(as: Int64.self)
        let out = keySlots.hostPointer(as: Int64.self)
        for g in 0..<segments {
            let slot = Int64(g % slots)
            for j in Int(po[g])..<Int(po[g + 1]) where pr[j] >= 0 { out[Int(pr[j])] = slot }
        }
    }
}
