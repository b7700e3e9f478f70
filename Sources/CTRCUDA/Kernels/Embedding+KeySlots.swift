import CTRCore

/// The slot of each key a Localized embedding looked up (for its `slot_id` file).
extension CUDABackend {
    public func recordKeySlots(rows: Tensor, offsets: Tensor, segments: Int, slots: Int, into keySlots: Tensor) {
        launch("record_key_slots", segments, [
            .pointer(address(rows)), .pointer(address(offsets)), .int64(Int64(segments)), .int32(Int32(slots)),
            .pointer(address(keySlots)),
        ])
    }
}

extension KernelSource {
    /// `record_key_slots`: a thread per (sample, slot) segment, 16 bytes read and 8 written per key.
    static let embeddingKeySlots = #"""
extern "C" __global__ void record_key_slots(const i64* rows, const i64* offsets, i64 segments, int slots, i64* keySlots) {
    GRID_STRIDE(s, segments) {
        i64 slot = s % slots;
        for (i64 j = offsets[s]; j < offsets[s + 1]; ++j) {
            i64 r = rows[j];
            if (r >= 0) keySlots[r] = slot;
        }
    }
}
"""#
}
