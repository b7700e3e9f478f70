import CTRCore

/// Embeddings: the GPU hash table and one-hot index, pooling of looked-up rows, gradients reduced per unique row,
/// and the sparse optimizer updates.
extension CUDABackend {
    /// Inserts without waiting: the key count and the overflow flag stay in `table.state` until
    /// `hashTableState` reads them.
    public func hashLookup(_ table: HashTable, keys: Tensor, count: Int, rows: Tensor, insert: Bool) -> Bool {
        let state = address(table.state)
        launch("hash_lookup", count, [
            .pointer(address(table.keys)), .pointer(address(table.rows)), .uint64(UInt64(table.bucketCount - 1)),
            .pointer(address(keys)), .pointer(address(rows)), .int64(Int64(count)), .pointer(state),
            .int64(Int64(table.capacity)), .int32(insert ? 1 : 0), .pointer(state + 8),
        ])
        return true
    }

    public func hashTableState(_ table: HashTable) -> (size: Int, overflowed: Bool) {
        let state = int64s(table.state, count: 2)
        table.size = min(Int(state[0]), table.capacity)
        return (table.size, state[1] & 0xFFFF_FFFF != 0)
    }

    /// Checks without waiting: an out-of-range key stays in `index.state` until it is read.
    public func oneHotLookup(_ index: OneHotIndex, keys: Tensor, offsets: Tensor, segments: Int, rows: Tensor) -> Bool {
        launch("one_hot_rows", segments, [
            .pointer(address(keys)), .pointer(address(offsets)), .int64(Int64(segments)),
            .int32(Int32(index.slotSizes.count)), .pointer(address(index.deviceBounds)), .pointer(address(rows)),
            .pointer(address(index.state)),
        ])
        return true
    }

    public func embeddingPool(values: Tensor, rows: Tensor, offsets: Tensor, segments: Int, vec: Int, mean: Bool, into out: Tensor) {
        // Vectors of a multiple of 4 floats move as float4, a quarter of the threads.
        let wide = vec % 4 == 0 && [values, out].allSatisfy { address($0) % 16 == 0 }
        launch(wide ? "embedding_pool4" : "embedding_pool", segments * (wide ? vec / 4 : vec), [
            .pointer(address(values)), .pointer(address(rows)), .pointer(address(offsets)), .int64(Int64(segments)),
            .int32(Int32(wide ? vec / 4 : vec)), .int32(mean ? 1 : 0), .pointer(address(out)),
        ])
    }

