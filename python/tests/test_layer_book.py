"""Every ```python block of HugeCTR's layer book (shared/seed/hugectr_layer_book.md) runs here:
each inside the smallest model that makes it valid (an Input and an embedding providing the
tensors it reads, layers turning what it writes into a loss), which then compiles and trains two
steps on generated data. The book's typos are repaired through REPAIRS, each checked to still
occur in the book."""

import re
import unittest

import hugectr
from support import REPO, dataset, reader, small_solver

BOOK = REPO.parent / "shared" / "seed" / "hugectr_layer_book.md"
BLOCKS = re.findall(r"```python\n(.*?)```", BOOK.read_text(), re.S) if BOOK.is_file() else []

# (block index, text in the book, replacement, why)
REPAIRS = [
    (6, "slot_size_array = [1221, 754, 8, 4, 12, 49, 2]\n", "slot_size_array = [1221, 754, 8, 4, 12, 49, 2],\n",
     "a comma is missing after the slot_size_array list (SyntaxError)"),
    (12, "weight_dims = [13, 10]),", "weight_dims = [13, 10],",
     "the DenseLayer call is closed before weight_init_type, which then lands in model.add"),
    (12, "weight_init_type = hugectr.Initializer_t.XavierUniform)", "weight_init_type = hugectr.Initializer_t.XavierUniform))",
     "(same repair: the closing parenthesis moves to the end)"),
    (13, 'top_names = ["eltmultiply1"])', 'top_names = ["eltmultiply1"]))', "model.add( is never closed (SyntaxError)"),
    (14, "beta_init_type = hugectr.Initializer_t.XavierUniform)", "beta_init_type = hugectr.Initializer_t.XavierUniform))",
     "model.add( is never closed (SyntaxError)"),
    (35, "hugectr.Layer_t.MatrixMutiply,", "hugectr.Layer_t.MatrixMultiply,",
     "Layer_t has no member MatrixMutiply; the layer is MatrixMultiply"),
    (35, 'top_names = ["MatrixMutiply1"])', 'top_names = ["MatrixMutiply1"]))', "model.add( is never closed (SyntaxError)"),
    (38, "lambda = 0.1", '**{"lambda": 0.1}', "lambda is a Python keyword, so lambda = 0.1 is a SyntaxError"),
    (39, "lambda = 0.1", '**{"lambda": 0.1}', "lambda is a Python keyword, so lambda = 0.1 is a SyntaxError"),
]

# Bare signatures (`hugectr.Input()`): the class exists, and calling it without its required
# keywords is SwiftCTR's ArgumentError.
SIGNATURES = {0: "Input", 3: "SparseEmbedding", 7: "DenseLayer"}

DEFAULT = dict(slots=26, nnz=2, dense=13, label=1, sparse=[("data1", 2, False, 26)],
               embeddings=[("sparse_embedding1", "data1", 16)], flat=("sparse_embedding1", 416), before="", after="")

