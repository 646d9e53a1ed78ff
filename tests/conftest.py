"""Shared pytest configuration: where the conformance corpus lives.

The corpus (``shared/conformance``) is reference material outside the repository.
Its folder comes from ``--conformance-dir``, else the environment variable
``P4LVS_CONFORMANCE``, else ``../shared/conformance`` relative to the repository
root.  Tests that need it skip, with the reason, when it is missing.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFORMANCE_DIR = REPO_ROOT.parent / "shared" / "conformance"


def pytest_addoption(parser):
    parser.addoption(
        "--conformance-dir",
        action="store",
        default=None,
        help="folder of the P4 conformance corpus (default: $P4LVS_CONFORMANCE, "
        "else ../shared/conformance next to the repository)",
    )


def conformance_dir_from(config) -> Path:
    """The configured corpus folder (it may not exist)."""
    opt = config.getoption("--conformance-dir", default=None)
    if opt:
        return Path(opt).expanduser().resolve()
    env = os.environ.get("P4LVS_CONFORMANCE")
    if env:
        return Path(env).expanduser().resolve()
    return DEFAULT_CONFORMANCE_DIR


@pytest.fixture(scope="session")
def conformance_dir(pytestconfig) -> Path:
    """Path of the conformance corpus; skips the test when the folder is missing."""
    path = conformance_dir_from(pytestconfig)
    if not path.is_dir():
        pytest.skip(
            f"conformance corpus not found at {path} "
            "(set --conformance-dir or P4LVS_CONFORMANCE)"
        )
    return path


@pytest.fixture(scope="module")
def proto():
    """p4common.proto with generated modules; builds them once if missing
    (skips the test, with the reason, when they cannot be built here)."""
    import p4common.proto as pkg
    from p4common.proto import build

    try:
        pkg.p4info_pb2  # noqa: B018 - lazy import
    except pkg.ProtoNotBuiltError:
        try:
            build.build()
        except build.ProtoBuildError as exc:
            pytest.skip(f"P4Runtime modules cannot be built here: {exc}")
    return pkg