    public func embeddingGradients(dout: Tensor, rows: Tensor, offsets: Tensor, segments: Int, slots: Int, keyCount count: Int,
                                   vec: Int, mean: Bool, uniqueRows: Tensor, uniqueGrads: Tensor, uniqueCount: Tensor,
                                   rowSlot: Tensor) {
        // Vectors of a multiple of 4 floats take grouped atomics up to `groupedAtomicsMaxVec` and
        // the counting sort above it (below); others add a scalar atomic per key element.
        let wide = vec % 4 == 0 && [dout, uniqueGrads].allSatisfy { address($0) % 16 == 0 }
            && max(count, segments) < Int(Int32.max)
        let maxUnique = uniqueRows.count
        let grouped = wide && vec <= Self.groupedAtomicsMaxVec && slots > 0 && segments % slots == 0
        let bytes = grouped ? 0 : 8 + (wide ? 16 * count + 4 * maxUnique : 8 * count)
        if gradientScratch.1 < bytes {
            pool.release(gradientScratch.0, bytes: gradientScratch.1)
            record { gradientScratch = (try pool.acquire(bytes), bytes) }
        }
        let unique = address(uniqueCount)
        record { try device.memset(unique, byte: 0, count: 8, stream: stream) }
        launch("claim_rows", count, [.pointer(address(rows)), .int64(Int64(count)), .pointer(address(rowSlot)),
                                     .pointer(address(uniqueRows)), .pointer(unique)])
        launch("zero_unique", count * vec, [.pointer(address(uniqueGrads)), .pointer(unique), .int32(Int32(vec)),
                                            .int64(Int64(maxUnique))])
        guard wide else {
            let segmentOf = gradientScratch.0 + 8
            launch("segment_ids", segments, [.pointer(address(offsets)), .int64(Int64(segments)), .pointer(segmentOf)])
            return launch("scatter_grads", count * vec, [
                .pointer(address(dout)), .pointer(address(rows)), .pointer(segmentOf), .pointer(address(offsets)),
                .pointer(address(rowSlot)), .int64(Int64(count)), .int32(Int32(vec)), .int32(mean ? 1 : 0),
                .pointer(address(uniqueGrads)),
            ])
        }
        if grouped {
            return launch("scatter_grads_grouped4", segments, [
                .pointer(address(dout)), .pointer(address(rows)), .pointer(address(offsets)), .int64(Int64(segments)),
                .int32(Int32(slots)), .pointer(address(rowSlot)), .int32(Int32(vec / 4)), .int32(mean ? 1 : 0),
                .pointer(address(uniqueGrads)),
            ])
        }
        // Counting sort of the keys by distinct row: each key's segment and row slot, the keys per
        // slot, a start per slot, the keys placed at their slot's range; then a thread per
        // (chunk of sorted keys, quad) sums each slot's run, so that a hot row takes one atomic
        // per chunk instead of one per key.
        let total = gradientScratch.0, segmentOf = total + 8, slotOf = segmentOf + CUdeviceptr(4 * count)
        let sortedSegment = slotOf + CUdeviceptr(4 * count), sortedSlot = sortedSegment + CUdeviceptr(4 * count)
        let counts = sortedSlot + CUdeviceptr(4 * count)
        record {
            try device.memset(total, byte: 0, count: 8, stream: stream)
            try device.memset(counts, byte: 0, count: 4 * maxUnique, stream: stream)
        }
        launch("key_slots", segments * 8, [.pointer(address(rows)), .pointer(address(offsets)), .int64(Int64(segments)),
                                           .pointer(address(rowSlot)), .pointer(segmentOf), .pointer(slotOf), .pointer(counts)])
        launch("slot_starts", maxUnique, [.pointer(counts), .pointer(unique), .int64(Int64(maxUnique)), .pointer(total)])
        launch("place_keys", count, [.pointer(segmentOf), .pointer(slotOf), .int64(Int64(count)), .pointer(counts),
                                     .pointer(sortedSegment), .pointer(sortedSlot)])
        let chunks = (count + Self.sortedChunk - 1) / Self.sortedChunk
        launch("reduce_sorted_grads4", chunks * vec / 4, [
            .pointer(address(dout)), .pointer(sortedSegment), .pointer(sortedSlot), .pointer(total),
            .pointer(address(offsets)), .int32(Int32(vec / 4)), .int32(mean ? 1 : 0), .pointer(address(uniqueGrads)),
        ])
    }

    /// The widest vectors whose gradients take grouped atomics (`scatter_grads_grouped4`: the
    /// lanes of a warp whose keys share a row sum them together) rather than the counting sort,
    /// which pays for itself only when a row's gradient is long.
    static let groupedAtomicsMaxVec = 32

    /// Sorted keys per thread group of `reduce_sorted_grads4` (its `SORTED_CHUNK`).
    static let sortedChunk = 64

    public func clearRowSlots(_ rowSlot: Tensor, uniqueRows: Tensor, uniqueCount: Tensor, maxCount: Int) {
        launch("clear_row_slots", maxCount, [.pointer(address(rowSlot)), .pointer(address(uniqueRows)),
                                             .pointer(address(uniqueCount)), .int64(Int64(maxCount))])
    }

