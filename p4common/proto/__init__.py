"""P4Runtime protobuf modules shared by the compiler, the switch's P4Runtime server and the controller.

The modules are generated at set-up time by ``python3 -m p4common.proto.build`` into
``p4common/proto/gen/`` (never committed) and exposed here lazily, so that importing
this package (and running the build module) works before they exist::

    from p4common.proto import p4runtime_pb2, p4runtime_pb2_grpc, p4info_pb2, p4data_pb2, p4types_pb2

A missing or broken build raises :class:`ProtoNotBuiltError` (an ``ImportError``)
whose message says how to build.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = [
    "ProtoNotBuiltError",
    "p4runtime_pb2",
    "p4runtime_pb2_grpc",
    "p4info_pb2",
    "p4data_pb2",
    "p4types_pb2",
]

_MODULES = {
    "p4runtime_pb2": "p4common.proto.gen.p4.v1.p4runtime_pb2",
    "p4runtime_pb2_grpc": "p4common.proto.gen.p4.v1.p4runtime_pb2_grpc",
    "p4data_pb2": "p4common.proto.gen.p4.v1.p4data_pb2",
    "p4info_pb2": "p4common.proto.gen.p4.config.v1.p4info_pb2",
    "p4types_pb2": "p4common.proto.gen.p4.config.v1.p4types_pb2",
}


class ProtoNotBuiltError(ImportError):
    """The generated P4Runtime modules are absent or do not import."""


def __getattr__(name: str) -> ModuleType:
    target = _MODULES.get(name)
    if target is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        module = importlib.import_module(target)
    except ImportError as exc:
        raise ProtoNotBuiltError(
            f"P4Runtime module {name} is not available ({exc}). Generate it with:\n"
            "    python3 -m p4common.proto.build\n"
            "(needs protobuf, grpcio, grpcio-tools, googleapis-common-protos and PyPI access "
            "or --wheel PATH to a p4runtime wheel)") from exc
    globals()[name] = module
    return module


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
