"""HugeCTR's Python classes as records SwiftCTR makes: each constructor names its positional
arguments, sends every keyword to `make` unchanged and keeps the object SwiftCTR returns (all
keywords, defaults filled in). SwiftCTR checks names and types; its message is the error."""

from . import _bridge
from ._bridge import ArgumentError


def _named(owner, names, args, kwargs):
    """`kwargs` with the positional `args` named by `names`."""
    if len(args) > len(names):
        took = f"{len(names)} positional argument{'s' if len(names) != 1 else ''}" if names else "no positional arguments"
        raise ArgumentError(f"{owner}() takes {took} ({', '.join(names) or 'keywords only'}) but {len(args)} were given.")
    named = dict(zip(names, args))
    for key in kwargs:
        if key in named:
            raise ArgumentError(f"{owner}() got multiple values for argument '{key}'.")
    named.update(kwargs)
    return named


class Record:
    """An object SwiftCTR made: `{"class": ..., "kwargs": {...}}`, its keywords readable (and
    writable: setting one makes the object again) as attributes."""

    _make = None   # the class name `make` takes
    _names = ()    # positional argument names, in order

    def __init__(self, *args, **kwargs):
        self._build(_named(type(self).__name__, self._positional(args), args, kwargs))

    def _positional(self, args):
        return self._names

    def _build(self, kwargs):
        where = type(self).__name__
        encoded = {k: _bridge.encode(v, f"{where}: keyword '{k}'") for k, v in kwargs.items()}
        self._set(_bridge.call("make", {"class": self._make, "kwargs": encoded}))

    def _set(self, record):
        object.__setattr__(self, "_record", record)

    @classmethod
    def _from_record(cls, record):
        obj = cls.__new__(cls)
        obj._set(record)
        return obj

    def _hctr_object(self):
        return self._record

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        kwargs = self._record.get("kwargs", {})
        if name not in kwargs:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'; "
                                 f"it has {', '.join(sorted(kwargs)) or 'no attributes'}.")
        return _bridge.decode(kwargs[name])

    def __setattr__(self, name, value):
        if name.startswith("_"):
            return object.__setattr__(self, name, value)
        kwargs = {k: _bridge.decode(v) for k, v in self._record.get("kwargs", {}).items()}
        kwargs[name] = value
        self._build(kwargs)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._record.get("kwargs", {})))

    def __repr__(self):
        kwargs = ", ".join(f"{k}={_bridge.decode(v)!r}" for k, v in sorted(self._record.get("kwargs", {}).items()))
        return f"hugectr.{type(self).__name__}({kwargs})"


def register(cls, *names):
    for name in names or (cls._make,):
        _bridge._CLASSES[name] = cls
    return cls


class TrainingCallback:
    """HugeCTR's training callback (spec §1.16): subclass it, override what you need and pass
    instances as `CreateSolver(training_callbacks=[...])`; `Model.fit` calls them."""

    def on_training_start(self):
        pass

    def on_training_end(self, current_iter):
        pass

    def on_eval_start(self, current_iter):
        return False

    def on_eval_end(self, current_iter, eval_results):
        return False


class Solver(Record):
    """What `CreateSolver` returns. The training callbacks stay in Python."""

    _make = "CreateSolver"

    def __init__(self, *args, **kwargs):
        kwargs = _named("CreateSolver", (), args, kwargs)
        callbacks = list(kwargs.pop("training_callbacks", None) or [])
        for cb in callbacks:
            if not isinstance(cb, TrainingCallback):
                raise ArgumentError("CreateSolver: keyword 'training_callbacks' expects a list of "
                                    f"hugectr.TrainingCallback objects, found a {type(cb).__name__}.")
        object.__setattr__(self, "_callbacks", callbacks)
        self._build(kwargs)

    def _set(self, record):
        super()._set(record)
        if "_callbacks" not in self.__dict__:
            object.__setattr__(self, "_callbacks", [])

    def __getattr__(self, name):
        if name == "training_callbacks":
            return list(self._callbacks)
        return super().__getattr__(name)

    def __setattr__(self, name, value):
        if name == "training_callbacks":
            raise AttributeError("Solver.training_callbacks is read-only; pass them to CreateSolver.")
        super().__setattr__(name, value)


def CreateSolver(**kwargs):
    return Solver(**kwargs)


class OptParamsPy(Record):
    """What `CreateOptimizer` returns; `OptParamsPy()` without arguments means "use the model's
    optimizer" (the SparseEmbedding default) and is not made by SwiftCTR."""

    _make = "CreateOptimizer"
    _names = ("optimizer_type", "update_type", "beta", "lambda1", "lambda2", "beta1", "beta2", "epsilon",
              "initial_accu_value", "momentum_factor", "atomic_update")

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            super().__init__(*args, **kwargs)
        else:
            self._set({"class": "OptParamsPy", "kwargs": {}})

    def __setattr__(self, name, value):
        if self._record["class"] == "OptParamsPy" and not name.startswith("_"):
            raise AttributeError("OptParamsPy() (the model's optimizer) has no attributes to set; use CreateOptimizer(...).")
        super().__setattr__(name, value)