    public func sparseUpdate(_ update: SparseUpdate, values: Tensor, states: [Tensor], uniqueRows: Tensor, uniqueGrads: Tensor,
                             uniqueCount: Tensor, maxCount: Int, rowSlot: Tensor, table: any EmbeddingRows, vec: Int) {
        let w = address(values), u = address(uniqueRows), g = address(uniqueGrads), n = address(uniqueCount)
        let most = Int64(maxCount)
        switch update {
        case let .sgd(lr, gradScale):
            launch("sparse_sgd", maxCount * vec, [.pointer(w), .pointer(u), .pointer(g), .pointer(n), .int64(most),
                                                  .int32(Int32(vec)), .float(lr * gradScale)])
        case let .adamLocal(lr, beta1, beta2, epsilon, step, gradScale):
            launch("sparse_adam_local", maxCount * vec, [
                .pointer(w), .pointer(address(states[0])), .pointer(address(states[1])), .pointer(u), .pointer(g),
                .pointer(n), .int64(most), .int32(Int32(vec)),
                .float(adamAlpha(lr: lr, beta1: beta1, beta2: beta2, step: step)),
                .float(beta1), .float(beta2), .float(epsilon), .float(gradScale),
            ])
        case let .adamGlobal(lr, beta1, beta2, epsilon, step, gradScale):
            launch("sparse_adam_global", table.capacity * vec, [
                .pointer(w), .pointer(address(states[0])), .pointer(address(states[1])), .pointer(address(rowSlot)),
                .pointer(g), .pointer(address(table.state)), .int64(Int64(table.capacity)), .int32(Int32(vec)),
                .float(adamAlpha(lr: lr, beta1: beta1, beta2: beta2, step: step)),
                .float(beta1), .float(beta2), .float(epsilon), .float(gradScale),
            ])
        case let .adamLazyGlobal(lr, beta1, beta2, epsilon, step, gradScale):
            launch("sparse_adam_lazy", maxCount * vec, [
                .pointer(w), .pointer(address(states[0])), .pointer(address(states[1])), .pointer(address(states[2])),
                .pointer(u), .pointer(g), .pointer(n), .int64(most), .int32(Int32(vec)), .float(lr), .float(beta1),
                .float(beta2), .float(epsilon), .float(gradScale), .int64(Int64(step)),
            ])
            launch("set_last_step", maxCount, [.pointer(address(states[2])), .pointer(u), .pointer(n), .int64(most),
                                               .int64(Int64(step))])
        case let .adaGrad(lr, epsilon, gradScale):
            touched(op: 0, lr, epsilon, gradScale)
        case let .momentumLocal(lr, factor, gradScale):
            touched(op: 1, lr, factor, gradScale)
        case let .nesterovLocal(lr, mu, gradScale):
            touched(op: 2, lr, mu, gradScale)
        case let .momentumGlobal(lr, factor, gradScale):
            everyRow(op: 1, lr, factor, gradScale)
        case let .nesterovGlobal(lr, mu, gradScale):
            everyRow(op: 3, lr, mu, gradScale)
        case .ftrl:
            // No kernel: hasSparseFtrl is false, and model building refuses an Ftrl embedding here.
            preconditionFailure("the CUDA backend has no sparse Ftrl update")
        }

        /// A one-state update (`one_state_step` code `op`) of the touched rows with hyper-parameter `h`.
        func touched(op: Int32, _ lr: Float, _ h: Float, _ gradScale: Float) {
            launch("sparse_one_state", maxCount * vec, [
                .int32(op), .pointer(w), .pointer(address(states[0])), .pointer(u), .pointer(g), .pointer(n), .int64(most),
                .int32(Int32(vec)), .float(lr), .float(h), .float(gradScale),
            ])
        }
        /// The same over every used row (the device's count in `table.state`).
        func everyRow(op: Int32, _ lr: Float, _ h: Float, _ gradScale: Float) {
            launch("sparse_one_state_global", table.capacity * vec, [
                .int32(op), .pointer(w), .pointer(address(states[0])), .pointer(address(rowSlot)), .pointer(g),
                .pointer(address(table.state)), .int64(Int64(table.capacity)), .int32(Int32(vec)), .float(lr), .float(h),
                .float(gradScale),
            ])
        }
    }
}

