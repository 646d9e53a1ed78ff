"""p4common.proto: the generated P4Runtime modules import, parse p4c's P4Info, round-trip."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from p4common.proto import build as proto_build


# the `proto` fixture (generated P4Runtime modules) is in conftest.py


def test_reference_p4info_parses(proto, conformance_dir):
    from google.protobuf import text_format

    files = sorted((conformance_dir / "p4c-json").glob("*.p4info.txtpb"))
    assert files, "no reference P4Info files"
    for f in files:
        info = text_format.Parse(f.read_text(), proto.p4info_pb2.P4Info())
        assert info.pkg_info.arch == "v1model", f
        # and back: text -> message -> bytes -> message is lossless
        again = proto.p4info_pb2.P4Info.FromString(info.SerializeToString())
        assert again == info


def test_reference_entries_parse_as_write_requests(proto, conformance_dir):
    from google.protobuf import text_format

    files = sorted((conformance_dir / "p4c-p4info").glob("*.entries.txtpb"))
    assert files
    n_updates = 0
    for f in files:
        req = text_format.Parse(f.read_text(), proto.p4runtime_pb2.WriteRequest())
        n_updates += len(req.updates)
    assert n_updates > 0


def test_write_request_round_trip(proto):
    pb = proto.p4runtime_pb2
    req = pb.WriteRequest(device_id=3, election_id=pb.Uint128(high=0, low=7))
    upd = req.updates.add(type=pb.Update.INSERT)
    te = upd.entity.table_entry
    te.table_id = 0x02000001
    te.match.add(field_id=1).lpm.CopyFrom(pb.FieldMatch.LPM(value=b"\x0a\x00\x00\x00", prefix_len=8))
    te.action.action.action_id = 0x01000002
    te.action.action.params.add(param_id=1, value=b"\x01")
    te.priority = 0
    wire = req.SerializeToString()
    back = pb.WriteRequest.FromString(wire)
    assert back == req
    assert back.updates[0].entity.WhichOneof("entity") == "table_entry"
    assert back.updates[0].entity.table_entry.match[0].lpm.prefix_len == 8


def test_names_are_upstream_and_grpc_paths_unchanged(proto):
    assert proto.p4runtime_pb2.WriteRequest.DESCRIPTOR.full_name == "p4.v1.WriteRequest"
    assert proto.p4info_pb2.P4Info.DESCRIPTOR.full_name == "p4.config.v1.P4Info"
    svc = proto.p4runtime_pb2.DESCRIPTOR.services_by_name["P4Runtime"]
    assert svc.full_name == "p4.v1.P4Runtime"
    assert {m.name for m in svc.methods} >= {"Write", "Read", "SetForwardingPipelineConfig",
                                            "GetForwardingPipelineConfig", "StreamChannel", "Capabilities"}
    assert hasattr(proto.p4runtime_pb2_grpc, "P4RuntimeStub")
    assert hasattr(proto.p4runtime_pb2_grpc, "add_P4RuntimeServicer_to_server")
    # Any/Status come from the installed packages, not from a copy of ours
    from google.rpc import status_pb2
    assert proto.p4runtime_pb2.Error.DESCRIPTOR.file.dependencies  # imports resolved
    assert status_pb2.Status.DESCRIPTOR.full_name == "google.rpc.Status"


def test_p4ids_prefixes_match_proto_enum(proto):
    from p4common.p4ids import P4IdPrefix

    enum = proto.p4info_pb2.P4Ids.DESCRIPTOR.enum_types_by_name["Prefix"]
    assert {v.name: v.number for v in enum.values} == {p.name: int(p) for p in P4IdPrefix}


def test_generated_code_does_not_claim_top_level_p4(proto):
    gen = proto_build.GEN_DIR
    for py in gen.rglob("*.py"):
        tree = ast.parse(py.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert node.module.split(".")[0] != "p4", (py, node.module)
            if isinstance(node, ast.Import):
                assert all(a.name.split(".")[0] != "p4" for a in node.names), py


def test_descriptor_extraction_handles_both_styles():
    old = "DESCRIPTOR = _descriptor.FileDescriptor(name='x.proto', serialized_pb=b'\\n\\x07x.proto')\n"
    new = "DESCRIPTOR = _descriptor_pool.Default().AddSerializedFile(b'\\n\\x07x.proto')\n"
    assert proto_build.serialized_descriptor_of(old, "old") == b"\n\x07x.proto"
    assert proto_build.serialized_descriptor_of(new, "new") == b"\n\x07x.proto"
    with pytest.raises(proto_build.ProtoBuildError, match="no embedded"):
        proto_build.serialized_descriptor_of("x = 1\n", "empty")
    with pytest.raises(proto_build.ProtoBuildError, match="not parseable"):
        proto_build.serialized_descriptor_of("def (:\n", "broken")


def test_missing_build_gives_clear_error(tmp_path):
    """In a fresh interpreter whose gen/ import fails, the error says how to build."""
    code = (
        "import sys, p4common.proto as p\n"
        "p._MODULES['p4info_pb2'] = 'p4common.proto.gen.nonexistent_pb2'\n"
        "try:\n    p.p4info_pb2\nexcept p.ProtoNotBuiltError as e:\n    print(e); sys.exit(0)\n"
        "sys.exit(1)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=proto_build.REPO_ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "python3 -m p4common.proto.build" in out.stdout


def test_bad_wheel_is_a_clear_error(tmp_path):
    bogus = tmp_path / "p4runtime-0-py3-none-any.whl"
    bogus.write_bytes(b"not a zip")
    with pytest.raises(proto_build.ProtoBuildError, match="not a wheel"):
        proto_build.descriptors_from_wheel(bogus)
    rc = proto_build.main(["--wheel", str(tmp_path / "missing.whl"), "--force"])
    assert rc == 1