def CreateOptimizer(*args, **kwargs):
    """An optimizer with SwiftCTR's defaults for what is not given (Adam, Global, ...)."""
    optimizer = OptParamsPy.__new__(OptParamsPy)
    optimizer._build(_named("CreateOptimizer", OptParamsPy._names, args, kwargs))
    return optimizer


class DataReaderParams(Record):
    _make = "DataReaderParams"
    _names = ("data_reader_type", "source", "keyset", "eval_source", "check_type", "cache_eval_data", "num_samples",
              "eval_num_samples", "float_label_dense", "read_file_sequentially", "num_workers", "slot_size_array",
              "data_source_params", "async_param")


class DataReaderSparseParam(Record):
    _make = "DataReaderSparseParam"
    _names = ("top_name", "nnz_per_slot", "is_fixed_length", "slot_num")


class Input(Record):
    """The three constructors: (label_dim, label_name, ...), (label_dims, label_names, ...) and
    (label_dims, label_names, label_weights, ...); positional arguments pick the form by the
    first (a list: several labels) and the third (a list: label weights)."""

    _make = "Input"
    _single = ("label_dim", "label_name", "dense_dim", "dense_name", "data_reader_sparse_param_array")
    _multi = ("label_dims", "label_names", "dense_dim", "dense_name", "data_reader_sparse_param_array")
    _weighted = ("label_dims", "label_names", "label_weights", "dense_dim", "dense_name",
                 "data_reader_sparse_param_array")

    def _positional(self, args):
        if not args or not isinstance(args[0], (list, tuple)):
            return self._single
        return self._weighted if len(args) > 2 and isinstance(args[2], (list, tuple)) else self._multi


class SparseEmbedding(Record):
    _make = "SparseEmbedding"
    _names = ("embedding_type", "workspace_size_per_gpu_in_mb", "embedding_vec_size", "combiner",
              "sparse_embedding_name", "bottom_name", "slot_size_array", "optimizer", "hybrid_embedding_param")


class DenseLayer(Record):
    """DenseLayer(layer_type, bottom_names, top_names, **kwargs)."""

    _make = "DenseLayer"
    _names = ("layer_type", "bottom_names", "top_names")


class GroupDenseLayer(Record):
    _make = "GroupDenseLayer"
    _names = ("group_layer_type", "bottom_name_list", "top_name_list", "num_outputs", "last_act_type")


class DenseLayerComputeConfig(Record):
    _make = "DenseLayerComputeConfig"
    _names = ("async_wgrad", "fuse_wb")


class AsyncParam(Record):
    _make = "AsyncParam"
    _names = ("num_threads", "num_batches_per_thread", "max_num_requests_per_thread", "io_depth", "io_alignment",
              "shuffle", "aligned_type", "multi_hot_reader", "is_dense_float")


class DataSourceParams(Record):
    _make = "DataSourceParams"
    _names = ("source", "server", "port")


class DataGeneratorParams(Record):
    _make = "DataGeneratorParams"
    _names = ("format", "label_dim", "dense_dim", "num_slot", "i64_input_key", "source", "eval_source",
              "slot_size_array", "nnz_array", "check_type", "dist_type", "power_law_type", "alpha", "num_files",
              "eval_num_files", "num_samples_per_file", "num_samples", "eval_num_samples", "float_label_dense",
              "num_threads")


class InferenceParams(Record):
    _make = "InferenceParams"
    _names = ("model_name", "max_batchsize", "hit_rate_threshold", "dense_model_file", "sparse_model_files",
              "device_id", "use_gpu_embedding_cache", "cache_size_percentage", "i64_input_key", "use_mixed_precision",
              "scaler", "use_algorithm_search", "use_cuda_graph", "number_of_worker_buffers_in_pool",
              "number_of_refresh_buffers_in_pool", "thread_pool_size", "cache_refresh_percentage_per_iteration",
              "deployed_devices", "default_value_for_each_table", "volatile_db", "persistent_db", "update_source",
              "maxnum_des_feature_per_sample", "refresh_delay", "refresh_interval",
              "maxnum_catfeature_query_per_table_per_sample", "embedding_vecsize_per_table", "embedding_table_names",
              "network_file", "label_dim", "slot_num", "non_trainable_params_file", "use_static_table",
              "embedding_cache_type", "use_context_stream", "fuse_embedding_table", "use_hctr_cache_implementation",
              "init_ec", "enable_pagelock", "fp8_quant")


register(Solver)
register(OptParamsPy, "CreateOptimizer", "OptParamsPy")
for _cls in (DataReaderParams, DataReaderSparseParam, Input, SparseEmbedding, DenseLayer, GroupDenseLayer,
             DenseLayerComputeConfig, AsyncParam, DataSourceParams, DataGeneratorParams, InferenceParams):
    register(_cls)