extension KernelSource {
    /// `hash_lookup`: a few probes per key (8-byte loads, one CAS per insert); `one_hot_rows`: 16
    /// bytes read and 8 written per key; `embedding_pool`:
    /// a thread per output element (per four for `4`), reading every key's row once;
    /// gradients: one atomic add per key element, then sparse updates over the unique rows only
    /// (all used rows for Global Adam, MomentumSGD and Nesterov), up to 10 FLOPs and 28 bytes per
    /// element.
    static let embedding = #"""
__device__ __forceinline__ u64 mix_key(i64 key) {
    u64 z = (u64)key * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 32)) * 0xD6E8FEB86659FD93ull;
    return z ^ (z >> 32);
}

// Open addressing with linear probing. A bucket is claimed by CAS of its row from -1 to -2, then
// gets its key and finally its row (a new one from `size`). Readers wait while a row is -2.
// `status[0]` is set when the table is full.
extern "C" __global__ void hash_lookup(i64* bucketKeys, i64* bucketRows, u64 mask, const i64* keys, i64* rows, i64 count,
                                       i64* size, i64 capacity, int insert, int* status) {
    GRID_STRIDE(i, count) {
        i64 key = keys[i];
        u64 b = mix_key(key) & mask;
        while (true) {
            volatile i64* slot = bucketRows + b;
            i64 row = *slot;
            if (row == -1) {
                if (!insert) { rows[i] = -1; break; }
                i64 old = (i64)atomicCAS((u64*)(bucketRows + b), (u64)-1ll, (u64)-2ll);
                if (old == -1) {
                    i64 r = (i64)atomicAdd((u64*)size, 1ull);
                    if (r >= capacity) { status[0] = 1; r = -1; }
                    ((volatile i64*)bucketKeys)[b] = key;
                    __threadfence();
                    *slot = r < 0 ? -3 : r;
                    rows[i] = r;
                    break;
                }
                continue;
            }
            while (row == -2) row = *slot;
            if (((volatile i64*)bucketKeys)[b] == key) { rows[i] = row >= 0 ? row : -1; break; }
            b = (b + 1) & mask;
        }
    }
}

// One thread per (sample, slot) segment: each key is its own row when it lies in its slot's
// bounds; otherwise its row is -1 (pooling and gradients skip it) and the first such key wins
// `state[1]` and records itself and its slot.
extern "C" __global__ void one_hot_rows(const i64* keys, const i64* offsets, i64 segments, int slots, const i64* bounds,
                                        i64* rows, i64* state) {
    GRID_STRIDE(s, segments) {
        int slot = (int)(s % slots);
        i64 low = bounds[slot], high = bounds[slot + 1];
        for (i64 j = offsets[s]; j < offsets[s + 1]; ++j) {
            i64 key = keys[j];
            if (key >= low && key < high) { rows[j] = key; continue; }
            rows[j] = -1;
            if (atomicCAS((u64*)(state + 1), 0ull, 1ull) == 0ull) { state[2] = key; state[3] = slot; }
        }
    }
}

// One thread per (segment, element): out[s, k] = pooled rows of segment s.
extern "C" __global__ void embedding_pool(const float* values, const i64* rows, const i64* offsets, i64 segments, int vec,
                                          int mean, float* out) {
    GRID_STRIDE(i, segments * vec) {
        int k; i64 s = divmod(i, vec, &k);
        i64 start = offsets[s], end = offsets[s + 1];
        float acc = 0.f;
        for (i64 j = start; j < end; ++j) {
            i64 r = rows[j];
            if (r >= 0) acc += values[r * vec + k];
        }
        if (mean && end - start > 1) acc /= (float)(end - start);
        out[i] = acc;
    }
}

