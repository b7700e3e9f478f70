"""hugectr.data: DataSourceParams (HugeCTR registers it in this submodule)."""

from ._objects import DataSourceParams

__all__ = ["DataSourceParams"]
