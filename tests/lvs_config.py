"""One builder for the p4lvs TOML configurations the tests feed the daemon
and parse_config: a single "web" service behind one interface, the shape
runtime/config.py documents. Tests that assert line numbers rely on the
layout: one key a line, no blank lines, sections in the order below.
"""
from __future__ import annotations

#: (ip, port, weight) of each real server of the default web service
Server = tuple[str, int, int]


def _toml(value) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return str(value)


def web_config(*, workers: int = 2, route: bool = True,
               addresses: tuple[str, ...] = ("10.0.2.100",),
               port_range: tuple[int, int] = (5000, 65535),
               servers: tuple[Server, ...] = (("10.0.2.11", 8000, 3),)) -> str:
    """The configuration text: [global] workers, interface port 1
    (10.0.1.1), optionally a route to 10.0.1.0/24, [local], then service
    "web" (10.0.0.100:80/tcp) with `servers`."""
    lines = ["[global]", f"workers = {workers}",
             "[[interface]]", "port = 1", 'mac = "02:00:00:00:00:01"', 'ip = "10.0.1.1"']
    if route:
        lines += ["[[route]]", 'prefix = "10.0.1.0/24"', "port = 1",
                  'next_hop_mac = "02:00:00:00:01:02"']
    lines += ["[local]", f"addresses = {_toml(list(addresses))}",
              f"port_range = {_toml(list(port_range))}",
              "[[service]]", 'name = "web"', 'vip = "10.0.0.100"', "port = 80", 'protocol = "tcp"']
    for ip, port, weight in servers:
        lines += ["[[service.server]]", f'ip = "{ip}"', f"port = {port}", f"weight = {weight}"]
    return "\n".join(lines) + "\n"
