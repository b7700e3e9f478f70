#!/usr/bin/env python3
"""PyTorch reference for SwiftCTR's DCN-16 / DCN-128 / DCN-16 v2 training benchmark (`swiftctr bench`).

It mirrors HugeCTR's DCN sample as SwiftCTR builds it (Recipes.dcn): one embedding table of
sum(slotSizes) rows x --vec (16 = DCN-16, 128 = DCN-128; keys are globally offset, so they index
the table directly), one key per slot -> (B, slots, vec) -> flatten -> concat dense -> x0;
6 DCN-v1 cross layers (--cross-layers) beside FC(1024)-ReLU-Dropout(0.5) x2; concat(deep, cross)
-> FC(1) -> BCE; Adam(lr 1e-3, betas (0.9, 0.999), eps 1e-7). With --cross v2 the cross layers are
DCN v2's low-rank ones, x_{l+1} = x0 * ((x_l U_l) V_l + b_l) + x_l with U_l (n, --projection) and
V_l (--projection, n) (SwiftCTR's dcn16v2: --cross v2 --cross-layers 3 --projection 128). Both sides
read the same generated files (`swiftctr generate --out DIR`: DIR/dataset.json, DIR/train_list.txt,
HugeCTR Norm binaries).

    python3 bench/dcn_pytorch.py DIR [--vec 128] [--batch 65536] [--variants fp32,bf16] [--json out.json]
    python3 bench/dcn_pytorch.py DIR --cross v2 --cross-layers 3 --projection 128

All loaded batches are copied to the device before timing, so the input pipeline is not measured.
"""
import argparse
import gc
import itertools
import json
import math
import os
import statistics
import time
import traceback

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# "compile" compiles everything after the lookup; "step" compiles the whole training step: the lookup,
# the loss, its backward (AOTAutograd) and the Adam update (a compiled foreach Adam).
ALL_VARIANTS = ["fp32", "bf16", "compile", "bf16+compile", "compile-step", "bf16+compile-step"]  # and "tf32" (opt-in)


# ---------------------------------------------------------------- data (HugeCTR Norm, spec §3.3)
def hotness(cfg):
    """Keys per slot of every sample: 1s for one-hot data, nnzPerSlot for fixed-hotness data."""
    nnz = cfg.get("nnzPerSlot", [1] * len(cfg["slotSizes"]))
    if all(n == 1 for n in nnz) or cfg.get("fixedHotness", False):
        return nnz
    raise SystemExit(f"multi-hot data of 1...n keys per slot (nnzPerSlot {nnz}) is not supported; generate one-hot "
                     "or fixed-hotness data")


def read_norm(path, cfg, limit):
    """Reads up to `limit` samples of one Norm file with a fixed number of keys per slot (one-hot or
    fixed hotness) -> (labels, dense, keys int64 [n, sum of hotness]). Such records have a fixed
    size, so the file is read as an array of packed numpy records."""
    framed = cfg.get("check", "Sum") == "Sum"  # Sum: int32 length, payload, 1 checksum byte
    hot, key = hotness(cfg), "<i8" if cfg.get("i64Keys", True) else "<u4"
    slots = [f for s, h in enumerate(hot) for f in ((f"n{s}", "<i4"), (f"k{s}", key, (h,)))]
    fields = [("label", "<f4", (1,)), ("dense", "<f4", (cfg["denseDim"],))] + slots
    rec = np.dtype([("length", "<i4")] + fields + [("checksum", "u1")] if framed else fields)
    header = np.fromfile(path, dtype="<i8", count=8, offset=4 if framed else 0)
    want = (1 if framed else 0, 1, cfg["denseDim"], len(hot))
    got = tuple(int(header[i]) for i in (0, 2, 3, 4)) if len(header) == 8 else "too short"
    if got != want:
        raise ValueError(f"{path}: header (error_check, label_dim, dense_dim, slot_num) = {got}, "
                         f"dataset.json says {want}")
    start, records = 69 if framed else 64, int(header[1])
    if os.path.getsize(path) != start + records * rec.itemsize:
        raise ValueError(f"{path}: size does not match {records} fixed-size records of {rec.itemsize} bytes "
                         f"(keys per slot {hot})")
    r = np.fromfile(path, dtype=rec, count=min(records, limit), offset=start)
    if any((r[f"n{s}"] != h).any() for s, h in enumerate(hot)) or (framed and (r["length"] != rec.itemsize - 5).any()):
        raise ValueError(f"{path}: a slot whose key count is not {hot}, or a bad frame length")
    if framed:
        sums = r.view(np.uint8).reshape(len(r), rec.itemsize)[:, 4:-1].sum(axis=1, dtype=np.uint32)
        if ((sums & 0xFF) != r["checksum"]).any():
            raise ValueError(f"{path}: checksum mismatch")
    keys = np.concatenate([r[f"k{s}"].reshape(len(r), h).astype(np.int64) for s, h in enumerate(hot)], axis=1)
    return r["label"][:, 0].copy(), np.ascontiguousarray(r["dense"]), keys


