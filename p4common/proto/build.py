"""Generate the P4Runtime Python modules into ``p4common/proto/gen/`` at set-up time.

Why this exists: the ``p4runtime`` wheels on PyPI ship only old-style generated
``_pb2.py`` files (they build descriptors by hand, which protobuf >= 4 refuses with
"Descriptors cannot be created directly") and no ``.proto`` sources.  Those old
files do, however, embed each ``FileDescriptorProto`` as a bytes literal
(``serialized_pb=b'...'``).  We read that literal with :mod:`ast` (never executing
third-party code), put it into a ``FileDescriptorSet`` together with the
``google/protobuf/any.proto`` and ``google/rpc/{status,code}.proto`` descriptors that
the installed protobuf / googleapis-common-protos packages already carry, and let
``grpc_tools.protoc`` (``--descriptor_set_in``) write fresh ``_pb2.py``,
``_pb2.pyi`` and ``_pb2_grpc.py`` files that match the installed runtime.

Layout: the P4 files are renamed inside the descriptor set from ``p4/...`` to
``p4common/proto/gen/p4/...`` so that protoc itself writes imports such as
``from p4common.proto.gen.p4.config.v1 import p4info_pb2``.  Nothing we generate
claims the top-level ``p4`` package, which p4runtime-shell (and the PyPI
``p4runtime`` wheel) own.  Protobuf message/service full names (``p4.v1.WriteRequest``,
``/p4.v1.P4Runtime/Write``) are package-based and unchanged, so the wire format and
gRPC method paths are exactly upstream's; only the descriptor pool's *file* names
carry the prefix.

Generated code is never committed (``p4common/proto/.gitignore`` excludes ``gen/``).

Set-up needs (pip): ``protobuf``, ``grpcio``, ``grpcio-tools``,
``googleapis-common-protos`` (see ``requirements.txt`` beside this file) and access to
PyPI for ``pip download --no-deps p4runtime==P4RUNTIME_VERSION`` (or ``--wheel``).

Usage::

    python3 -m p4common.proto.build            # idempotent; rebuilds only if stale
    python3 -m p4common.proto.build --force --wheel /path/p4runtime-1.6.0-py3-none-any.whl
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from google.protobuf import descriptor_pb2

#: The p4runtime release whose .proto definitions we generate from.
P4RUNTIME_VERSION = "1.6.0"

#: The four P4Runtime .proto files (upstream names) we need from the wheel.
P4_PROTOS = (
    "p4/config/v1/p4types.proto",
    "p4/config/v1/p4info.proto",
    "p4/v1/p4data.proto",
    "p4/v1/p4runtime.proto",
)

#: Prefix (a Python package path) given to the P4 files inside the descriptor set.
GEN_PREFIX = "p4common/proto/gen/"

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
GEN_DIR = HERE / "gen"
DEFAULT_CACHE = REPO_ROOT / "build" / "proto-cache"
STAMP_NAME = "BUILD_INFO.json"
UPSTREAM_SET_NAME = "p4runtime.protoset"


class ProtoBuildError(RuntimeError):
    """A step of the generation failed; the message says which and why."""


@dataclass(frozen=True)
class Wheel:
    path: Path
    sha256: str


# --------------------------------------------------------------------------- wheel


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def find_or_download_wheel(version: str, cache: Path, wheel: Path | None = None) -> Wheel:
    """Return the p4runtime wheel: the one given, a cached one, or one pip downloads."""
    if wheel is not None:
        if not wheel.is_file():
            raise ProtoBuildError(f"--wheel {wheel}: no such file")
        return Wheel(wheel, _sha256(wheel))
    cache.mkdir(parents=True, exist_ok=True)
    pattern = f"p4runtime-{version}-*.whl"
    found = sorted(cache.glob(pattern))
    if not found:
        cmd = [
            sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
            "--disable-pip-version-check", "-d", str(cache), f"p4runtime=={version}",
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise ProtoBuildError(
                f"pip download of p4runtime=={version} failed (exit {proc.returncode}):\n"
                f"{proc.stderr.strip() or proc.stdout.strip()}\n"
                "Without network access, pass --wheel PATH to a p4runtime wheel.")
        found = sorted(cache.glob(pattern))
        if not found:
            raise ProtoBuildError(f"pip reported success but no {pattern} appeared in {cache}")
    return Wheel(found[-1], _sha256(found[-1]))


# --------------------------------------------------------------------- descriptors


def serialized_descriptor_of(source: str, where: str) -> bytes:
    """The ``serialized_pb=b'...'`` literal of an old-style generated ``_pb2.py``.

    Newer-style files embed the same bytes as the argument of
    ``AddSerializedFile(b'...')``; both are accepted.
    """
    try:
        tree = ast.parse(source, filename=where)
    except SyntaxError as exc:
        raise ProtoBuildError(f"{where}: not parseable Python: {exc}") from None
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        for kw in node.keywords:
            if kw.arg == "serialized_pb":
                return _bytes_literal(kw.value, where)
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "AddSerializedFile" and node.args:
            return _bytes_literal(node.args[0], where)
    raise ProtoBuildError(f"{where}: no embedded serialized FileDescriptorProto found")


def _bytes_literal(node: ast.expr, where: str) -> bytes:
    try:
        value = ast.literal_eval(node)
    except ValueError:
        raise ProtoBuildError(f"{where}: serialized descriptor is not a bytes literal") from None
    if not isinstance(value, bytes):
        raise ProtoBuildError(f"{where}: serialized descriptor is {type(value).__name__}, not bytes")
    return value


def descriptors_from_wheel(wheel: Path) -> dict[str, descriptor_pb2.FileDescriptorProto]:
    """Upstream .proto name -> FileDescriptorProto, for every file in P4_PROTOS."""
    out: dict[str, descriptor_pb2.FileDescriptorProto] = {}
    try:
        zf = zipfile.ZipFile(wheel)
    except zipfile.BadZipFile as exc:
        raise ProtoBuildError(f"{wheel}: not a wheel (zip): {exc}") from None
    with zf:
        names = set(zf.namelist())
        for proto in P4_PROTOS:
            member = proto[: -len(".proto")] + "_pb2.py"
            if member not in names:
                raise ProtoBuildError(f"{wheel.name}: has no {member}")
            raw = serialized_descriptor_of(zf.read(member).decode("utf-8"), f"{wheel.name}:{member}")
            fdp = descriptor_pb2.FileDescriptorProto.FromString(raw)
            if fdp.name != proto:
                raise ProtoBuildError(f"{wheel.name}:{member}: descriptor names {fdp.name!r}, expected {proto!r}")
            out[proto] = fdp
    return out


def well_known_descriptors() -> list[descriptor_pb2.FileDescriptorProto]:
    """google/protobuf/any.proto and google/rpc/{code,status}.proto, from installed packages.

    Only needed so protoc can resolve the P4 files' imports; we generate no Python
    for them (the installed ``google.protobuf.any_pb2`` / ``google.rpc.status_pb2``
    are used at run time).
    """
    from google.protobuf import any_pb2

    try:
        from google.rpc import code_pb2, status_pb2
    except ImportError as exc:
        raise ProtoBuildError(
            f"googleapis-common-protos is not importable ({exc}); pip install googleapis-common-protos") from None
    out = []
    for mod in (any_pb2, code_pb2, status_pb2):
        fdp = descriptor_pb2.FileDescriptorProto()
        mod.DESCRIPTOR.CopyToProto(fdp)
        out.append(fdp)
    return out


def _prefixed(name: str) -> str:
    return GEN_PREFIX + name if name.startswith("p4/") else name


def build_descriptor_set(p4: dict[str, descriptor_pb2.FileDescriptorProto],
                         rename: bool = True) -> descriptor_pb2.FileDescriptorSet:
    """Dependency-ordered set: well-known files first, then the P4 files, renamed
    under GEN_PREFIX when ``rename`` (for protoc) or with upstream names (for tools)."""
    fds = descriptor_pb2.FileDescriptorSet()
    for fdp in well_known_descriptors():
        fds.file.append(fdp)
    for proto in P4_PROTOS:  # already in dependency order
        fdp = descriptor_pb2.FileDescriptorProto()
        fdp.CopyFrom(p4[proto])
        if not rename:
            fds.file.append(fdp)
            continue
        fdp.name = _prefixed(fdp.name)
        deps = [_prefixed(d) for d in fdp.dependency]
        del fdp.dependency[:]
        fdp.dependency.extend(deps)
        fds.file.append(fdp)
    known = {f.name for f in fds.file}
    for f in fds.file:
        missing = [d for d in f.dependency if d not in known]
        if missing:
            raise ProtoBuildError(f"{f.name} imports {missing}, which the descriptor set lacks")
    return fds


# --------------------------------------------------------------------------- protoc


def run_protoc(fds: descriptor_pb2.FileDescriptorSet, out_root: Path) -> None:
    """grpc_tools.protoc over the descriptor set, writing under out_root/GEN_PREFIX."""
    set_path = out_root / "p4runtime.fds"
    set_path.write_bytes(fds.SerializeToString())
    targets = [_prefixed(p) for p in P4_PROTOS]
    cmd = [
        sys.executable, "-m", "grpc_tools.protoc",
        f"--descriptor_set_in={set_path}",
        f"--python_out={out_root}", f"--pyi_out={out_root}", f"--grpc_python_out={out_root}",
        *targets,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ProtoBuildError(
            f"grpc_tools.protoc failed (exit {proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}\n"
            "Is grpcio-tools installed? (pip install grpcio-tools)")
    set_path.unlink()


def _add_init_files(gen: Path) -> None:
    for d in [gen, *[p for p in gen.rglob("*") if p.is_dir()]]:
        init = d / "__init__.py"
        if not init.exists():
            init.write_text('"""Generated by p4common.proto.build; do not edit or commit."""\n')


def _check_no_bare_p4_imports(gen: Path) -> None:
    for py in gen.rglob("*.py*"):
        for line in py.read_text().splitlines():
            s = line.strip()
            if s.startswith(("from p4.", "import p4.", "from p4 ", "import p4 ")):
                raise ProtoBuildError(f"{py}: generated code imports the top-level p4 package: {s!r}")


def verify_import(repo_root: Path) -> None:
    """Import the fresh modules in a child interpreter (a clean descriptor pool)."""
    code = (
        "from p4common.proto import p4runtime_pb2, p4runtime_pb2_grpc, p4info_pb2, p4data_pb2, p4types_pb2\n"
        "w = p4runtime_pb2.WriteRequest(device_id=1)\n"
        "assert p4runtime_pb2.WriteRequest.FromString(w.SerializeToString()) == w\n"
        "assert p4runtime_pb2.WriteRequest.DESCRIPTOR.full_name == 'p4.v1.WriteRequest'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=repo_root, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ProtoBuildError(f"generated modules do not import:\n{proc.stderr.strip()}")


# ----------------------------------------------------------------------------- main


def _stamp(version: str, wheel: Wheel) -> dict[str, str]:
    import google.protobuf
    import grpc_tools

    try:
        from importlib.metadata import version as dist_version
        tools = dist_version("grpcio-tools")
    except Exception:  # pragma: no cover - metadata missing only in odd installs
        tools = getattr(grpc_tools, "__version__", "unknown")
    return {
        "p4runtime": version,
        "wheel": wheel.path.name,
        "wheel_sha256": wheel.sha256,
        "protobuf": google.protobuf.__version__,
        "grpcio_tools": tools,
    }


def is_up_to_date(version: str, gen: Path = GEN_DIR) -> bool:
    """True when gen/ was built from this p4runtime version with this protobuf."""
    import google.protobuf

    stamp = gen / STAMP_NAME
    if not stamp.is_file():
        return False
    try:
        info = json.loads(stamp.read_text())
    except ValueError:
        return False
    try:
        from importlib.metadata import version as dist_version
        tools = dist_version("grpcio-tools")
    except Exception:  # grpcio-tools missing: let the build report it
        return False
    return (info.get("p4runtime") == version and info.get("protobuf") == google.protobuf.__version__
            and info.get("grpcio_tools") == tools)


def build(version: str = P4RUNTIME_VERSION, cache: Path = DEFAULT_CACHE, wheel: Path | None = None,
          force: bool = False, gen: Path = GEN_DIR, verify: bool = True) -> Path:
    """Generate the modules into ``gen`` (atomically replaced) and return its path."""
    if not force and wheel is None and is_up_to_date(version, gen):
        return gen
    whl = find_or_download_wheel(version, cache, wheel)
    p4_files = descriptors_from_wheel(whl.path)
    fds = build_descriptor_set(p4_files)
    gen.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".gen-", dir=gen.parent) as tmp:
        out_root = Path(tmp)
        run_protoc(fds, out_root)
        staged = out_root / GEN_PREFIX.rstrip("/")
        if not staged.is_dir():
            raise ProtoBuildError(f"protoc wrote nothing under {GEN_PREFIX}")
        _add_init_files(staged)
        _check_no_bare_p4_imports(staged)
        # upstream-named set, for tools such as `grpcurl -protoset` or gRPC reflection
        (staged / UPSTREAM_SET_NAME).write_bytes(build_descriptor_set(p4_files, rename=False).SerializeToString())
        (staged / STAMP_NAME).write_text(json.dumps(_stamp(version, whl), indent=2) + "\n")
        old = gen.parent / (gen.name + ".old")
        if old.exists():
            shutil.rmtree(old)
        if gen.exists():
            gen.rename(old)
        staged.rename(gen)
        if old.exists():
            shutil.rmtree(old)
    if verify and gen == GEN_DIR:
        verify_import(REPO_ROOT)
    return gen


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m p4common.proto.build", description=__doc__.split("\n\n")[0])
    ap.add_argument("--version", default=P4RUNTIME_VERSION, help="p4runtime release (default %(default)s)")
    ap.add_argument("--wheel", type=Path, help="use this p4runtime wheel instead of pip download")
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="wheel cache dir (default %(default)s)")
    ap.add_argument("--force", action="store_true", help="rebuild even if gen/ is up to date")
    args = ap.parse_args(argv)
    try:
        out = build(args.version, args.cache, args.wheel, args.force)
    except ProtoBuildError as exc:
        print(f"p4common.proto.build: error: {exc}", file=sys.stderr)
        return 1
    print(f"P4Runtime {args.version} Python modules ready in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