// The same with a thread per (segment, four elements); `quads` = vec / 4.
extern "C" __global__ void embedding_pool4(const float4* values, const i64* rows, const i64* offsets, i64 segments,
                                           int quads, int mean, float4* out) {
    GRID_STRIDE(i, segments * quads) {
        int k; i64 s = divmod(i, quads, &k);
        i64 start = offsets[s], end = offsets[s + 1];
        float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
        for (i64 j = start; j < end; ++j) {
            i64 r = rows[j];
            if (r >= 0) {
                float4 v = values[r * quads + k];
                acc.x += v.x; acc.y += v.y; acc.z += v.z; acc.w += v.w;
            }
        }
        if (mean && end - start > 1) {
            float n = (float)(end - start);
            acc.x /= n; acc.y /= n; acc.z /= n; acc.w /= n;
        }
        out[i] = acc;
    }
}

extern "C" __global__ void segment_ids(const i64* offsets, i64 segments, i64* segmentOf) {
    GRID_STRIDE(s, segments) for (i64 j = offsets[s]; j < offsets[s + 1]; ++j) segmentOf[j] = s;
}

// Gives each distinct row a slot in the unique list (first come, first served).
extern "C" __global__ void claim_rows(const i64* rows, i64 count, i64* rowSlot, i64* uniqueRows, i64* uniqueCount) {
    GRID_STRIDE(j, count) {
        i64 r = rows[j];
        // A row already claimed (or being claimed) needs no atomic: hot rows are read, not fought over.
        if (r < 0 || ((volatile i64*)rowSlot)[r] != -1) continue;
        if (atomicCAS((u64*)(rowSlot + r), (u64)-1ll, (u64)-2ll) == (u64)-1ll) {
            i64 s = (i64)atomicAdd((u64*)uniqueCount, 1ull);
            uniqueRows[s] = r;
            __threadfence();
            ((volatile i64*)rowSlot)[r] = s;
        }
    }
}

extern "C" __global__ void zero_unique(float* grads, const i64* uniqueCount, int vec, i64 capacity) {
    i64 n = min(*uniqueCount, capacity) * vec;
    GRID_STRIDE(i, n) grads[i] = 0.f;
}

extern "C" __global__ void scatter_grads(const float* dout, const i64* rows, const i64* segmentOf, const i64* offsets,
                                         const i64* rowSlot, i64 count, int vec, int mean, float* grads) {
    GRID_STRIDE(i, count * vec) {
        int k; i64 j = divmod(i, vec, &k);
        i64 r = rows[j];
        if (r < 0) continue;
        i64 s = segmentOf[j];
        i64 n = offsets[s + 1] - offsets[s];
        float scale = (mean && n > 1) ? 1.f / (float)n : 1.f;
        atomicAdd(grads + rowSlot[r] * vec + k, scale * dout[s * vec + k]);
    }
}

// The counting sort of `embeddingGradients`. Eight threads per segment: each key's segment and
// the slot of its row (-1 for a key without one), counted per slot.
extern "C" __global__ void key_slots(const i64* rows, const i64* offsets, i64 segments, const i64* rowSlot,
                                     int* segmentOf, int* slotOf, int* counts) {
    GRID_STRIDE(i, segments * 8) {
        i64 s = i >> 3;
        for (i64 j = offsets[s] + (i & 7); j < offsets[s + 1]; j += 8) {
            i64 r = rows[j];
            int u = r >= 0 ? (int)rowSlot[r] : -1;
            segmentOf[j] = (int)s;
            slotOf[j] = u;
            if (u >= 0) atomicAdd(counts + u, 1);
        }
    }
}