def load_dataset(folder, limit):
    with open(os.path.join(folder, "dataset.json")) as f:
        cfg = json.load(f)
    hot = hotness(cfg)
    with open(os.path.join(folder, "train_list.txt")) as f:
        lines = f.read().split("\n")
    names = [l.strip() for l in lines[1:1 + int(lines[0])]]
    parts, have = [], 0
    for name in names:
        if have >= limit:
            break
        path = name if os.path.isabs(name) else os.path.join(folder, name)
        parts.append(read_norm(path, cfg, limit - have))
        have += len(parts[-1][0])
    labels, dense, keys = (np.concatenate(p) for p in zip(*parts))
    lo = np.repeat(np.cumsum([0] + cfg["slotSizes"][:-1]), hot)  # slot s owns keys lo[s] ..< lo[s] + slotSizes[s]
    hi = lo + np.repeat(cfg["slotSizes"], hot)
    if ((keys < lo) | (keys >= hi)).any():
        raise ValueError("a key lies outside its slot's range of the globally offset table")
    return cfg, labels, dense, keys


# ---------------------------------------------------------------- model (SwiftCTR Recipes.dcn)
def hugectr_linear(n_in, n_out):
    """nn.Linear with SwiftCTR's Default init: W ~ N(0, sqrt(2/(in+out))) truncated at 2 sigma
    and rescaled by 1/0.8796; b ~ N(0, sqrt(1/out))."""
    layer = nn.Linear(n_in, n_out)
    std = math.sqrt(2.0 / (n_in + n_out)) / 0.87962566103423978
    nn.init.trunc_normal_(layer.weight, std=std, a=-2 * std, b=2 * std)
    nn.init.normal_(layer.bias, std=math.sqrt(1.0 / n_out))
    return layer


class DCN(nn.Module):
    def __init__(self, rows, slots, dense_dim, vec, sparse=False, cross_layers=6, width=1024, projection=0):
        super().__init__()
        n = slots * vec + dense_dim
        self.embedding = nn.Embedding(rows, vec, sparse=sparse)
        nn.init.uniform_(self.embedding.weight, -0.05, 0.05)
        self.projection = projection
        if projection > 0:  # DCN v2 (SwiftCTR MultiCrossV2): U, V ~ N(0, sqrt(2/(n+k))), b = 0
            std = math.sqrt(2.0 / (n + projection))
            self.cross_u = nn.Parameter(torch.randn(cross_layers, n, projection) * std)
            self.cross_v = nn.Parameter(torch.randn(cross_layers, projection, n) * std)
        else:
            self.cross_w = nn.Parameter(torch.randn(cross_layers, n) * math.sqrt(1.0 / n))
        self.cross_b = nn.Parameter(torch.zeros(cross_layers, n))
        self.deep = nn.Sequential(hugectr_linear(n, width), nn.ReLU(), nn.Dropout(0.5),
                                  hugectr_linear(width, width), nn.ReLU(), nn.Dropout(0.5))
        self.head = hugectr_linear(width + n, 1)

    def forward(self, keys, dense):
        return self.top(self.embedding(keys), dense)

    def top(self, emb, dense):
        """Everything after the lookup: emb (B, slots, vec), dense (B, dense_dim) -> logits (B,)."""
        x0 = torch.cat([emb.flatten(1), dense], dim=1)
        x = x0
        if self.projection > 0:
            for u, v, b in zip(self.cross_u, self.cross_v, self.cross_b):  # x_{l+1} = x0 * ((x_l U_l) V_l + b_l) + x_l
                x = x0 * ((x @ u) @ v + b) + x
        else:
            for w, b in zip(self.cross_w, self.cross_b):  # x_{l+1} = x0 * (x_l . w_l) + x_l + b_l
                x = x0 * (x @ w).unsqueeze(1) + x + b
        return self.head(torch.cat([self.deep(x0), x], dim=1)).squeeze(1)


