"""The bf16 GEMM rate PyTorch (cuBLAS/cuBLASLt) reaches on DLRM-DCNv2's shapes at batch 65536, as a
ceiling for SwiftCTR's MultiCross v2 and MLP phases: each GEMM of a training step at its m×n×k,
as a plain row-major product (m×k)·(k×n) with a bf16 result (the step transposes some operands),
timed with CUDA events, median of 20.

    python3 bench/gemm_ceiling.py [--batch 65536]
"""
import argparse
import json

import torch


def shapes(b):
    n, k = 3456, 512
    cross = [("cross x·U", b, k, n), ("cross (xU)·V", b, n, k),
             ("cross dV = (xU)ᵀ·S0", k, n, b), ("cross S1 = S0·Vᵀ", b, k, n),
             ("cross dU = xᵀ·S1", n, k, b), ("cross dx = S1·Uᵀ", b, n, k)]
    top = [(3456, 1024), (1024, 1024), (1024, 512), (512, 256)]
    mlp = []
    for i, o in top:
        mlp += [(f"top {i}→{o} forward", b, o, i), (f"top {i}→{o} dX", b, i, o), (f"top {i}→{o} dW", i, o, b)]
    return cross, mlp


def rate(m, n, k):
    a = torch.randn(m, k, device="cuda", dtype=torch.bfloat16)
    w = torch.randn(k, n, device="cuda", dtype=torch.bfloat16)
    c = torch.empty(m, n, device="cuda", dtype=torch.bfloat16)
    for _ in range(3):
        torch.matmul(a, w, out=c)
    times = []
    for _ in range(20):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        torch.matmul(a, w, out=c)
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    ms = sorted(times)[len(times) // 2]
    return ms, 2 * m * n * k / (ms * 1e-3) / 1e12


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=65536)
    args = parser.parse_args()
    cross, mlp = shapes(args.batch)
    rows = []
    for group, items in (("MultiCross v2, one layer", cross), ("top MLP", mlp)):
        total_ms = total_flop = 0.0
        for name, m, n, k in items:
            ms, tflops = rate(m, n, k)
            total_ms += ms
            total_flop += 2 * m * n * k
            rows.append({"gemm": name, "m": m, "n": n, "k": k, "ms": round(ms, 4), "tflops": round(tflops, 1)})
            print(f"{name:28s} {m:6d}×{n:5d}×{k:6d}  {ms:7.3f} ms  {tflops:6.1f} TFLOPS")
        print(f"{group}: {total_ms:.3f} ms, {total_flop / (total_ms * 1e-3) / 1e12:.1f} TFLOPS\n")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