// Each slot's count becomes the start of its range: a scan within each warp, and one atomic per
// warp on `total` for the warp's base (the ranges need not follow the slots' order).
extern "C" __global__ void slot_starts(int* counts, const i64* uniqueCount, i64 capacity, i64* total) {
    i64 n = min(*uniqueCount, capacity);
    for (i64 base = (i64)blockIdx.x * blockDim.x; base < n; base += (i64)blockDim.x * gridDim.x) {
        i64 i = base + threadIdx.x;
        int lane = threadIdx.x & 31, c = i < n ? counts[i] : 0, x = c;
        for (int d = 1; d < 32; d <<= 1) {
            int y = __shfl_up_sync(0xffffffffu, x, d);
            if (lane >= d) x += y;
        }
        int start = lane == 31 ? (int)atomicAdd((u64*)total, (u64)x) : 0;
        start = __shfl_sync(0xffffffffu, start, 31);
        if (i < n) counts[i] = start + x - c;
    }
}

extern "C" __global__ void place_keys(const int* segmentOf, const int* slotOf, i64 count, int* cursor,
                                      int* sortedSegment, int* sortedSlot) {
    GRID_STRIDE(j, count) {
        int u = slotOf[j];
        if (u < 0) continue;
        int p = atomicAdd(cursor + u, 1);
        sortedSegment[p] = segmentOf[j];
        sortedSlot[p] = u;
    }
}

// The short-vector path of `embeddingGradients`: a thread per segment, walked slot-major (the 32
// lanes of a warp take one slot of 32 samples, so that a hot row shows up in many lanes at once).
// Lanes whose keys share a row slot are matched; the group's lanes split the quads, each summing
// the group's scaled segment gradients of its quads and adding them with one atomic per quad.
extern "C" __global__ void scatter_grads_grouped4(const float4* dout, const i64* rows, const i64* offsets, i64 segments,
                                                  int slots, const i64* rowSlot, int quads, int mean, float4* grads) {
    __shared__ int segmentOf[256];
    __shared__ float scaleOf[256];
    i64 batch = segments / slots;
    int lane = threadIdx.x & 31, warpBase = threadIdx.x & ~31;
    GRID_STRIDE(t, segments) {
        i64 s = (t % batch) * slots + t / batch;
        i64 first = offsets[s], end = offsets[s + 1];
        float scale = mean && end - first > 1 ? 1.f / (float)(end - first) : 1.f;
        for (i64 j = first; j < end; ++j) {
            i64 r = rows[j];
            int u = r >= 0 ? (int)rowSlot[r] : -1;
            unsigned peers = __match_any_sync(__activemask(), u);
            segmentOf[threadIdx.x] = (int)s;
            scaleOf[threadIdx.x] = scale;
            __syncwarp(peers);
            int group = __popc(peers), rank = __popc(peers & ((1u << lane) - 1u));
            if (u >= 0) {
                for (int k = rank; k < quads; k += group) {
                    float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
                    for (unsigned rest = peers; rest; rest &= rest - 1) {
                        int p = warpBase + __ffs(rest) - 1;
                        float c = scaleOf[p];
                        float4 g = dout[(i64)segmentOf[p] * quads + k];
                        acc.x += c * g.x; acc.y += c * g.y; acc.z += c * g.z; acc.w += c * g.w;
                    }
                    float4* to = grads + (i64)u * quads + k;
#if __CUDA_ARCH__ >= 900
                    atomicAdd(to, acc);
#else
                    atomicAdd(&to->x, acc.x); atomicAdd(&to->y, acc.y); atomicAdd(&to->z, acc.z); atomicAdd(&to->w, acc.w);
#endif
                }
            }
            __syncwarp(peers);
        }
    }
}

