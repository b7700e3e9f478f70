"""The module's surface: enums, objects with SwiftCTR's defaults, tensors as numpy arrays,
training callbacks, the learning-rate scheduler, model files, construct_from_json, the data
generator and offline inference."""

import json
import os
import subprocess
import sys
import unittest

import numpy

import hugectr
import hugectr.data
import hugectr.inference
import hugectr.tools
from support import REPO, SCRATCH, dataset, reader, small_solver

BATCH = 16


def dcn_like(model, vec=4, slots=4):
    """A small model on `dataset([20] * 4, nnz=2, dense_dim=3)`."""
    model.add(hugectr.Input(label_dim=1, label_name="label", dense_dim=3, dense_name="dense",
                            data_reader_sparse_param_array=[hugectr.DataReaderSparseParam("data1", 2, False, slots)]))
    model.add(hugectr.SparseEmbedding(embedding_type=hugectr.Embedding_t.DistributedSlotSparseEmbeddingHash,
                                      workspace_size_per_gpu_in_mb=1, embedding_vec_size=vec, combiner="sum",
                                      sparse_embedding_name="sparse_embedding1", bottom_name="data1"))
    for layer_type, bottoms, tops, kwargs in [
            ("Reshape", ["sparse_embedding1"], ["reshape1"], dict(leading_dim=vec * slots)),
            ("Concat", ["reshape1", "dense"], ["concat1"], {}),
            ("InnerProduct", ["concat1"], ["fc1"], dict(num_output=8)),
            ("ReLU", ["fc1"], ["relu1"], {}),
            ("InnerProduct", ["relu1"], ["fc2"], dict(num_output=1)),
            ("BinaryCrossEntropyLoss", ["fc2", "label"], ["loss"], {})]:
        model.add(hugectr.DenseLayer(layer_type=hugectr.Layer_t[layer_type], bottom_names=bottoms, top_names=tops,
                                     **kwargs))
    return model


class Recorder(hugectr.TrainingCallback):
    def __init__(self, stop=False):
        self.events, self.stop = [], stop

    def on_training_start(self):
        self.events.append(("start",))

    def on_training_end(self, current_iter):
        self.events.append(("end", current_iter))

    def on_eval_start(self, current_iter):
        self.events.append(("eval_start", current_iter))
        return False

    def on_eval_end(self, current_iter, eval_results):
        self.events.append(("eval_end", current_iter, sorted(eval_results)))
        return self.stop


class Boom(hugectr.TrainingCallback):
    def on_eval_end(self, current_iter, eval_results):
        raise ValueError(f"boom at {current_iter}")


