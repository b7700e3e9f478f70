"""HugeCTR's Python API (`import hugectr`) on SwiftCTR: the enums, classes and Model of spec §1,
every call answered by SwiftCTR's library in this process (docs/python.md)."""

from . import _bridge
from ._bridge import ArgumentError, HugeCTRError
from ._enums import *  # noqa: F401,F403  (the enums of spec §1.2)
from ._model import LearningRateScheduler, Model
from ._objects import (AsyncParam, CreateOptimizer, CreateSolver, DataReaderParams, DataReaderSparseParam,
                       DataSourceParams, DenseLayer, DenseLayerComputeConfig, GroupDenseLayer, Input, OptParamsPy,
                       Solver, SparseEmbedding, TrainingCallback)

__version__ = _bridge.call("version")

from . import data, inference, tools  # noqa: E402