// A thread per (chunk of SORTED_CHUNK sorted keys, quad); for 128 floats a warp per chunk. It sums
// the segment gradients of each run of one slot in its chunk, and stores the sum when the run is
// the slot's whole range, or adds it atomically when the range spans chunks.
#define SORTED_CHUNK 64
extern "C" __global__ void reduce_sorted_grads4(const float4* dout, const int* sortedSegment, const int* sortedSlot,
                                                const i64* total, const i64* offsets, int quads, int mean,
                                                float4* grads) {
    i64 n = *total, chunks = (n + SORTED_CHUNK - 1) / SORTED_CHUNK;
    GRID_STRIDE(i, chunks * quads) {
        int k; i64 c = divmod(i, quads, &k);
        i64 first = c * SORTED_CHUNK, end = min(first + SORTED_CHUNK, n), p = first;
        while (p < end) {
            int u = sortedSlot[p];
            bool starts = p > first || p == 0 || sortedSlot[p - 1] != u;
            float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
            for (; p < end && sortedSlot[p] == u; ++p) {
                i64 s = sortedSegment[p];
                float4 g = dout[s * quads + k];
                float scale = 1.f;
                if (mean) { i64 m = offsets[s + 1] - offsets[s]; if (m > 1) scale = 1.f / (float)m; }
                acc.x += scale * g.x; acc.y += scale * g.y; acc.z += scale * g.z; acc.w += scale * g.w;
            }
            bool ends = p < end || p == n || sortedSlot[p] != u;
            float4* to = grads + (i64)u * quads + k;
            if (starts && ends) { *to = acc; continue; }
#if __CUDA_ARCH__ >= 900
            atomicAdd(to, acc);
#else
            atomicAdd(&to->x, acc.x); atomicAdd(&to->y, acc.y); atomicAdd(&to->z, acc.z); atomicAdd(&to->w, acc.w);
#endif
        }
    }
}

extern "C" __global__ void clear_row_slots(i64* rowSlot, const i64* uniqueRows, const i64* uniqueCount, i64 maxCount) {
    i64 count = min(*uniqueCount, maxCount);
    GRID_STRIDE(j, count) rowSlot[uniqueRows[j]] = -1;
}

extern "C" __global__ void sparse_sgd(float* w, const i64* uniqueRows, const float* g, const i64* uniqueCount, i64 maxCount,
                                      int vec, float step) {
    i64 count = min(*uniqueCount, maxCount);
    GRID_STRIDE(i, count * vec) {
        int k; i64 j = divmod(i, vec, &k);
        w[uniqueRows[j] * vec + k] -= step * g[i];
    }
}

extern "C" __global__ void sparse_adam_local(float* w, float* m, float* v, const i64* uniqueRows, const float* g,
                                             const i64* uniqueCount, i64 maxCount, int vec, float alpha, float beta1,
                                             float beta2, float eps, float gradScale) {
    i64 count = min(*uniqueCount, maxCount);
    GRID_STRIDE(i, count * vec) {
        int k; i64 j = divmod(i, vec, &k);
        i64 e = uniqueRows[j] * vec + k;
        float gi = g[i] * gradScale;
        float mi = beta1 * m[e] + (1.f - beta1) * gi;
        float vi = beta2 * v[e] + (1.f - beta2) * gi * gi;
        m[e] = mi; v[e] = vi;
        w[e] -= alpha * mi / (sqrtf(vi) + eps);
    }
}

extern "C" __global__ void sparse_adam_global(float* w, float* m, float* v, const i64* rowSlot, const float* g,
                                              const i64* tableSize, i64 capacity, int vec, float alpha, float beta1,
                                              float beta2, float eps, float gradScale) {
    i64 usedRows = min(*tableSize, capacity);
    GRID_STRIDE(e, usedRows * vec) {
        int k; i64 r = divmod(e, vec, &k);
        i64 s = rowSlot[r];
        float gi = s >= 0 ? g[s * vec + k] * gradScale : 0.f;
        float mi = beta1 * m[e] + (1.f - beta1) * gi;
        float vi = beta2 * v[e] + (1.f - beta2) * gi * gi;
        m[e] = mi; v[e] = vi;
        w[e] -= alpha * mi / (sqrtf(vi) + eps);
    }
}

