#!/usr/bin/env python3
"""PyTorch reference for SwiftCTR's DLRM-DCNv2 benchmark (`swiftctr bench --models dlrmdcnv2`).

MLPerf's DLRM-DCNv2 as SwiftCTR builds it (Recipes.dlrmDCNv2, after HugeCTR's train.py): 26 tables
of --vec (128) floats, sum-pooled over each sample's keys of the table (multi-hot, a fixed hotness
per table) -> (B, 26 * 128), beside the bottom MLP 13 -> 512 -> 256 -> 128 (ReLU) of the dense
features; concat [sparse, bottom] (3456) -> 3 DCN v2 cross layers of rank 512,
x_{l+1} = x0 * ((x_l U_l) V_l + b_l) + x_l -> top MLP 1024-1024-512-256-1 (ReLU but the last) -> BCE;
AdaGrad (lr 0.005, eps 1e-8, accumulators from 0) on every weight. The tables are one
nn.EmbeddingBag over the globally offset keys, as the data holds them. Both sides read the same
generated files (the folder `swiftctr bench` writes: dataset.json, train_list.txt, Norm files).

    python3 bench/dlrm_dcnv2_pytorch.py DIR [--batch 65536] [--variants bf16,bf16+compile] [--json out.json]

Variants: "bf16" runs eager under bf16 autocast with sparse table gradients and AdaGrad's sparse
update; "bf16+compile" compiles everything after the lookup (inductor has no sparse gradients);
"bf16+compile-dense" compiles the whole step with a dense table gradient and a compiled foreach
AdaGrad over every row (opt-in: it moves the whole table each step). All loaded batches are copied
to the device before timing, so the input pipeline is not measured.
"""
import argparse
import gc
import itertools
import json
import math
import os
import statistics
import sys
import time
import traceback

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dcn_pytorch import hotness, hugectr_linear, load_dataset  # noqa: E402

ALL_VARIANTS = ["fp32", "bf16", "bf16+compile", "bf16+compile-dense"]
DEFAULT_VARIANTS = ["bf16", "bf16+compile"]


def mlp(widths, last_relu=True):
    layers = []
    for i, (n_in, n_out) in enumerate(zip(widths, widths[1:])):
        layers.append(hugectr_linear(n_in, n_out))
        if last_relu or i < len(widths) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class DLRMDCNv2(nn.Module):
    def __init__(self, rows, hot, dense_dim, vec=128, cross_layers=3, projection=512, sparse=True):
        super().__init__()
        self.hot, self.vec = hot, vec
        self.embedding = nn.EmbeddingBag(rows, vec, mode="sum", sparse=sparse)
        nn.init.uniform_(self.embedding.weight, -0.05, 0.05)
        self.bottom = mlp([dense_dim, 512, 256, 128])
        n = len(hot) * vec + 128
        std = math.sqrt(2.0 / (n + projection))
        self.cross_u = nn.Parameter(torch.randn(cross_layers, n, projection) * std)
        self.cross_v = nn.Parameter(torch.randn(cross_layers, projection, n) * std)
        self.cross_b = nn.Parameter(torch.zeros(cross_layers, n))
        self.top_mlp = mlp([n, 1024, 1024, 512, 256, 1], last_relu=False)

    def lookup(self, keys, offsets):
        """keys (B * sum(hot)) in sample-major, table-minor order; offsets: the start of each (sample, table) bag."""
        return self.embedding(keys, offsets).view(-1, len(self.hot) * self.vec)

    def top(self, emb, dense):
        x0 = torch.cat([emb, self.bottom(dense)], dim=1)
        x = x0
        for u, v, b in zip(self.cross_u, self.cross_v, self.cross_b):
            x = x0 * ((x @ u) @ v + b) + x
        return self.top_mlp(x).squeeze(1)