# What each block needs around it: the data and Input (`sparse`; None when the block adds the
# Input), the embeddings, and Python run before and after the block with `layer(type, bottoms,
# tops, **kw)` (one DenseLayer), `head(*tensors)` (one FC(1) per tensor and one for the embedding
# `flat` (name, slots × vector size) flattened, added up, BinaryCrossEntropyLoss against the
# label) and `logits(*tensors, out=...)` (the same without the loss) in scope.
CASES = {
    1: dict(slots=26, nnz=1, sparse=None, embeddings=[], after='add_embedding("sparse_embedding1", "data1", 16); head()'),
    2: dict(slots=28, nnz=2, sparse=None, embeddings=[],
            after='add_embedding("wide", "wide_data", 1); add_embedding("deep", "deep_data", 8); head()',
            flat=("deep", 208)),
    4: dict(sparse=[("input_data", 2, False, 26)], embeddings=[], after="head()", flat=("sparse_embedding1", 26)),
    5: dict(sparse=[("input_data", 2, False, 26)], embeddings=[], after="head()", flat=("sparse_embedding1", 26)),
    6: dict(slot_sizes=[1221, 754, 8, 4, 12, 49, 2], nnz=1, sparse=[("input_data", 1, True, 7)], embeddings=[],
            after="head()", flat=("sparse_embedding1", 896)),
    8: dict(before='layer("ReLU", ["dense"], ["relu1"])', after='head("relu2")'),
    9: dict(before='layer("InnerProduct", ["dense"], ["fc1"], num_output=32)', after='head("fc2")'),
    10: dict(before='layer("Reshape", ["sparse_embedding1"], ["slice11"], leading_dim=416)', after='head("multicross1")'),
    11: dict(before='layer("InnerProduct", ["dense"], ["slice32"], num_output=130)', after='head("fmorder2")'),
    12: dict(before='layer("ReLU", ["dense"], ["slice32"])', after='head("fmorder2")'),
    13: dict(before='layer("Slice", ["dense"], ["slice1", "slice2"], ranges=[(0, 6), (6, 12)])',
             after='head("eltmultiply1")'),
    14: dict(before='layer("InnerProduct", ["dense"], ["slice32"], num_output=16)', after='head("fmorder2")'),
    15: dict(before='layer("Reshape", ["sparse_embedding1"], ["reshape3"], leading_dim=416)\n'
                    'layer("WeightMultiply", ["dense"], ["weight_multiply2"], weight_dims=[13, 1])',
             after='head("concat2")'),
    16: dict(after='head("reshape1")'),
    17: dict(after='head("weight_multiply1", "weight_multiply2")'),
    18: dict(after='head("weight_multiply1", "weight_multiply2")'),
    19: dict(after='head("weight_multiply1", "weight_multiply2")'),
    20: dict(before='layer("ReLU", ["dense"], ["relu1"])', after='head("dropout1")'),
    21: dict(before='layer("InnerProduct", ["dense"], ["fc1"], num_output=16)', after='head("elu1")'),
    22: dict(before='layer("InnerProduct", ["dense"], ["fc1"], num_output=16)', after='head("relu1")'),
    23: dict(before='layer("InnerProduct", ["dense"], ["fc1"], num_output=16)', after='head("sigmoid1")'),
    24: dict(embeddings=[("layer3", "data1", 16)], before='layer("InnerProduct", ["dense"], ["layer1"], num_output=16)',
             after='head("interaction1")', flat=("layer3", 416)),
    25: dict(before='layer("InnerProduct", ["dense"], ["fc4"], num_output=1)\n'
                    'layer("InnerProduct", ["dense"], ["reducesum1"], num_output=1)\n'
                    'layer("InnerProduct", ["dense"], ["reducesum2"], num_output=1)', after='head("add")'),
    26: dict(before='layer("InnerProduct", ["dense"], ["fmorder2"], num_output=10)', after='head("reducesum1")'),
    # GRU over 20 steps of 20: one 20-wide embedding vector per slot, 20 slots.
    27: dict(slots=20, nnz=1, sparse=[("data1", 1, True, 20)], embeddings=[("sparse_embedding1", "data1", 20)],
             before='layer("Reshape", ["sparse_embedding1"], ["GRU1"], leading_dim=400)', after='head("conncat1")',
             flat=("sparse_embedding1", 400)),
    28: dict(before='layer("InnerProduct", ["dense"], ["fc_din_i1"], num_output=16)', after='head("dice_1")'),
    29: dict(before='layer("InnerProduct", ["dense"], ["item1"], num_output=8)',
             after='layer("Reshape", ["Scale_item"], ["scaled"], leading_dim=80); head("scaled")'),
    # DIN's history and target item: 10 history slots and 1 target slot per embedding.
    30: dict(slots=22, nnz=1, sparse=[("good", 1, True, 11), ("cate", 1, True, 11)],
             embeddings=[("sparse_embedding_good", "good", 8), ("sparse_embedding_cate", "cate", 8)],
             after='layer("Reshape", ["FusedReshapeConcat_item_his_em"], ["his"], leading_dim=160)\n'
                   'head("his", "FusedReshapeConcat_item")', flat=("sparse_embedding_good", 88)),
    31: dict(slots=22, nnz=1, sparse=[("good", 1, True, 11), ("cate", 1, True, 11)],
             embeddings=[("sparse_embedding_good", "good", 8), ("sparse_embedding_cate", "cate", 8)],
             after='layer("Reshape", ["FusedReshapeConcat_item_his_em"], ["his"], leading_dim=176)\n'
                   'head("his")', flat=("sparse_embedding_good", 88)),
    32: dict(before='layer("InnerProduct", ["dense"], ["reshape1"], num_output=10)', after='head("softmax_i")'),
    33: dict(before='layer("InnerProduct", ["dense"], ["Scale_item1"], num_output=8)\n'
                    'layer("InnerProduct", ["dense"], ["item_his1"], num_output=8)', after='head("sub_ih")'),
    34: dict(before='layer("InnerProduct", ["dense"], ["fmorder2"], num_output=10)', after='head("reducemean1")'),
    # (B, 3, 4) × (B, 4, 2)
    35: dict(before='layer("InnerProduct", ["dense"], ["a"], num_output=12)\n'
                    'layer("Reshape", ["a"], ["slice1"], leading_dim=4, time_step=3)\n'
                    'layer("InnerProduct", ["dense"], ["b"], num_output=8)\n'
                    'layer("Reshape", ["b"], ["slice2"], leading_dim=2, time_step=4)',
             after='layer("Reshape", ["MatrixMutiply1"], ["product"], leading_dim=6); head("product")'),
    36: dict(before='layer("InnerProduct", ["dense"], ["reshape1"], num_output=8)', after='head("gather1")'),
    37: dict(before='logits("dense", out="add")'),
    38: dict(label=2, before='logits("dense", out="add", width=2)'),
    39: dict(label=2, before='logits("dense", out="add", width=2)'),
}


