"""graph_to_json of each python/samples/<name>.py model equals Examples/json/<name>.json (as JSON
values): the Python API builds exactly HugeCTR's sample graphs."""

import importlib.util
import json
import unittest

from support import REPO, SCRATCH

EXAMPLES = REPO / "Examples" / "json"
SAMPLES = REPO / "python" / "samples"
GRAPHS = sorted(p.stem for p in EXAMPLES.glob("*.json") if p.stem != "dcn_legacy")


def load_sample(name):
    spec = importlib.util.spec_from_file_location(f"sample_{name}", SAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class TestGraphJSON(unittest.TestCase):
    def test_every_graph_has_a_sample(self):
        self.assertEqual(len(GRAPHS), 18)
        self.assertEqual(sorted(p.stem for p in SAMPLES.glob("*.py")), GRAPHS)


def _graph_test(name):
    def test(self):
        model = load_sample(name).build(batchsize=64, batchsize_eval=64)
        out = SCRATCH / f"graph_{name}.json"
        model.graph_to_json(graph_config_file=str(out))
        written, expected = json.loads(out.read_text()), json.loads((EXAMPLES / f"{name}.json").read_text())
        self.assertEqual(written, expected)
    return test


for _name in GRAPHS:
    setattr(TestGraphJSON, f"test_{_name}", _graph_test(_name))

if __name__ == "__main__":
    unittest.main()
