"""python/examples/*.py (HugeCTR's DCN, Wide&Deep and DeepFM scripts, with model.fit and, with
--loop, the low-level loop) reach the eval AUC of `swiftctr train Examples/json/<model>.json` on
the same data and settings, on the CPU."""

import json
import os
import re
import subprocess
import sys
import unittest

from support import REPO, SCRATCH, dataset, run, swiftctr

EXAMPLES = REPO / "python" / "examples"
# Small runs: 24576 training samples, 48 batches of 512, one evaluation of 2048 samples at the end.
TRAIN, EVAL, BATCH, ITERS, SEED = 24576, 2048, 512, 48, 42
DATA = {
    "dcn": dict(slot_sizes=[50] * 26, nnz=2),
    "deepfm": dict(slot_sizes=[50] * 26, nnz=2),
    "wdl": dict(slot_sizes=[2000] + [50] * 26, nnz=",".join(["30"] + ["2"] * 26)),
}
AUC = re.compile(r"AUC'?,? ([0-9.]+)")


def data(model):
    return dataset(train=TRAIN, eval=EVAL, min_expected_count=20, name=f"{model}_data", **DATA[model])


def reference_auc(model):
    """The last eval AUC of `swiftctr train` on the graph JSON (its --metrics-out records)."""
    metrics = SCRATCH / f"{model}_reference.jsonl"
    run([swiftctr(), "train", str(REPO / "Examples" / "json" / f"{model}.json"), "--data", str(data(model)),
         "--max-iter", str(ITERS), "--batch-size", str(BATCH), "--eval-interval", str(ITERS), "--lr", "0.001",
         "--seed", str(SEED), "--device", "cpu", "--metrics-out", str(metrics),
         "--plot", str(SCRATCH / f"{model}.svg")])
    records = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()]
    return [r["eval_auc"] for r in records if r.get("eval_auc") is not None][-1]


def script_auc(model, variant):
    """The last eval AUC python/examples/<model>.py printed (fit: SwiftCTR's progress line; with
    --loop: get_eval_metrics)."""
    script = f"{model}_{variant}"
    cwd = SCRATCH / f"run_{script}"
    cwd.mkdir(exist_ok=True)
    env = dict(os.environ, SWIFTCTR_DEVICE="cpu")
    loop = ["--loop"] if variant == "loop" else []
    done = subprocess.run([sys.executable, str(EXAMPLES / f"{model}.py")] + loop + ["--data", str(data(model)),
                           "--max-iter", str(ITERS), "--eval-interval", str(ITERS), "--display", "4",
                           "--batchsize", str(BATCH), "--batchsize-eval", str(EVAL), "--max-eval-batches", "1",
                           "--seed", str(SEED)], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise AssertionError(f"{script}.py exited with {done.returncode}:\n{output[-4000:]}")
    found = AUC.findall(output)
    if not found:
        raise AssertionError(f"{script}.py printed no AUC:\n{output[-4000:]}")
    return float(found[-1])


def graph(path):
    value = json.loads(path.read_text())
    value.pop("model_name", None)
    return value


class TestExamples(unittest.TestCase):
    references = {}

    def reference(self, model):
        if model not in self.references:
            self.references[model] = reference_auc(model)
        return self.references[model]


def _example_test(model, variant):
    def test(self):
        expected = self.reference(model)
        got = script_auc(model, variant)
        if variant == "fit":  # the script's graph_to_json: the model swiftctr trained
            self.assertEqual(graph(SCRATCH / f"run_{model}_fit" / f"{model}.json"),
                             graph(REPO / "Examples" / "json" / f"{model}.json"))
        self.assertGreater(expected, 0.6, "the reference run learnt nothing; the comparison would say little")
        self.assertAlmostEqual(got, expected, delta=0.002)
    return test


for _model in DATA:
    for _variant in ("fit", "loop"):
        setattr(TestExamples, f"test_{_model}_{_variant}", _example_test(_model, _variant))

if __name__ == "__main__":
    unittest.main()
