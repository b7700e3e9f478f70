"""hugectr.inference: offline inference of a trained model (spec §1.15, HugeCTR v23.08)."""

from . import _bridge
from ._model import _free
from ._objects import InferenceParams


class InferenceModel:
    """InferenceModel(model_config_path, inference_params): the graph JSON and the model files
    the params name. `predict` returns the probabilities, `evaluate` the AUC."""

    def __init__(self, model_config_path, inference_params):
        self._handle = None
        args = {"model_config_path": _bridge.encode(model_config_path),
                "inference_params": _bridge.encode(inference_params, "InferenceModel: inference_params")}
        self._handle = _bridge.call("InferenceModel.new", args)["handle"]

    def __del__(self):
        _free("InferenceModel.free", getattr(self, "_handle", None))

    def _args(self, num_batches, source, data_reader_type, check_type, slot_size_array, data_source_params,
              reading_file_sequentially):
        args = {"handle": self._handle, "num_batches": num_batches, "source": source,
                "data_reader_type": data_reader_type, "check_type": check_type,
                "slot_size_array": slot_size_array if slot_size_array is not None else [],
                "reading_file_sequentially": reading_file_sequentially}
        if data_source_params is not None:
            args["data_source_params"] = data_source_params
        return {k: _bridge.encode(v, f"InferenceModel: {k}") for k, v in args.items()}

    def predict(self, num_batches, source, data_reader_type, check_type, slot_size_array=None,
                data_source_params=None, reading_file_sequentially=True):
        reply = _bridge.call("InferenceModel.predict", self._args(
            num_batches, source, data_reader_type, check_type, slot_size_array, data_source_params,
            reading_file_sequentially))
        return _bridge.take_floats(reply)

    def evaluate(self, num_batches, source, data_reader_type, check_type, slot_size_array=None,
                 data_source_params=None, reading_file_sequentially=True):
        return _bridge.call("InferenceModel.evaluate", self._args(
            num_batches, source, data_reader_type, check_type, slot_size_array, data_source_params,
            reading_file_sequentially))


__all__ = ["InferenceParams", "InferenceModel"]