def repaired(index):
    code = BLOCKS[index]
    for i, original, fixed, _ in REPAIRS:
        if i == index:
            code = code.replace(original, fixed)
    return code


class Harness:
    """The model around one block, and the helpers its `before` and `after` code calls."""

    def __init__(self, case):
        self.case = case
        slot_sizes = case.get("slot_sizes") or [20] * case["slots"]
        self.data = dataset(slot_sizes, nnz=case["nnz"], dense_dim=case["dense"], label_dim=case["label"])
        self.optimizer = hugectr.CreateOptimizer(optimizer_type=hugectr.Optimizer_t.Adam)
        self.model = hugectr.Model(small_solver(), reader(self.data), self.optimizer)
        self.count = 0
        if case["sparse"] is not None:
            params = [hugectr.DataReaderSparseParam(*p) for p in case["sparse"]]
            self.model.add(hugectr.Input(label_dim=case["label"], label_name="label", dense_dim=case["dense"],
                                         dense_name="dense", data_reader_sparse_param_array=params))
        for name, bottom, vec in case["embeddings"]:
            self.add_embedding(name, bottom, vec)

    def namespace(self):
        return dict(hugectr=hugectr, model=self.model, optimizer=self.optimizer, layer=self.layer,
                    head=self.head, logits=self.logits, add_embedding=self.add_embedding)

    def add_embedding(self, name, bottom, vec):
        self.model.add(hugectr.SparseEmbedding(
            embedding_type=hugectr.Embedding_t.DistributedSlotSparseEmbeddingHash, workspace_size_per_gpu_in_mb=1,
            embedding_vec_size=vec, combiner="sum", sparse_embedding_name=name, bottom_name=bottom))

    def layer(self, layer_type, bottoms, tops, **kwargs):
        self.model.add(hugectr.DenseLayer(layer_type=hugectr.Layer_t[layer_type], bottom_names=bottoms,
                                          top_names=tops, **kwargs))

    def logits(self, *tensors, out, width=1):
        """`out` = Σ FC(width) of each tensor and of the case's embedding (flattened)."""
        self.count += 1
        emb, emb_width = self.case["flat"]
        flat = f"h{self.count}_emb"
        self.layer("Reshape", [emb], [flat], leading_dim=emb_width)
        inputs = (flat,) + tensors
        parts = [f"h{self.count}_{t}_logit" for t in inputs] if tensors else [out]
        for t, part in zip(inputs, parts):
            self.layer("InnerProduct", [t], [part], num_output=width)
        if tensors:
            self.layer("Add", parts, [out])

    def head(self, *tensors):
        self.logits(*tensors, out="head_logit")
        self.layer("BinaryCrossEntropyLoss", ["head_logit", "label"], ["head_loss"])