class TestEnumsAndObjects(unittest.TestCase):
    def test_version(self):
        self.assertRegex(hugectr.__version__, r"^\d+\.\d+\.\d+$")

    def test_enums_in_declaration_order(self):
        self.assertEqual([m.name for m in hugectr.Check_t], ["Sum", "Non"])
        self.assertEqual([m.name for m in hugectr.FcPosition_t], ["Non", "Head", "Body", "Tail", "Isolated"])
        self.assertEqual([m.name for m in hugectr.Optimizer_t],
                         ["Ftrl", "Adam", "RMSProp", "AdaGrad", "MomentumSGD", "Nesterov", "SGD"])
        self.assertEqual(len(hugectr.Layer_t), 37)
        self.assertEqual(hugectr.Layer_t.InnerProduct.name, "InnerProduct")
        for name in ("Activation_t", "Alignment_t"):
            self.assertIn("Non", getattr(hugectr, name).__members__)
        self.assertEqual({hugectr.MetricsType.AUC: 0.8}[hugectr.MetricsType.AUC], 0.8)
        self.assertNotEqual(hugectr.Check_t.Sum, hugectr.Alignment_t.Auto)

    def test_defaults_come_from_swiftctr(self):
        solver = hugectr.CreateSolver(batchsize=64, metrics_spec={hugectr.MetricsType.AUC: 0.8,
                                                                  hugectr.MetricsType.AverageLoss: 0.0})
        self.assertEqual(solver.batchsize, 64)
        self.assertEqual(solver.batchsize_eval, 2048)
        self.assertEqual(solver.vvgpu, [[0]])
        self.assertEqual(solver.lr_policy, hugectr.LrPolicy_t.fixed)
        self.assertAlmostEqual(solver.metrics_spec[hugectr.MetricsType.AUC], 0.8, places=6)
        optimizer = hugectr.CreateOptimizer(optimizer_type=hugectr.Optimizer_t.SGD)
        self.assertIs(optimizer.update_type, hugectr.Update_t.Global)
        self.assertTrue(optimizer.atomic_update)
        layer = hugectr.DenseLayer(hugectr.Layer_t.Dropout, ["a"], ["b"])
        self.assertAlmostEqual(layer.dropout_rate, 0.5)
        self.assertEqual(layer.bottom_names, ["a"])

    def test_positional_and_keyword_forms_agree(self):
        a = hugectr.DataReaderSparseParam("data1", [1, 2], True, 2)
        b = hugectr.DataReaderSparseParam(top_name="data1", nnz_per_slot=[1, 2], is_fixed_length=True, slot_num=2)
        self.assertEqual(a._hctr_object(), b._hctr_object())
        single = hugectr.Input(1, "label", 3, "dense", [a])
        self.assertEqual(single.label_dim, 1)
        multi = hugectr.Input([1, 1], ["x", "y"], 0, "dense", [a])
        self.assertEqual(multi.label_names, ["x", "y"])
        weighted = hugectr.Input([1, 1], ["x", "y"], [0.3, 0.7], 0, "dense", [a])
        self.assertEqual(len(weighted.label_weights), 2)
        self.assertIsInstance(single.data_reader_sparse_param_array[0], hugectr.DataReaderSparseParam)

    def test_inherit_optimizer_and_attributes(self):
        self.assertEqual(hugectr.OptParamsPy()._hctr_object(), {"class": "OptParamsPy", "kwargs": {}})
        params = hugectr.tools.DataGeneratorParams(format=hugectr.DataReaderType_t.Norm, label_dim=1, dense_dim=2,
                                                   num_slot=2, i64_input_key=False, source="a/file_list.txt",
                                                   eval_source="a/file_list_test.txt", slot_size_array=[5, 5])
        params.num_files = 3
        self.assertEqual(params.num_files, 3)
        with self.assertRaises(hugectr.ArgumentError):
            params.num_files = "three"
        with self.assertRaises(AttributeError):
            params.no_such_field  # noqa: B018
        source = hugectr.data.DataSourceParams(hugectr.FileSystemType_t.Local, "localhost", 9000)
        self.assertEqual(source.port, 9000)

    def test_training_callbacks_must_be_callbacks(self):
        with self.assertRaises(hugectr.ArgumentError):
            hugectr.CreateSolver(training_callbacks=[object()])
        callback = Recorder()
        self.assertEqual(hugectr.CreateSolver(training_callbacks=[callback]).training_callbacks, [callback])


