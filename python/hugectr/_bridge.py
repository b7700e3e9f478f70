"""The bridge to SwiftCTR's library (docs/python.md): requests and replies as JSON text through
one C function, `hctr_call`, loaded with ctypes. No computation happens here."""

import ctypes
import enum
import json
import os
import sys
from pathlib import Path

LIBRARY = "libSwiftCTRPy.so"
BUILD_HINT = ("build it with `swift build -c release --product SwiftCTRPy` in the SwiftCTR checkout, "
              "then reinstall the package (`pip install ./python`), or point SWIFTCTR_PY_LIBRARY at the file")


class HugeCTRError(RuntimeError):
    """A failure SwiftCTR reported; `str(error)` is SwiftCTR's message, `kind` its category
    (config, data, io, device, numeric, callback, internal or argument)."""

    def __init__(self, message, kind="internal"):
        super().__init__(message)
        self.message = message
        self.kind = kind


class ArgumentError(HugeCTRError, TypeError):
    """An unknown keyword, a missing one, or a value of the wrong type (kind `argument`)."""

    def __init__(self, message, kind="argument"):
        super().__init__(message, kind)


def library_candidates():
    """Where the library is looked for, in order: the package's copy, then the .build folders
    of the checkout this package was loaded from."""
    package = Path(__file__).resolve().parent
    repo = package.parent.parent
    return [package / "_lib" / LIBRARY] + [repo / ".build" / c / LIBRARY for c in ("release", "debug")]


def _load():
    override = os.environ.get("SWIFTCTR_PY_LIBRARY")
    if override:
        if not Path(override).is_file():
            raise ImportError(f"hugectr: SWIFTCTR_PY_LIBRARY is '{override}', which is not a file; "
                              f"unset it to use the package's copy, or {BUILD_HINT}.")
        path = Path(override)
    else:
        found = [p for p in library_candidates() if p.is_file()]
        if not found:
            looked = ", ".join(str(p) for p in library_candidates())
            raise ImportError(f"hugectr: SwiftCTR's library {LIBRARY} was not found (looked in {looked}); {BUILD_HINT}.")
        path = found[0]
    try:
        lib = ctypes.CDLL(str(path))
    except OSError as error:
        raise ImportError(f"hugectr: cannot load {path}: {error}; {BUILD_HINT}.") from None
    lib.hctr_call.restype = ctypes.c_void_p
    lib.hctr_call.argtypes = [ctypes.c_char_p, EVENT]
    lib.hctr_free.restype = None
    lib.hctr_free.argtypes = [ctypes.c_void_p]
    lib.hctr_take_floats.restype = ctypes.c_longlong
    lib.hctr_take_floats.argtypes = [ctypes.c_longlong, ctypes.POINTER(ctypes.c_float), ctypes.c_longlong]
    return lib, path


EVENT = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_char_p)
_lib, library_path = _load()
_libc = ctypes.CDLL(None)


def error_from(reply):
    """The exception for a reply's `{"kind", "message"}`."""
    kind = reply.get("kind", "internal")
    message = reply.get("message", "SwiftCTR reported an error without a message")
    return ArgumentError(message) if kind == "argument" else HugeCTRError(message, kind)


def call(method, args=None, on_event=None):
    """Sends one request; returns the reply's `ok` value or raises its error. `on_event`
    (a Python function taking the event dict and returning 0, 1 or -1) is called during the
    request by `Model.fit`."""
    request = json.dumps({"method": method, "args": args or {}}).encode("utf-8")
    callback = EVENT(on_event) if on_event else EVENT()
    if sys.stdout is not None:
        sys.stdout.flush()  # what Python and SwiftCTR print, in order
    pointer = _lib.hctr_call(request, callback)
    _libc.fflush(None)
    if not pointer:
        raise HugeCTRError(f"{method}: SwiftCTR's library returned no reply.")
    try:
        text = ctypes.string_at(pointer)
    finally:
        _lib.hctr_free(pointer)
    reply = json.loads(text)
    if "error" in reply:
        raise error_from(reply["error"])
    return reply.get("ok")


def take_floats(reply):
    """The float32 array of a `{"shape", "buffer"}` reply, as numpy, in that shape."""
    import numpy
    shape = [int(n) for n in reply["shape"]]
    out = numpy.empty(shape, dtype=numpy.float32)
    count = int(out.size)
    copied = _lib.hctr_take_floats(reply["buffer"], out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), count)
    if copied != count:
        raise HugeCTRError(f"hctr_take_floats copied {copied} of {count} values of a buffer of shape {shape}.")
    return out


# Values: Python → JSON (docs/python.md's tagged forms) and back.

_CLASSES = {}   # make class name → Python class, filled by the record classes
_ENUMS = {}     # enum name → Python enum, filled by _enums


def encode(value, where="argument"):
    if isinstance(value, enum.Enum):
        return {"enum": type(value).__name__, "name": value.name}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "_hctr_object"):
        return value._hctr_object()
    if isinstance(value, dict):
        return {"map": [[encode(k, where), encode(v, where)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return [encode(v, where) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        return encode(value.tolist(), where)
    raise ArgumentError(f"{where}: a Python {type(value).__name__} cannot be passed to SwiftCTR; "
                        "pass a bool, int, float, str, list, dict, hugectr enum member or hugectr object.")


def _hashable(value):
    return tuple(_hashable(v) for v in value) if isinstance(value, list) else value


def decode(value):
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        keys = set(value)
        if keys == {"enum", "name"} and value["enum"] in _ENUMS:
            return _ENUMS[value["enum"]][value["name"]]
        if keys == {"map"}:
            return {_hashable(decode(k)): decode(v) for k, v in value["map"]}
        if keys == {"class", "kwargs"}:
            cls = _CLASSES.get(value["class"])
            if cls is not None:
                return cls._from_record(value)
        return {k: decode(v) for k, v in value.items()}
    return value