@unittest.skipUnless(BOOK.is_file(), f"the layer book is not at {BOOK}")
class TestLayerBook(unittest.TestCase):
    def test_every_block_is_covered(self):
        self.assertEqual(len(BLOCKS), 40, "the layer book changed: update CASES")
        covered = set(CASES) | set(SIGNATURES)
        self.assertEqual(covered, set(range(len(BLOCKS))), "blocks without a case or signature entry")
        self.assertFalse(set(CASES) & set(SIGNATURES))

    def test_repairs_are_needed_and_current(self):
        for index, original, fixed, why in REPAIRS:
            with self.subTest(block=index, repair=why):
                self.assertIn(original, BLOCKS[index], "the book no longer has this typo: drop the repair")
        self.assertFalse(hasattr(hugectr.Layer_t, "MatrixMutiply"))
        for index in sorted({r[0] for r in REPAIRS} - {12}):
            with self.subTest(block=index), self.assertRaises(SyntaxError, msg=f"block {index} compiles unrepaired"):
                compile(BLOCKS[index], f"block {index}", "exec")
        # Block 12 parses, but hands weight_init_type to model.add.
        harness = Harness({**DEFAULT, **CASES[12]})
        namespace = harness.namespace()
        exec(CASES[12]["before"], namespace)
        with self.assertRaises(TypeError) as raised:
            exec(compile(BLOCKS[12], "block 12", "exec"), namespace)
        self.assertIn("weight_init_type", str(raised.exception))


def _signature_test(index, name):
    def test(self):
        self.assertEqual(BLOCKS[index].strip(), f"hugectr.{name}()")
        cls = getattr(hugectr, name)
        with self.assertRaises(hugectr.ArgumentError) as raised:
            cls()
        self.assertIn("missing required keyword argument", str(raised.exception))
    return test


def _block_test(index):
    def test(self):
        case = {**DEFAULT, **CASES[index]}
        harness = Harness(case)
        namespace = harness.namespace()
        for part in (case["before"], repaired(index), case["after"]):
            exec(compile(part, f"block {index}", "exec"), namespace)
        model = harness.model
        model.compile()
        model.start_data_reading()
        for _ in range(2):
            self.assertTrue(model.train())
        loss = model.get_current_loss()
        self.assertTrue(loss == loss and loss >= 0, f"loss {loss}")
        self.assertTrue(model.eval())
        names = [name for name, _ in model.get_eval_metrics()]
        self.assertIn("AUC", names)
    return test


for _i, _name in SIGNATURES.items():
    setattr(TestLayerBook, f"test_block_{_i:02d}_signature_{_name}", _signature_test(_i, _name))
for _i in CASES:
    setattr(TestLayerBook, f"test_block_{_i:02d}", _block_test(_i))

if __name__ == "__main__":
    unittest.main()
