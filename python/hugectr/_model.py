"""hugectr.Model: a handle to a SwiftCTR model; each method is one request (docs/python.md)."""

import json

from . import _bridge
from ._bridge import HugeCTRError
from ._enums import Tensor_t


class LearningRateScheduler:
    """The model's learning-rate schedule (spec §6.1); `get_next()` advances it one step."""

    def __init__(self, model):
        self._model = model  # keeps the model alive
        self._handle = _bridge.call("LearningRateScheduler.new", {"handle": model._handle})["handle"]

    def get_next(self):
        return _bridge.call("LearningRateScheduler.get_next", {"handle": self._handle})

    def __del__(self):
        _free("LearningRateScheduler.free", getattr(self, "_handle", None))


def _free(method, handle):
    """Frees a handle, quietly (also while the interpreter shuts down)."""
    if handle is not None and _bridge is not None and getattr(_bridge, "call", None) is not None:
        try:
            _bridge.call(method, {"handle": handle})
        except Exception:
            pass


class Model:
    """Model(solver, reader_params, opt_params): add the Input, embeddings and dense layers,
    compile, then fit (or train/eval step by step)."""

    def __init__(self, solver, reader_params, opt_params):
        self._handle = None
        self._solver = solver
        args = {"solver": _bridge.encode(solver, "Model: solver"),
                "reader_params": _bridge.encode(reader_params, "Model: reader_params"),
                "opt_params": _bridge.encode(opt_params, "Model: opt_params")}
        self._handle = _bridge.call("Model.new", args)["handle"]

    def _call(self, method, **args):
        return _bridge.call("Model." + method, {"handle": self._handle, **args})

    def __del__(self):
        handle, self._handle = getattr(self, "_handle", None), None
        _free("Model.free", handle)

    # building

    def add(self, layer):
        self._call("add", object=_bridge.encode(layer, "Model.add"))

    def compile(self, loss_names=None, loss_weights=None):
        args = {}
        if loss_names is not None:
            args["loss_names"] = _bridge.encode(loss_names, "Model.compile: loss_names")
        if loss_weights is not None:
            args["loss_weights"] = _bridge.encode(loss_weights, "Model.compile: loss_weights")
        self._call("compile", **args)

    def summary(self):
        self._call("summary")

    def graph_to_json(self, graph_config_file):
        self._call("graph_to_json", graph_config_file=_bridge.encode(graph_config_file))

    def construct_from_json(self, graph_config_file, include_dense_network):
        self._call("construct_from_json", graph_config_file=_bridge.encode(graph_config_file),
                   include_dense_network=include_dense_network)

    # training

    def fit(self, num_epochs=0, max_iter=2000, display=200, eval_interval=1000, snapshot=10000, snapshot_prefix=""):
        callbacks = list(getattr(self._solver, "_callbacks", []))
        raised = []

        def on_event(text):
            try:
                event = json.loads(text)
                name, it = event.get("event"), event.get("iter")
                stop = False
                for callback in callbacks:
                    if name == "on_training_start":
                        callback.on_training_start()
                    elif name == "on_training_end":
                        callback.on_training_end(it)
                    elif name == "on_eval_start":
                        callback.on_eval_start(it)
                    elif name == "on_eval_end":
                        results = _bridge.decode(event.get("metrics", {}))
                        stop = bool(callback.on_eval_end(it, dict(results))) or stop
                return 1 if stop else 0
            except BaseException as error:  # re-raised once SwiftCTR has returned
                raised.append(error)
                return -1

        args = dict(num_epochs=num_epochs, max_iter=max_iter, display=display, eval_interval=eval_interval,
                    snapshot=snapshot, snapshot_prefix=_bridge.encode(snapshot_prefix), callbacks=bool(callbacks))
        try:
            _bridge.call("Model.fit", {"handle": self._handle, **args}, on_event if callbacks else None)
        except HugeCTRError:
            if raised:
                raise raised[0] from None
            raise
        if raised:
            raise raised[0]

    def start_data_reading(self):
        self._call("start_data_reading")

    def train(self):
        return self._call("train")

    def eval(self):
        return self._call("eval")

    def get_eval_metrics(self):
        return [tuple(pair) for pair in self._call("get_eval_metrics")]

    def get_current_loss(self):
        return self._call("get_current_loss")

    def set_learning_rate(self, lr):
        self._call("set_learning_rate", lr=lr)

    def get_learning_rate_scheduler(self):
        return LearningRateScheduler(self)

    # model files and tensors

    def save_params_to_files(self, prefix, iter=0):
        self._call("save_params_to_files", prefix=_bridge.encode(prefix), iter=iter)

    def load_dense_weights(self, dense_model_file):
        self._call("load_dense_weights", dense_model_file=_bridge.encode(dense_model_file))

    def load_dense_optimizer_states(self, dense_opt_states_file):
        self._call("load_dense_optimizer_states", dense_opt_states_file=_bridge.encode(dense_opt_states_file))

    def load_sparse_weights(self, sparse_embedding_files):
        self._call("load_sparse_weights", sparse_embedding_files=_bridge.encode(sparse_embedding_files))

    def load_sparse_optimizer_states(self, sparse_opt_states_files):
        self._call("load_sparse_optimizer_states", sparse_opt_states_files=_bridge.encode(sparse_opt_states_files))

    def check_out_tensor(self, tensor_name, tensor_type=Tensor_t.Train):
        reply = self._call("check_out_tensor", tensor_name=_bridge.encode(tensor_name),
                           tensor_type=_bridge.encode(tensor_type))
        return _bridge.take_floats(reply)

    def export_predictions(self, output_prediction_file_name, output_label_file_name):
        return self._call("export_predictions", output_prediction_file_name=_bridge.encode(output_prediction_file_name),
                   output_label_file_name=_bridge.encode(output_label_file_name))
