"""Packet replication engine and clone sessions (simple_switch semantics)."""
import pytest

from p4switch.errors import RuntimeApiError
from p4switch.pre import CloneSessions, Pre


def test_replicate_in_bmv2_order():
    pre = Pre()
    n0 = pre.mc_node_create(5, [3, 0, 3])        # duplicate port collapses, ports ascending
    n1 = pre.mc_node_create(10, [7])
    assert (n0, n1) == (0, 1)
    pre.mc_mgrp_create(1113)
    assert pre.replicate(1113) == []
    pre.mc_node_associate(1113, n1)
    pre.mc_node_associate(1113, n0)
    # nodes in association order, ports ascending within a node
    assert pre.replicate(1113) == [(10, 7), (5, 0), (5, 3)]
    pre.mc_node_dissociate(1113, n1)
    assert pre.replicate(1113) == [(5, 0), (5, 3)]
    pre.mc_node_update(n0, [4, 2])
    assert pre.replicate(1113) == [(5, 2), (5, 4)]
    assert pre.replicate(999) == []              # unknown group: no copies


def test_node_handles_and_errors():
    pre = Pre()
    hs = [pre.mc_node_create(i, [i]) for i in range(3)]
    assert hs == [0, 1, 2]
    pre.mc_node_destroy(1)
    assert pre.mc_node_create(9, [1]) == 1       # lowest free handle
    pre.mc_mgrp_create(1)
    pre.mc_mgrp_create(2)
    pre.mc_node_associate(1, 0)
    with pytest.raises(RuntimeApiError, match="already associated"):
        pre.mc_node_associate(2, 0)
    with pytest.raises(RuntimeApiError, match="not associated"):
        pre.mc_node_dissociate(2, 0)
    with pytest.raises(RuntimeApiError, match="handle"):
        pre.mc_node_associate(1, 42)
    with pytest.raises(RuntimeApiError, match="does not exist"):
        pre.mc_node_associate(77, 1)
    with pytest.raises(RuntimeApiError):
        pre.mc_node_create(-1, [1])
    with pytest.raises(RuntimeApiError):
        pre.mc_node_create(0, ["x"])
    # destroying an associated node removes it from its group
    pre.mc_node_destroy(0)
    assert pre.replicate(1) == []
    # destroying a group frees its nodes for another group
    pre.mc_node_associate(1, 2)
    pre.mc_mgrp_destroy(1)
    pre.mc_node_associate(2, 2)
    assert pre.replicate(2) == [(2, 2)]
    assert "mgrp(2)" in pre.dump()


def test_lag_replication_picks_bmv2_member():
    pre = Pre()
    pre.mc_set_lag_membership(0, [4, 5, 6])
    n = pre.mc_node_create(1, [1], lags=[0])
    pre.mc_mgrp_create(3)
    pre.mc_node_associate(3, n)
    # BMv2 LAG hash is 0xFF: member (0xFF % 3) = 0 -> port 4
    assert pre.replicate(3) == [(1, 1), (1, 4)]
    pre.mc_set_lag_membership(0, [4, 5])
    assert pre.replicate(3) == [(1, 1), (1, 5)]    # 0xFF % 2 = 1


def test_clone_sessions():
    cs = CloneSessions()
    assert cs.lookup(5) is None
    cs.add(5, port=7)
    assert (cs.get(5).port, cs.get(5).mgrp) == (7, None)
    assert str(cs.get(5)) == "MirroringSessionConfig(mgid=None, port=7)"
    cs.add(5, mgrp=22, truncate=64)
    assert (cs.get(5).port, cs.get(5).mgrp, cs.get(5).truncate) == (None, 22, 64)
    cs.delete(5)
    with pytest.raises(RuntimeApiError, match="SESSION_NOT_FOUND"):
        cs.get(5)
    with pytest.raises(RuntimeApiError, match="SESSION_NOT_FOUND"):
        cs.delete(5)
    with pytest.raises(RuntimeApiError):
        cs.add(32768, port=1)
    with pytest.raises(RuntimeApiError):
        cs.add(1)


def test_unknown_nodes_and_groups_carry_bmv2_codes():
    """simple_pre.cpp: an unknown L1 handle is INVALID_L1_HANDLE (checked first),
    an unknown group INVALID_MGRP_HANDLE, a wrong association ERROR."""
    from p4switch.pre import PreError
    pre = Pre()
    for call in (lambda: pre.mc_node_destroy(7), lambda: pre.mc_node_update(7, [1]),
                 lambda: pre.mc_node_associate(99, 7), lambda: pre.mc_node_dissociate(99, 7)):
        with pytest.raises(PreError, match=r"invalid multicast node handle 7.*\(INVALID_L1_HANDLE\)") as ei:
            call()
        assert ei.value.code == "INVALID_L1_HANDLE" and isinstance(ei.value, RuntimeApiError)
    h = pre.mc_node_create(1, [2])
    for call in (lambda: pre.mc_node_associate(99, h), lambda: pre.mc_node_dissociate(99, h)):
        with pytest.raises(PreError, match=r"group 99 does not exist.*\(INVALID_MGRP_HANDLE\)") as ei:
            call()
        assert ei.value.code == "INVALID_MGRP_HANDLE"
    pre.mc_mgrp_create(1)
    with pytest.raises(PreError, match=r"mc_node_dissociate: .*not associated.*\(ERROR\)"):
        pre.mc_node_dissociate(1, h)
    # BMv2's mc_mgrp_destroy returns SUCCESS for an unknown group: a no-op
    pre.mc_mgrp_destroy(12345)
    assert pre.groups == {1: []}
    with pytest.raises(RuntimeApiError):
        pre.mc_mgrp_destroy(-1)