extern "C" __global__ void sparse_adam_lazy(float* w, float* m, float* v, i64* lastStep, const i64* uniqueRows, const float* g,
                                            const i64* uniqueCount, i64 maxCount, int vec, float lr, float beta1, float beta2,
                                            float eps, float gradScale, i64 step) {
    i64 count = min(*uniqueCount, maxCount);
    GRID_STRIDE(i, count * vec) {
        int k; i64 j = divmod(i, vec, &k);
        i64 row = uniqueRows[j];
        i64 previous = lastStep[row] == 0 ? 1 : lastStep[row];
        float skipped = (float)(step - previous);
        float t = (float)step;
        float alpha = lr / (1.f - beta1) * sqrtf(1.f - powf(beta2, t)) / (1.f - powf(beta1, t)) * (1.f - powf(beta1, skipped));
        i64 e = row * vec + k;
        float gi = g[i] * gradScale;
        w[e] -= alpha * m[e] / (sqrtf(v[e]) + eps);
        m[e] = powf(beta1, skipped) * m[e] + (1.f - beta1) * gi;
        v[e] = powf(beta2, skipped) * v[e] + (1.f - beta2) * gi * gi;
    }
}

// HugeCTR's Global Nesterov, both passes: m = μ·m; w += μ·m; then m −= lr·g; w −= (1+μ)·lr·g
// (the second pass changes nothing for an untouched row's g = 0).
__device__ __forceinline__ void nesterov_global_step(float* w, float* m, float g, float lr, float mu) {
    float decayed = *m * mu, step = lr * g;
    float coasted = *w + decayed * mu;
    *m = decayed - step;
    *w = coasted - (1.f + mu) * step;
}
// The one-state element steps of Kernels/Optimizer.swift by code `op`: 0 AdaGrad,
// 1 MomentumSGD, 2 Nesterov, 3 Global Nesterov; `h` is ε, the momentum factor or μ.
__device__ __forceinline__ void one_state_step(int op, float* w, float* s, float g, float lr, float h) {
    switch (op) {
    case 0: adagrad_step(w, s, g, lr, h); break;
    case 1: momentum_step(w, s, g, lr, h); break;
    case 2: nesterov_step(w, s, g, lr, h); break;
    default: nesterov_global_step(w, s, g, lr, h);
    }
}

// A one-state update of the touched rows.
extern "C" __global__ void sparse_one_state(int op, float* w, float* s, const i64* uniqueRows, const float* g,
                                            const i64* uniqueCount, i64 maxCount, int vec, float lr, float h,
                                            float gradScale) {
    i64 count = min(*uniqueCount, maxCount);
    GRID_STRIDE(i, count * vec) {
        int k; i64 j = divmod(i, vec, &k);
        i64 e = uniqueRows[j] * vec + k;
        one_state_step(op, w + e, s + e, g[i] * gradScale, lr, h);
    }
}

// A one-state update of every used row; untouched rows take g = 0.
extern "C" __global__ void sparse_one_state_global(int op, float* w, float* s, const i64* rowSlot, const float* g,
                                                   const i64* tableSize, i64 capacity, int vec, float lr, float h,
                                                   float gradScale) {
    i64 usedRows = min(*tableSize, capacity);
    GRID_STRIDE(e, usedRows * vec) {
        int k; i64 r = divmod(e, vec, &k);
        i64 slot = rowSlot[r];
        one_state_step(op, w + e, s + e, slot >= 0 ? g[slot * vec + k] * gradScale : 0.f, lr, h);
    }
}

// Runs after sparse_adam_lazy, so that no element of a row reads an already advanced step.
extern "C" __global__ void set_last_step(i64* lastStep, const i64* uniqueRows, const i64* uniqueCount, i64 maxCount, i64 step) {
    i64 count = min(*uniqueCount, maxCount);
    GRID_STRIDE(j, count) lastStep[uniqueRows[j]] = step;
}
"""#
}
