"""hugectr.tools: HugeCTR's data generator (spec §1.17)."""

from . import _bridge
from ._objects import DataGeneratorParams


class DataGenerator:
    """DataGenerator(data_generator_params).generate() writes the files the params describe."""

    def __init__(self, data_generator_params):
        self._params = data_generator_params

    def generate(self):
        _bridge.call("DataGenerator.generate", {"params": _bridge.encode(self._params, "DataGenerator")})


__all__ = ["DataGeneratorParams", "DataGenerator"]
