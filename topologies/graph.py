"""A topology as a networkx graph.

Nodes:
  * hosts    -- ``kind="host"``, ``ip`` ("10.0.1.1/24"), ``mac``, ``commands``
                (tutorial-style set-up commands run inside the host);
  * switches -- ``kind="switch"``, ``program`` (BMv2 JSON path), ``runtime``
                (parsed sN-runtime.json or None), ``cli_commands`` (extra
                simple_switch_CLI lines).
Edges (links) carry ``ports``: {node: number}.  For a switch the number is
its P4 port; for a host it is the interface index (0 -> eth0).

`Topology` only builds and checks the graph; `topologies.runner` brings it
up as network namespaces.
"""
from __future__ import annotations

from typing import Any, Iterator

import networkx as nx


class TopologyError(Exception):
    """A topology that is inconsistent (unknown node, port used twice...)."""


class Topology:
    def __init__(self, graph: nx.Graph | None = None):
        self.graph = graph if graph is not None else nx.Graph()

    # -- building
    def add_host(self, name: str, *, ip: str | None = None, mac: str | None = None,
                 commands: list[str] | None = None) -> None:
        self._new_node(name)
        self.graph.add_node(name, kind="host", ip=ip, mac=mac, commands=list(commands or []))

    def add_switch(self, name: str, *, program: str | None = None, runtime: dict | None = None,
                   cli_commands: list[str] | None = None) -> None:
        self._new_node(name)
        self.graph.add_node(name, kind="switch", program=program, runtime=runtime,
                            cli_commands=list(cli_commands or []))

    def add_link(self, a: str, b: str, *, port_a: int | None = None, port_b: int | None = None) -> None:
        """Connect a and b.  A port left as None is the node's next free one
        (hosts from 0, switches from 1)."""
        for n in (a, b):
            if n not in self.graph:
                raise TopologyError(f"link {a}-{b}: unknown node {n!r}")
        if a == b:
            raise TopologyError(f"link {a}-{b}: a node cannot link to itself")
        if self.graph.has_edge(a, b):
            raise TopologyError(f"link {a}-{b}: only one link between two nodes is supported")
        pa = self._port(a, port_a)
        pb = self._port(b, port_b)
        self.graph.add_edge(a, b, ports={a: pa, b: pb})

    def _new_node(self, name: str) -> None:
        if not name or not name.replace("_", "").isalnum() or len(name) > 8:
            raise TopologyError(f"node name {name!r}: use 1-8 letters/digits")
        if name in self.graph:
            raise TopologyError(f"node {name!r} defined twice")

    def _port(self, node: str, port: int | None) -> int:
        used = set(self.ports(node).keys())
        if port is None:
            port = 0 if self.kind(node) == "host" else 1
            while port in used:
                port += 1
        elif port in used:
            raise TopologyError(f"{node}: port {port} used twice")
        return port

    # -- queries
    def kind(self, node: str) -> str:
        return self.graph.nodes[node]["kind"]

    def node(self, name: str) -> dict[str, Any]:
        return self.graph.nodes[name]

    def hosts(self) -> list[str]:
        return sorted(n for n, d in self.graph.nodes(data=True) if d["kind"] == "host")

    def switches(self) -> list[str]:
        return sorted(n for n, d in self.graph.nodes(data=True) if d["kind"] == "switch")

    def ports(self, node: str) -> dict[int, str]:
        """{port number: neighbour} of a node."""
        return {d["ports"][node]: nb for nb, d in self.graph[node].items()}

    def links(self) -> Iterator[tuple[str, int, str, int]]:
        for a, b, d in self.graph.edges(data=True):
            yield a, d["ports"][a], b, d["ports"][b]

    def host_ip(self, host: str) -> str:
        """The host's address without the prefix length."""
        ip = self.node(host).get("ip")
        if not ip:
            raise TopologyError(f"host {host} has no ip")
        return ip.split("/")[0]

    def set_program(self, program: str) -> None:
        """Give every switch without a program this one."""
        for s in self.switches():
            if not self.node(s).get("program"):
                self.node(s)["program"] = program
