"""Packet replication engine (simple_switch's ``SimplePreLAG``) and clone sessions.

Multicast model (BMv2 ``src/bm_sim/simple_pre.cpp``, ``simple_pre_lag.cpp``):

* a group (``mgrp``) is named by its id and holds an ordered list of nodes;
* a node (L1 handle) has one ``rid`` and a set of ports (and LAGs); node
  handles are the lowest free numbers, so 0, 1, 2, ... in creation order;
* a node belongs to at most one group at a time;
* ``replicate(grp)`` walks the group's nodes in association order and, per
  node, its ports in ascending order, then its LAGs (one member port per LAG:
  the ``(0xFF % n)``-th member, BMv2's fixed LAG hash).

Clone (mirroring) sessions map a session id to a port or a multicast group,
with an optional truncation length (``mirroring_add``/``mirroring_add_mc``).
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from .errors import RuntimeApiError

__all__ = ["Pre", "PreError", "McNode", "CloneSession", "CloneSessions", "MAX_CLONE_SESSIONS"]

MAX_CLONE_SESSIONS = 32768
_LAG_HASH = 0xFF


class PreError(RuntimeApiError):
    """A refused multicast operation, with BMv2's ``McReturnCode`` name
    (``INVALID_L1_HANDLE``, ``INVALID_MGRP_HANDLE``, ``ERROR``) as `code`, so
    a CLI can print it as simple_switch_CLI does ("Invalid PRE operation
    (CODE)").  A RuntimeApiError, so existing handlers still catch it."""

    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(f"{message} ({code})")


def _check_id(what: str, v, limit: int | None = None) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or v < 0 or (limit is not None and v >= limit):
        rng = f" (0..{limit - 1})" if limit is not None else ""
        raise RuntimeApiError(f"invalid {what} {v!r}{rng}")
    return v


@dataclass
class McNode:
    handle: int
    rid: int
    ports: list[int]            # ascending, no duplicates
    lags: list[int] = field(default_factory=list)
    group: int | None = None    # the group it is associated with


class Pre:
    """Multicast groups and nodes; all operations raise RuntimeApiError on misuse."""

    def __init__(self, max_port: int = 1 << 16):
        self.groups: dict[int, list[int]] = {}       # mgrp -> node handles, association order
        self.nodes: dict[int, McNode] = {}
        self.lags: dict[int, list[int]] = {}          # lag index -> member ports (ascending)
        self._free: list[int] = []
        self._next = 0
        self._max_port = max_port

    def _ports(self, ports) -> list[int]:
        out = set()
        for p in ports:
            out.add(_check_id("port", p, self._max_port))
        return sorted(out)

    def _node(self, handle, op: str) -> McNode:
        n = self.nodes.get(handle)
        if n is None:
            raise PreError("INVALID_L1_HANDLE", f"{op}: invalid multicast node handle {handle!r} "
                                                 f"(no such node; mc_node_create returns the handles)")
        return n

    def _group(self, grp, op: str) -> list[int]:
        g = self.groups.get(grp)
        if g is None:
            raise PreError("INVALID_MGRP_HANDLE", f"{op}: multicast group {grp!r} does not exist "
                                                   f"(create it with mc_mgrp_create)")
        return g

    def mc_mgrp_create(self, grp: int) -> int:
        """Create group `grp` (creating an existing group keeps it, as BMv2 does)."""
        _check_id("multicast group id", grp)
        self.groups.setdefault(grp, [])
        return grp

    def mc_mgrp_destroy(self, grp: int) -> None:
        """BMv2 (``McSimplePre::mc_mgrp_destroy``) erases the group and returns
        SUCCESS even when it does not exist (it has no INVALID_MGID code), so
        destroying an unknown group is a no-op here too.  Unlike BMv2, the
        group's nodes become unassociated (BMv2 leaves them marked associated
        to a group that is gone, so they could never be re-associated)."""
        _check_id("multicast group id", grp)
        nodes = self.groups.pop(grp, None)
        for h in nodes or ():
            n = self.nodes.get(h)
            if n is not None:
                n.group = None

    def mc_node_create(self, rid: int, ports, lags=()) -> int:
        _check_id("rid", rid, 1 << 16)
        ports = self._ports(ports)
        lag_list = sorted({_check_id("lag index", lag) for lag in lags})
        if self._free:
            h = heapq.heappop(self._free)
        else:
            h = self._next
            self._next += 1
        self.nodes[h] = McNode(h, rid, ports, lag_list)
        return h

    def mc_node_update(self, handle: int, ports, lags=None) -> None:
        n = self._node(handle, "mc_node_update")
        n.ports = self._ports(ports)
        if lags is not None:
            n.lags = sorted({_check_id("lag index", lag) for lag in lags})

    def mc_node_destroy(self, handle: int) -> None:
        n = self._node(handle, "mc_node_destroy")
        if n.group is not None and n.group in self.groups:
            self.groups[n.group].remove(handle)
        del self.nodes[handle]
        heapq.heappush(self._free, handle)

    def mc_node_associate(self, grp: int, handle: int) -> None:
        n = self._node(handle, "mc_node_associate")
        g = self._group(grp, "mc_node_associate")
        if n.group is not None:
            raise PreError("ERROR", f"mc_node_associate: multicast node {handle} is already associated "
                                    f"with group {n.group}")
        g.append(handle)
        n.group = grp

    def mc_node_dissociate(self, grp: int, handle: int) -> None:
        n = self._node(handle, "mc_node_dissociate")
        g = self._group(grp, "mc_node_dissociate")
        if n.group != grp:
            raise PreError("ERROR", f"mc_node_dissociate: multicast node {handle} is not associated "
                                    f"with group {grp}")
        g.remove(handle)
        n.group = None

    def mc_set_lag_membership(self, lag: int, ports) -> None:
        _check_id("lag index", lag)
        self.lags[lag] = self._ports(ports)

    def replicate(self, grp: int) -> list[tuple[int, int]]:
        """(rid, egress_port) copies for group `grp`, in BMv2 order; [] if unknown."""
        g = self.groups.get(grp)
        if not g:
            return []
        out = []
        nodes = self.nodes
        for h in g:
            n = nodes[h]
            rid = n.rid
            for p in n.ports:
                out.append((rid, p))
            for lag in n.lags:
                members = self.lags.get(lag)
                if members:
                    out.append((rid, members[_LAG_HASH % len(members)]))
        return out

    def dump(self) -> str:
        """``mc_dump`` text."""
        lines = ["==========", "MC ENTRIES"]
        for grp in sorted(self.groups):
            lines.append("**********")
            lines.append(f"mgrp({grp})")
            for h in self.groups[grp]:
                n = self.nodes[h]
                lines.append(f"  -> (L1h={h}, rid={n.rid}) -> (ports=[{', '.join(map(str, n.ports))}], "
                             f"lags=[{', '.join(map(str, n.lags))}])")
        lines.append("==========")
        lines.append("LAGS")
        for lag in sorted(self.lags):
            lines.append(f"lag({lag}) -> ports=[{', '.join(map(str, self.lags[lag]))}]")
        lines.append("==========")
        return "\n".join(lines)


@dataclass
class CloneSession:
    session: int
    port: int | None = None
    mgrp: int | None = None
    truncate: int = 0           # 0 = whole packet

    def __str__(self) -> str:
        return f"MirroringSessionConfig(mgid={self.mgrp}, port={self.port})"


class CloneSessions:
    """simple_switch mirroring sessions (ids 0..32767)."""

    def __init__(self):
        self.sessions: dict[int, CloneSession] = {}

    def add(self, session: int, port: int | None = None, mgrp: int | None = None,
            truncate: int = 0) -> None:
        _check_id("clone session id", session, MAX_CLONE_SESSIONS)
        if port is None and mgrp is None:
            raise RuntimeApiError(f"clone session {session}: give a port or a multicast group")
        if port is not None:
            _check_id("port", port)
        if mgrp is not None:
            _check_id("multicast group", mgrp)
        _check_id("truncation length", truncate)
        self.sessions[session] = CloneSession(session, port, mgrp, truncate)

    def delete(self, session: int) -> None:
        if self.sessions.pop(session, None) is None:
            raise RuntimeApiError(f"clone session {session} not found (SESSION_NOT_FOUND)")

    def get(self, session: int) -> CloneSession:
        """Control plane read; raises when the session is not configured."""
        s = self.sessions.get(session)
        if s is None:
            raise RuntimeApiError(f"clone session {session} not found (SESSION_NOT_FOUND)")
        return s

    def lookup(self, session: int) -> CloneSession | None:
        """Data path read: None for an unconfigured session (no clone is made)."""
        return self.sessions.get(session)