def run_variant(variant, args, cfg, batches, device):
    torch.manual_seed(0)
    bf16, compiled, dense_table = "bf16" in variant, "compile" in variant, variant.endswith("dense")
    if device.type == "cuda":
        torch.set_float32_matmul_precision("highest")
        gc.collect()
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    hot = hotness(cfg)
    model = DLRMDCNv2(sum(cfg["slotSizes"]), hot, cfg["denseDim"], args.vec, sparse=not dense_table).to(device).train()
    kw = dict(lr=0.005, eps=1e-8, initial_accumulator_value=0.0)
    rest = [p for n, p in model.named_parameters() if not n.startswith("embedding.")]
    if dense_table:
        opts = [torch.optim.Adagrad(model.parameters(), foreach=True, **kw)]
    else:  # AdaGrad's sparse update for the table (torch has no foreach or fused sparse AdaGrad)
        opts = [torch.optim.Adagrad([model.embedding.weight], **kw),
                torch.optim.Adagrad(rest, foreach=device.type == "cuda", **kw)]

    def loss_fn(emb, dense, label):
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=bf16):
            logits = model.top(emb, dense)
        return F.binary_cross_entropy_with_logits(logits.float(), label)

    def whole_loss(keys, offsets, dense, label):
        return loss_fn(model.lookup(keys, offsets), dense, label)

    def update():
        for o in opts:
            o.step()

    if dense_table:
        forward, update_fn = torch.compile(whole_loss, dynamic=False), torch.compile(update)
    else:
        top = torch.compile(loss_fn, dynamic=False) if compiled else loss_fn
        forward, update_fn = (lambda k, o, d, l: top(model.lookup(k, o), d, l)), update

    def step(keys, offsets, dense, label):
        for o in opts:
            o.zero_grad(set_to_none=True)
        loss = forward(keys, offsets, dense, label)
        loss.backward()
        update_fn()
        return loss

    cuda, feed = device.type == "cuda", itertools.cycle(batches)
    for _ in range(args.warmup * (3 if compiled else 1)):
        loss = step(*next(feed))
    if cuda:
        torch.cuda.synchronize()
    times = []
    for _ in range(args.windows):
        if cuda:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
        t0 = time.perf_counter()
        for _ in range(args.steps):
            loss = step(*next(feed))
        if cuda:
            end.record()
            end.synchronize()
        times.append(start.elapsed_time(end) / 1000.0 if cuda else time.perf_counter() - t0)
    seconds = statistics.median(times)
    loss = float(loss.item())
    peak = torch.cuda.max_memory_allocated() if cuda else None
    return dict(samples_per_sec=args.steps * args.batch / seconds, ms_per_step=1000.0 * seconds / args.steps,
                peak_mem_bytes=peak, loss=loss if math.isfinite(loss) else None)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data", help="dataset folder written by `swiftctr bench --models dlrmdcnv2` (fixed hotness)")
    p.add_argument("--vec", type=int, default=128, help="embedding vector size")
    p.add_argument("--batch", type=int, help="batch size (default 65536 on CUDA, 1024 on CPU)")
    p.add_argument("--samples", type=int, default=1 << 20, help="samples to load into memory")
    p.add_argument("--variants", help="comma list of " + ", ".join(ALL_VARIANTS) + " (default: " + ",".join(DEFAULT_VARIANTS) + ")")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", choices=["cuda", "cpu"])
    p.add_argument("--warmup", type=int, default=10, help="untimed steps (x3 for compile variants)")
    p.add_argument("--windows", type=int, default=5)
    p.add_argument("--steps", type=int, default=10, help="steps per timed window")
    p.add_argument("--json", help="write the results as a JSON list to this file")
    args = p.parse_args()
    device = torch.device(args.device)
    args.batch = args.batch or (65536 if device.type == "cuda" else 1024)
    variants = [v.strip() for v in (args.variants or ",".join(DEFAULT_VARIANTS)).split(",") if v.strip()]
    unknown = [v for v in variants if v not in ALL_VARIANTS]
    if unknown:
        p.error(f"unknown variants {unknown}; use {', '.join(ALL_VARIANTS)}")
    if device.type == "cpu" and variants != ["fp32"]:
        print(f"note: on the CPU only fp32 runs (asked for {variants})")
        variants = ["fp32"]

    t0 = time.perf_counter()
    cfg, labels, dense, keys = load_dataset(args.data, args.samples)
    hot = hotness(cfg)
    nb = len(labels) // args.batch
    if nb == 0:
        raise SystemExit(f"loaded {len(labels)} samples, fewer than one batch of {args.batch}")
    print(f"data: {args.data}: {len(labels)} samples ({labels.mean():.3f} positive), {sum(cfg['slotSizes'])} rows in "
          f"{len(hot)} tables, {sum(hot)} keys per sample, {nb} batches of {args.batch} ({time.perf_counter() - t0:.1f} s)")
    lab, den, key = (torch.from_numpy(a[:nb * args.batch]).to(device) for a in (labels, dense, keys))
    bag = torch.tensor(list(itertools.accumulate([0] + hot[:-1])), device=device)
    offsets = (torch.arange(args.batch, device=device).unsqueeze(1) * sum(hot) + bag).flatten()
    width = sum(hot)
    batches = [(key[j:j + args.batch].flatten(), offsets, den[j:j + args.batch], lab[j:j + args.batch])
               for j in range(0, nb * args.batch, args.batch)]
    assert batches[0][0].numel() == args.batch * width
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else None
    print(f"torch {torch.__version__} on {gpu or 'CPU'}; DLRM-DCNv2 vec {args.vec}, batch {args.batch}")

    base = ("all batches preloaded on the device, host->device copy not timed; AdaGrad; "
            + ("peak_mem = torch.cuda.max_memory_allocated, preloaded batches included" if gpu else "CPU run"))
    results = []
    for v in variants:
        row = dict(variant=v, samples_per_sec=None, ms_per_step=None, peak_mem_bytes=None, loss=None, batch=args.batch,
                   device=device.type, torch_version=torch.__version__, gpu_name=gpu,
                   note=base + ("; dense table gradient" if v.endswith("dense") else "; sparse table gradient"))
        try:
            row.update(run_variant(v, args, cfg, batches, device))
        except Exception as e:  # e.g. out of memory or a torch.compile failure: report it, go on
            traceback.print_exc()
            row["note"] = f"FAILED: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"[:300]
        finally:
            if "compile" in v:
                torch._dynamo.reset()
        results.append(row)

    print(f"\n{'variant':<20}{'samples/s':>14}{'ms/step':>10}{'peak MiB':>10}{'loss':>9}")
    for r in results:
        if r["samples_per_sec"] is None:
            print(f"{r['variant']:<20}{r['note']}")
            continue
        mem = f"{r['peak_mem_bytes'] / 2**20:.0f}" if r["peak_mem_bytes"] else "-"
        loss = f"{r['loss']:.4f}" if r["loss"] is not None else "nan"
        print(f"{r['variant']:<20}{r['samples_per_sec']:>14,.0f}{r['ms_per_step']:>10.2f}{mem:>10}{loss:>9}")
    print(f"({base}; median of {args.windows} windows x {args.steps} steps)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