class TestModel(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data = dataset([20] * 4, nnz=2, dense_dim=3)

    def model(self, **solver):
        return dcn_like(hugectr.Model(small_solver(BATCH, **solver), reader(self.data), hugectr.CreateOptimizer()))

    def test_without_a_gpu_vvgpu_names_cpu_workers(self):
        """SWIFTCTR_DEVICE unset: with no usable GPU, vvgpu=[[0, 1]] trains two simulated workers
        on the CPU and says so once (on a GPU machine there is nothing to check here)."""
        script = (f"import sys; sys.path.insert(0, {str(REPO / 'python' / 'tests')!r})\n"
                  "import os, hugectr, test_api, support\n"
                  "os.environ['SWIFTCTR_DEVICE'] = ''  # support forces cpu; empty means choose\n"
                  "data = support.dataset([20] * 4, nnz=2, dense_dim=3)\n"
                  "solver = support.small_solver(16, vvgpu=[[0, 1]])\n"
                  "model = test_api.dcn_like(hugectr.Model(solver, support.reader(data), hugectr.CreateOptimizer()))\n"
                  "model.compile()\n"
                  "model.fit(max_iter=4, display=0, eval_interval=4, snapshot=0)\n"
                  "print('trained')\n")
        env = {k: v for k, v in os.environ.items() if k != "SWIFTCTR_DEVICE"}
        done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
        if "training on CUDA" in done.stderr:
            self.skipTest("this machine has a usable GPU")
        self.assertEqual(done.returncode, 0, done.stderr[-2000:])
        self.assertEqual(done.stderr.count("training on the CPU"), 1, done.stderr[-2000:])
        self.assertIn("trained", done.stdout)

    def test_check_out_tensor(self):
        model = self.model()
        model.compile()
        model.summary()
        model.start_data_reading()
        model.train()
        embedding = model.check_out_tensor("sparse_embedding1", hugectr.Tensor_t.Train)
        self.assertIsInstance(embedding, numpy.ndarray)
        self.assertEqual(embedding.dtype, numpy.float32)
        self.assertEqual(embedding.shape, (BATCH, 4, 4))
        self.assertEqual(model.check_out_tensor("fc1", hugectr.Tensor_t.Train).shape, (BATCH, 8))
        model.eval()
        predictions = model.check_out_tensor("fc2", hugectr.Tensor_t.Evaluate)
        self.assertEqual(predictions.shape, (BATCH, 1))
        self.assertTrue(numpy.isfinite(predictions).all())

    def test_callback_stops_fit(self):
        recorder = Recorder(stop=True)
        model = self.model(training_callbacks=[recorder])
        model.compile()
        model.fit(max_iter=40, display=0, eval_interval=5, snapshot=0)
        self.assertEqual(recorder.events[0], ("start",))
        self.assertEqual(recorder.events[1:], [("eval_start", 4), ("eval_end", 4, ["AUC"]), ("end", 4)])

    def test_callback_runs_to_the_end(self):
        recorder = Recorder(stop=False)
        model = self.model(training_callbacks=[recorder])
        model.compile()
        model.fit(max_iter=10, display=0, eval_interval=5, snapshot=0)
        self.assertEqual([e[:2] for e in recorder.events],
                         [("start",), ("eval_start", 4), ("eval_end", 4), ("eval_start", 9), ("eval_end", 9), ("end", 9)])

    def test_callback_exception_is_reraised(self):
        model = self.model(training_callbacks=[Boom()])
        model.compile()
        with self.assertRaises(ValueError) as raised:
            model.fit(max_iter=20, display=0, eval_interval=5, snapshot=0)
        self.assertEqual(str(raised.exception), "boom at 4")
        # the model is still usable
        model.fit(max_iter=3, display=0, eval_interval=0, snapshot=0)

    def test_learning_rate_scheduler(self):
        model = self.model(lr=0.01, warmup_steps=4)
        model.compile()
        schedule = model.get_learning_rate_scheduler()
        rates = [schedule.get_next() for _ in range(6)]
        self.assertEqual(rates, sorted(rates))
        self.assertLess(rates[0], 0.01)
        self.assertAlmostEqual(rates[-1], 0.01, places=6)
        model.set_learning_rate(rates[0])

    def test_model_files_round_trip(self):
        trained = self.model()
        trained.compile()
        trained.start_data_reading()
        for _ in range(3):
            trained.train()
        prefix = str(SCRATCH / "roundtrip")
        trained.save_params_to_files(prefix)
        trained.eval()
        expected = trained.check_out_tensor("fc2", hugectr.Tensor_t.Evaluate)
        for sparse in ([prefix + "0_sparse_0.model"], {"sparse_embedding1": prefix + "0_sparse_0.model"}):
            fresh = self.model()
            fresh.compile()
            fresh.load_dense_weights(prefix + "_dense_0.model")
            fresh.load_sparse_weights(sparse)
            fresh.load_dense_optimizer_states(prefix + "_opt_dense_0.model")
            fresh.load_sparse_optimizer_states([prefix + "0_opt_sparse_0.model"])
            fresh.start_data_reading()
            fresh.eval()
            numpy.testing.assert_allclose(fresh.check_out_tensor("fc2", hugectr.Tensor_t.Evaluate), expected, rtol=1e-5)

    def test_graph_json_round_trip_and_export(self):
        model = self.model(model_name="small")
        model.compile()
        graph = SCRATCH / "small.json"
        model.graph_to_json(str(graph))
        self.assertEqual(json.loads(graph.read_text())["model_name"], "small")
        rebuilt = hugectr.Model(small_solver(BATCH), reader(self.data), hugectr.CreateOptimizer())
        rebuilt.construct_from_json(graph_config_file=str(graph), include_dense_network=True)
        rebuilt.compile()
        rebuilt.start_data_reading()
        self.assertTrue(rebuilt.train())
        self.assertTrue(rebuilt.eval())
        self.assertGreater(rebuilt.get_current_loss(), 0)
        predictions, labels = SCRATCH / "pred.txt", SCRATCH / "label.txt"
        rebuilt.export_predictions(str(predictions), str(labels))
        self.assertEqual(len(predictions.read_text().split()), BATCH)
        self.assertEqual(len(labels.read_text().split()), BATCH)

    def test_group_dense_layer(self):
        model = hugectr.Model(small_solver(BATCH), reader(self.data), hugectr.CreateOptimizer())
        model.add(hugectr.Input(label_dim=1, label_name="label", dense_dim=3, dense_name="dense",
                                data_reader_sparse_param_array=[hugectr.DataReaderSparseParam("data1", 2, False, 4)]))
        model.add(hugectr.SparseEmbedding(embedding_type=hugectr.Embedding_t.DistributedSlotSparseEmbeddingHash,
                                          workspace_size_per_gpu_in_mb=1, embedding_vec_size=4, combiner="sum",
                                          sparse_embedding_name="emb", bottom_name="data1"))
        model.add(hugectr.DenseLayer(hugectr.Layer_t.Reshape, ["emb"], ["flat"], leading_dim=16))
        model.add(hugectr.DenseLayer(hugectr.Layer_t.Concat, ["flat", "dense"], ["concat1"]))
        model.add(hugectr.GroupDenseLayer(hugectr.GroupLayer_t.GroupFusedInnerProduct, ["concat1"], ["g1", "g2", "g3"],
                                          [16, 8, 1], last_act_type=hugectr.Activation_t.Non))
        model.add(hugectr.DenseLayer(hugectr.Layer_t.BinaryCrossEntropyLoss, ["g3", "label"], ["loss"]))
        model.compile()
        model.start_data_reading()
        self.assertTrue(model.train())
        self.assertEqual(model.check_out_tensor("g2", hugectr.Tensor_t.Train).shape, (BATCH, 8))

    def test_multi_label_compile_with_loss_weights(self):
        data = dataset([20] * 4, nnz=1, dense_dim=2, label_dim=2)
        model = hugectr.Model(small_solver(BATCH), reader(data), hugectr.CreateOptimizer())
        model.add(hugectr.Input(label_dims=[1, 1], label_names=["a_label", "b_label"], dense_dim=2, dense_name="dense",
                                data_reader_sparse_param_array=[hugectr.DataReaderSparseParam("data1", 1, True, 4)]))
        model.add(hugectr.SparseEmbedding(embedding_type=hugectr.Embedding_t.LocalizedSlotSparseEmbeddingHash,
                                          workspace_size_per_gpu_in_mb=1, embedding_vec_size=4, combiner="sum",
                                          sparse_embedding_name="emb", bottom_name="data1"))
        model.add(hugectr.DenseLayer(hugectr.Layer_t.Reshape, ["emb"], ["flat"], leading_dim=16))
        for task in ("a", "b"):
            model.add(hugectr.DenseLayer(hugectr.Layer_t.InnerProduct, ["flat"], [f"{task}_fc"], num_output=1))
            model.add(hugectr.DenseLayer(hugectr.Layer_t.BinaryCrossEntropyLoss, [f"{task}_fc", f"{task}_label"],
                                         [f"{task}_loss"]))
        model.compile(loss_names=["a_label", "b_label"], loss_weights=[0.5, 0.5])
        model.fit(max_iter=4, display=2, eval_interval=4, snapshot=0)


class TestToolsAndInference(unittest.TestCase):
    def test_data_generator_then_training(self):
        folder = SCRATCH / "generated"
        params = hugectr.tools.DataGeneratorParams(
            format=hugectr.DataReaderType_t.Norm, label_dim=1, dense_dim=3, num_slot=4, i64_input_key=False,
            source=str(folder / "file_list.txt"), eval_source=str(folder / "file_list_test.txt"),
            slot_size_array=[20, 20, 20, 20], nnz_array=[2, 2, 2, 2], check_type=hugectr.Check_t.Sum,
            num_files=1, eval_num_files=1, num_samples_per_file=64, num_samples=64, eval_num_samples=64)
        hugectr.tools.DataGenerator(params).generate()
        self.assertTrue((folder / "file_list.txt").is_file())
        data_reader = hugectr.DataReaderParams(data_reader_type=hugectr.DataReaderType_t.Norm,
                                               source=[str(folder / "file_list.txt")],
                                               eval_source=str(folder / "file_list_test.txt"),
                                               check_type=hugectr.Check_t.Sum, num_workers=1)
        model = dcn_like(hugectr.Model(small_solver(BATCH), data_reader, hugectr.CreateOptimizer()))
        model.compile()
        model.fit(max_iter=4, display=0, eval_interval=4, snapshot=0)

    def test_inference_model(self):
        data = dataset([20] * 4, nnz=2, dense_dim=3)
        model = dcn_like(hugectr.Model(small_solver(BATCH, model_name="infer"), reader(data),
                                       hugectr.CreateOptimizer()))
        model.compile()
        model.fit(max_iter=8, display=0, eval_interval=0, snapshot=0)
        prefix = str(SCRATCH / "infer")
        model.save_params_to_files(prefix)
        graph = SCRATCH / "infer.json"
        model.graph_to_json(str(graph))
        params = hugectr.inference.InferenceParams(
            model_name="infer", max_batchsize=32, hit_rate_threshold=1.0, dense_model_file=prefix + "_dense_0.model",
            sparse_model_files=[prefix + "0_sparse_0.model"], device_id=0, use_gpu_embedding_cache=False,
            cache_size_percentage=1.0, i64_input_key=False)
        inference = hugectr.inference.InferenceModel(str(graph), params)
        probabilities = inference.predict(2, str(data / "eval_list.txt"), hugectr.DataReaderType_t.Norm,
                                          hugectr.Check_t.Sum)
        self.assertEqual(probabilities.shape, (64, 1))
        self.assertTrue(((probabilities >= 0) & (probabilities <= 1)).all())
        auc = inference.evaluate(2, str(data / "eval_list.txt"), hugectr.DataReaderType_t.Norm, hugectr.Check_t.Sum)
        self.assertTrue(0 <= auc <= 1)


if __name__ == "__main__":
    unittest.main()
