"""Mistakes in a HugeCTR script are exceptions with SwiftCTR's message (ArgumentError, a
TypeError, for keywords and types; HugeCTRError for the rest), never a crash: the interpreter
goes on to train a model afterwards."""

import ctypes
import os
import subprocess
import sys
import unittest

import hugectr
from support import dataset, reader, small_solver


def layer(layer_type, bottoms, tops, **kwargs):
    return hugectr.DenseLayer(layer_type=hugectr.Layer_t[layer_type], bottom_names=bottoms, top_names=tops, **kwargs)


class TestErrors(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data = dataset([20] * 4, nnz=2, dense_dim=3)

    def model(self, data_reader=None, with_input=True):
        model = hugectr.Model(small_solver(), data_reader or reader(self.data), hugectr.CreateOptimizer())
        if with_input:
            model.add(hugectr.Input(label_dim=1, label_name="label", dense_dim=3, dense_name="dense",
                                    data_reader_sparse_param_array=[hugectr.DataReaderSparseParam("data1", 2, False, 4)]))
            model.add(hugectr.SparseEmbedding(embedding_type=hugectr.Embedding_t.DistributedSlotSparseEmbeddingHash,
                                              workspace_size_per_gpu_in_mb=1, embedding_vec_size=4, combiner="sum",
                                              sparse_embedding_name="emb", bottom_name="data1"))
        return model

    def complete(self, model, bottom="r"):
        model.add(layer("Reshape", ["emb"], ["r"], leading_dim=16))
        model.add(layer("InnerProduct", [bottom], ["fc"], num_output=1))
        model.add(layer("BinaryCrossEntropyLoss", ["fc", "label"], ["loss"]))
        return model

    def assertMessage(self, exception_type, fragments, call):
        with self.assertRaises(exception_type) as raised:
            call()
        message = str(raised.exception)
        for fragment in fragments:
            self.assertIn(fragment, message)
        return raised.exception

    def test_unknown_keyword(self):
        error = self.assertMessage(hugectr.ArgumentError, ["num_outputt", "Did you mean 'num_output'"],
                                   lambda: layer("InnerProduct", ["a"], ["b"], num_outputt=3))
        self.assertIsInstance(error, TypeError)
        self.assertEqual(error.kind, "argument")

    def test_wrong_type(self):
        self.assertMessage(hugectr.ArgumentError, ["batchsize", "an int", "'64'"],
                           lambda: hugectr.CreateSolver(batchsize="64"))

    def test_string_where_an_enum_is_expected(self):
        self.assertMessage(hugectr.ArgumentError, ["layer_type", "Layer_t", "'InnerProduct'"],
                           lambda: hugectr.DenseLayer(layer_type="InnerProduct", bottom_names=["a"], top_names=["b"]))

    def test_member_of_the_wrong_enum(self):
        self.assertMessage(hugectr.ArgumentError, ["check_type", "Check_t", "Layer_t.ReLU"],
                           lambda: hugectr.DataReaderParams(data_reader_type=hugectr.DataReaderType_t.Norm,
                                                            source=["x"], eval_source="y",
                                                            check_type=hugectr.Layer_t.ReLU))

    def test_unknown_enum_member(self):
        with self.assertRaises(AttributeError):
            hugectr.Layer_t.MatrixMutiply  # noqa: B018
        with self.assertRaises(KeyError):
            hugectr.Check_t["None"]  # Python's spelling is Non
        # A member name SwiftCTR does not know, sent as the bridge sends members.
        bogus = {"layer_type": {"enum": "Layer_t", "name": "MatrixMutiply"}, "bottom_names": ["a"], "top_names": ["b"]}
        self.assertMessage(hugectr.ArgumentError, ["Layer_t has no member 'MatrixMutiply'"],
                           lambda: hugectr._bridge.call("make", {"class": "DenseLayer", "kwargs": bogus}))

    def test_missing_required_keyword(self):
        self.assertMessage(hugectr.ArgumentError, ["missing required keyword argument 'embedding_vec_size'"],
                           lambda: hugectr.SparseEmbedding(
                               embedding_type=hugectr.Embedding_t.DistributedSlotSparseEmbeddingHash))

    def test_too_many_positional_arguments(self):
        self.assertMessage(hugectr.ArgumentError, ["DataReaderSparseParam()", "4 positional", "5 were given"],
                           lambda: hugectr.DataReaderSparseParam("d", 1, False, 3, 4))
        self.assertMessage(TypeError, ["multiple values for argument 'top_name'"],
                           lambda: hugectr.DataReaderSparseParam("d", 1, False, 3, top_name="e"))

    def test_value_python_cannot_send(self):
        self.assertMessage(hugectr.ArgumentError, ["num_output", "object"],
                           lambda: layer("InnerProduct", ["a"], ["b"], num_output=object()))

    def test_wrong_object(self):
        self.assertMessage(hugectr.ArgumentError, ["Model(solver)", "CreateSolver", "'solver'"],
                           lambda: hugectr.Model("solver", reader(self.data), hugectr.CreateOptimizer()))

    def test_wrong_nnz_list_length(self):
        error = self.assertMessage(hugectr.HugeCTRError, ["nnz_per_slot", "2 values", "slot_num is 3"],
                                   lambda: hugectr.DataReaderSparseParam("d", [1, 2], False, 3))
        self.assertNotIsInstance(error, hugectr.ArgumentError)

    def test_bottom_that_does_not_exist(self):
        model = self.complete(self.model(), bottom="nope")
        self.assertMessage(hugectr.HugeCTRError, ["'nope'", "not defined"], model.compile)

    def test_duplicate_top(self):
        model = self.model()
        model.add(layer("Reshape", ["emb"], ["r"], leading_dim=16))
        model.add(layer("InnerProduct", ["r"], ["r"], num_output=1))
        self.assertMessage(hugectr.HugeCTRError, ["'r'", "already exists"], model.compile)

    def test_compile_without_input(self):
        model = self.model(with_input=False)
        model.add(layer("InnerProduct", ["dense"], ["fc"], num_output=1))
        self.assertMessage(hugectr.HugeCTRError, ["no Input"], model.compile)

    def test_input_added_twice(self):
        model = self.model()
        model.add(hugectr.Input(label_dim=1, label_name="label", dense_dim=3, dense_name="dense",
                                data_reader_sparse_param_array=[hugectr.DataReaderSparseParam("data1", 2, False, 4)]))
        self.assertMessage(hugectr.HugeCTRError, ["Input", "twice"], self.complete(model).compile)

    def test_load_dense_weights_before_compile(self):
        model = self.complete(self.model())
        self.assertMessage(hugectr.HugeCTRError, ["not compiled"], lambda: model.load_dense_weights("x_dense_0.model"))

    def test_missing_data_file(self):
        missing = hugectr.DataReaderParams(data_reader_type=hugectr.DataReaderType_t.Norm,
                                           source=["no_such_folder/file_list.txt"],
                                           eval_source="no_such_folder/file_list_test.txt",
                                           check_type=hugectr.Check_t.Sum)
        model = self.complete(self.model(missing))
        model.compile()

        def read():
            model.start_data_reading()
            model.train()
        error = self.assertMessage(hugectr.HugeCTRError, ["no_such_folder/file_list.txt"], read)
        self.assertIn(error.kind, ("data", "io"))

    def test_fit_without_iterations(self):
        model = self.complete(self.model())
        model.compile()
        self.assertMessage(hugectr.HugeCTRError, ["max_iter", "0"], lambda: model.fit(max_iter=0))

    def test_check_out_unknown_tensor(self):
        model = self.complete(self.model())
        model.compile()
        model.start_data_reading()
        model.train()
        self.assertMessage(hugectr.HugeCTRError, ["nope"], lambda: model.check_out_tensor("nope", hugectr.Tensor_t.Train))

    def test_bridge_refuses_bad_requests(self):
        self.assertMessage(hugectr.ArgumentError, ["unknown method 'Nothing.here'"],
                           lambda: hugectr._bridge.call("Nothing.here"))
        self.assertMessage(hugectr.ArgumentError, ["handle 987654", "not a live Model"],
                           lambda: hugectr._bridge.call("Model.train", {"handle": 987654}))
        lib = hugectr._bridge._lib
        reply = lib.hctr_call(b"{not json", hugectr._bridge.EVENT())
        self.assertIn(b'"error"', ctypes.string_at(reply))
        lib.hctr_free(reply)
        self.assertEqual(lib.hctr_take_floats(987654, None, 3), -1)

    def test_import_without_the_library_says_how_to_build_it(self):
        env = dict(os.environ, SWIFTCTR_PY_LIBRARY="no_such_dir/libSwiftCTRPy.so")
        done = subprocess.run([sys.executable, "-c", "import hugectr"], env=env, capture_output=True, text=True)
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("ImportError", done.stderr)
        self.assertIn("swift build -c release --product SwiftCTRPy", done.stderr)

    def test_interpreter_survives(self):
        """After every mistake above (in whatever order they ran), a model still trains."""
        model = self.complete(self.model())
        model.compile()
        model.start_data_reading()
        self.assertTrue(model.train())
        self.assertTrue(model.eval())
        self.assertEqual(model.get_eval_metrics()[0][0], "AUC")


if __name__ == "__main__":
    unittest.main()
