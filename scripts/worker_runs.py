#!/usr/bin/env python3
"""What the scale-out checks (scripts/mpi-tests.sh, scripts/gpu-workers.sh) share:

    scripts/worker_runs.py graph OUT ROWS        # Examples/json/dcn.json, dropout off, ROWS vocabulary
    scripts/worker_runs.py compare BASE LOG...   # worst loss/AUC difference of each LOG to BASE

Dropout is off because its masks are per worker, so only without it do N workers train what
one worker trains. `compare` reads the progress and evaluation lines of `swiftctr train`, prints
one line per LOG and exits 1 when a LOG has other values than BASE or differs by more than
--tolerance (default: report only).
"""
import json
import re
import sys


def graph(out, rows):
    model = json.load(open("Examples/json/dcn.json"))
    for layer in model["layers"]:
        if layer.get("type") == "Dropout":
            layer["rate"] = 0.0
        if "sparse_embedding_hparam" in layer:
            layer["sparse_embedding_hparam"]["max_vocabulary_size_global"] = rows
    json.dump(model, open(out, "w"))


def values(path):
    return [float(v) for line in open(path) if re.match(r"^(iter |eval at iter)", line)
            for v in re.findall(r"(?:loss|AUC) ([0-9.]+)", line)]


def compare(base, logs, tolerance):
    reference, ok = values(base), True
    for log in logs:
        other = values(log)
        worst = max((abs(a - b) for a, b in zip(reference, other)), default=float("inf"))
        print(f"      {log.split('/')[-1]} against {base.split('/')[-1]}: worst difference {worst:.2e} over {len(other)} values")
        ok = ok and len(other) == len(reference) > 0 and (tolerance is None or worst <= tolerance)
    return ok


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["graph"] and len(args) == 3:
        graph(args[1], int(args[2]))
    elif args[:1] == ["compare"] and len(args) >= 3:
        tolerance = None
        if "--tolerance" in args:
            i = args.index("--tolerance")
            tolerance = float(args[i + 1])
            del args[i:i + 2]
        sys.exit(0 if compare(args[1], args[2:], tolerance) else 1)
    else:
        sys.exit(__doc__)
