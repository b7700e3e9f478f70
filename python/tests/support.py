"""What the tests share: the checkout, the swiftctr CLI, generated datasets (cached per shape
for the whole run) and a temporary folder that lives as long as the test process."""

import atexit
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

os.environ.setdefault("SWIFTCTR_DEVICE", "cpu")

import hugectr  # noqa: E402  (after SWIFTCTR_DEVICE)

REPO = Path(__file__).resolve().parents[2]
SCRATCH = Path(tempfile.mkdtemp(prefix="hugectr-tests-"))
atexit.register(shutil.rmtree, SCRATCH, ignore_errors=True)


def swiftctr():
    """The swiftctr CLI: $SWIFTCTR_BIN, else the newer of the release and debug builds."""
    override = os.environ.get("SWIFTCTR_BIN")
    if override:
        return override
    built = [p for p in (REPO / ".build" / c / "swiftctr" for c in ("release", "debug")) if p.is_file()]
    if built:
        return str(max(built, key=lambda p: p.stat().st_mtime))  # the newer build
    raise RuntimeError("swiftctr is not built: run `swift build -c release --product swiftctr`.")


def run(args, cwd=None, timeout=600):
    """Runs a command; returns its stdout and stderr together, raising with them on failure."""
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} exited with {done.returncode}:\n{output[-4000:]}")
    return output


_datasets = {}


def dataset(slot_sizes, nnz=1, dense_dim=13, label_dim=1, train=256, eval=64, seed=2026, key_type="I32",
            min_expected_count=None, name=None):
    """A folder written by `swiftctr generate` (Norm files, one training file, train_list.txt and
    eval_list.txt), generated once per set of arguments."""
    key = (tuple(slot_sizes), str(nnz), dense_dim, label_dim, train, eval, seed, key_type, min_expected_count)
    if key not in _datasets:
        out = SCRATCH / (name or f"data{len(_datasets)}")
        args = [swiftctr(), "generate", "--out", str(out), "--train", str(train), "--eval", str(eval),
                "--files", "1", "--seed", str(seed), "--slot-sizes", ",".join(map(str, slot_sizes)),
                "--nnz", str(nnz), "--dense-dim", str(dense_dim), "--key-type", key_type]
        if label_dim != 1:
            args += ["--label-dim", str(label_dim)]
        if min_expected_count is not None:
            args += ["--min-expected-count", str(min_expected_count)]
        run(args)
        _datasets[key] = out
    return _datasets[key]


def reader(folder, **kwargs):
    """DataReaderParams for a generated folder."""
    return hugectr.DataReaderParams(data_reader_type=hugectr.DataReaderType_t.Norm,
                                    source=[str(folder / "train_list.txt")], eval_source=str(folder / "eval_list.txt"),
                                    check_type=hugectr.Check_t.Sum, num_workers=1, **kwargs)


def small_solver(batchsize=16, **kwargs):
    kwargs = dict(dict(seed=7, batchsize_eval=batchsize, max_eval_batches=1, lr=0.001, vvgpu=[[0]],
                       repeat_dataset=True), **kwargs)
    return hugectr.CreateSolver(batchsize=batchsize, **kwargs)