def make_optimizers(model, sparse, fused):
    kw = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    if not sparse:
        return [torch.optim.Adam(model.parameters(), fused=fused, **kw)]
    rest = [p for n, p in model.named_parameters() if not n.startswith("embedding.")]
    return [torch.optim.SparseAdam([model.embedding.weight], **kw), torch.optim.Adam(rest, fused=fused, **kw)]


# ---------------------------------------------------------------- benchmark
def run_variant(variant, args, cfg, batches, device):
    torch.manual_seed(0)
    bf16, compiled, whole = "bf16" in variant, "compile" in variant, variant.endswith("step")
    if device.type == "cuda":  # legacy TF32 API on purpose: mixing it with the new one breaks inductor
        torch.set_float32_matmul_precision("high" if variant == "tf32" else "highest")
        gc.collect()
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    model = DCN(sum(cfg["slotSizes"]), len(cfg["slotSizes"]), cfg["denseDim"], args.vec, args.sparse,
                cross_layers=args.cross_layers, projection=args.projection if args.cross == "v2" else 0).to(device).train()
    if whole and args.sparse:
        raise ValueError("compile-step needs dense embedding gradients (inductor has no sparse gradients); drop --sparse")
    # A compiled optimizer step is a foreach Adam that inductor fuses; the eager variants use the fused kernel.
    opts = make_optimizers(model, args.sparse, fused=device.type == "cuda" and not whole)

    def loss_fn(emb, dense, label):  # the compiled part: the lookup stays eager (no sparse grads in inductor)
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=bf16):
            logits = model.top(emb, dense)
        return F.binary_cross_entropy_with_logits(logits.float(), label)

    def whole_loss(keys, dense, label):  # lookup included: dense embedding gradients compile
        return loss_fn(model.embedding(keys), dense, label)

    def update():
        for o in opts:
            o.step()

    if whole:
        forward, update_fn = torch.compile(whole_loss, dynamic=False), torch.compile(update)
    else:
        compiled_top = torch.compile(loss_fn, dynamic=False) if compiled else loss_fn
        forward, update_fn = (lambda k, d, l: compiled_top(model.embedding(k), d, l)), update

    def step(keys, dense, label):
        for o in opts:
            o.zero_grad(set_to_none=True)
        loss = forward(keys, dense, label)
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
    peak = torch.cuda.max_memory_allocated() if device.type == "cuda" else None
    return dict(samples_per_sec=args.steps * args.batch / seconds, ms_per_step=1000.0 * seconds / args.steps,
                peak_mem_bytes=peak, loss=loss if math.isfinite(loss) else None)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data", help="dataset folder written by `swiftctr generate --out DIR`")
    p.add_argument("--vec", type=int, default=16, help="embedding vector size (16: DCN-16, 128: DCN-128)")
    p.add_argument("--cross", default="v1", choices=["v1", "v2"], help="cross network: DCN v1, or DCN v2 (low rank)")
    p.add_argument("--cross-layers", type=int, default=6, help="number of cross layers")
    p.add_argument("--projection", type=int, default=128, help="rank of DCN v2's U and V (with --cross v2)")
    p.add_argument("--batch", type=int, help="batch size (default 65536 on CUDA, 4096 on CPU)")
    p.add_argument("--samples", type=int, default=1 << 20, help="samples to load into memory")
    p.add_argument("--variants", help="comma list of " + ", ".join(ALL_VARIANTS) + ", tf32 (default: all but tf32)")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", choices=["cuda", "cpu"])
    p.add_argument("--sparse", action="store_true", help="sparse embedding gradients + SparseAdam for the table")
    p.add_argument("--warmup", type=int, default=20, help="untimed steps (x3 for compile variants)")
    p.add_argument("--windows", type=int, default=5)
    p.add_argument("--steps", type=int, default=20, help="steps per timed window")
    p.add_argument("--json", help="write the results as a JSON list to this file")
    args = p.parse_args()
    if args.cross_layers < 1 or (args.cross == "v2" and args.projection < 1):
        p.error("--cross-layers and --projection must be >= 1")
    device = torch.device(args.device)
    args.batch = args.batch or (65536 if device.type == "cuda" else 4096)
    variants = [v.strip() for v in (args.variants or ",".join(ALL_VARIANTS)).split(",") if v.strip()]
    unknown = [v for v in variants if v not in ALL_VARIANTS + ["tf32"]]
    if unknown:
        p.error(f"unknown variants {unknown}")
    if device.type == "cpu" and variants != ["fp32"]:
        if args.variants:
            print(f"note: on the CPU only fp32 runs (asked for {variants})")
        variants = ["fp32"]

    t0 = time.perf_counter()
    cfg, labels, dense, keys = load_dataset(args.data, args.samples)
    if keys.shape[1] != len(cfg["slotSizes"]):
        raise SystemExit(f"{args.data}: several keys per slot; the DCN reference reads one-hot data")
    nb = len(labels) // args.batch
    if nb == 0:
        raise SystemExit(f"loaded {len(labels)} samples, fewer than one batch of {args.batch}")
    print(f"data: {args.data}: {len(labels)} samples ({labels.mean():.3f} positive), {sum(cfg['slotSizes'])} rows "
          f"in {len(cfg['slotSizes'])} slots, {nb} batches of {args.batch} ({time.perf_counter() - t0:.1f} s)")
    lab, den, key = (torch.from_numpy(a[:nb * args.batch]).to(device) for a in (labels, dense, keys))
    batches = [(key[j:j + args.batch], den[j:j + args.batch], lab[j:j + args.batch]) for j in range(0, nb * args.batch, args.batch)]
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else None
    cross = f"DCN v2 x{args.cross_layers}, projection {args.projection}" if args.cross == "v2" else f"DCN v1 x{args.cross_layers}"
    print(f"torch {torch.__version__} on {gpu or 'CPU'}; DCN vec {args.vec}, {cross}, batch {args.batch}, "
          f"{'sparse' if args.sparse else 'dense'} embedding gradients")

    base_note = ("all batches preloaded on the device, host->device copy not timed; "
                 f"{'SparseAdam' if args.sparse else 'dense Adam'} on the embedding table; "
                 + ("peak_mem = torch.cuda.max_memory_allocated, preloaded batches included" if gpu else "CPU run"))
    results = []
    for v in variants:
        row = dict(variant=v, samples_per_sec=None, ms_per_step=None, peak_mem_bytes=None, loss=None,
                   batch=args.batch, vec=args.vec, cross=args.cross, cross_layers=args.cross_layers,
                   projection=args.projection if args.cross == "v2" else 0, device=device.type, torch_version=torch.__version__,
                   gpu_name=gpu, note=base_note)
        try:
            row.update(run_variant(v, args, cfg, batches, device))
        except Exception as e:  # e.g. a torch.compile failure: report it, go on with the next variant
            traceback.print_exc()
            row["note"] = f"FAILED: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"[:300]
        finally:
            if "compile" in v:
                torch._dynamo.reset()
        results.append(row)

    print(f"\n{'variant':<14}{'samples/s':>14}{'ms/step':>10}{'peak MiB':>10}{'loss':>9}")
    for r in results:
        if r["samples_per_sec"] is None:
            print(f"{r['variant']:<14}{r['note']}")
            continue
        mem = f"{r['peak_mem_bytes'] / 2**20:.0f}" if r["peak_mem_bytes"] else "-"
        loss = f"{r['loss']:.4f}" if r["loss"] is not None else "nan"
        print(f"{r['variant']:<14}{r['samples_per_sec']:>14,.0f}{r['ms_per_step']:>10.2f}{mem:>10}{loss:>9}")
    print(f"({base_note}; median of {args.windows} windows x {args.steps} steps)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
