"""The `p4sw --grpc-server-addr` wiring (kept here so cli.py needs three lines)."""
from __future__ import annotations

from typing import Any

from p4switch.ports import CpuPort


def start_grpc(args: Any, dp: Any, loop: Any, load_switch: Any) -> Any:
    """Serve P4Runtime for device ``args.device_id`` on ``args.grpc_server_addr``.

    `load_switch(json_bytes, source, args)` is the CLI's own loader, so a pipeline set
    over P4Runtime gets the same drop port, CPU port and logging as one given on the
    command line.  Returns the server (``.stop()`` on exit)."""
    from .host import SwitchHost
    from .server import P4RuntimeServer

    from p4switch.cli import CliError

    addr = normalise_addr(args.grpc_server_addr)
    cpu = next((p for p in loop.ports.values() if isinstance(p, CpuPort)), None)
    host = SwitchHost(loop, dp, lambda js: load_switch(js, "p4_device_config", args), cpu)
    host.loop_thread_id = None  # the loop runs on the main thread once serve() starts it
    try:
        server = P4RuntimeServer(addr)
    except (OSError, RuntimeError) as e:
        host.close()
        raise CliError(f"--grpc-server-addr {args.grpc_server_addr}: cannot listen: {e}") from None
    server.add_device(args.device_id, host)
    server.start()
    where = addr if addr.startswith("unix:") else f"{addr.rsplit(':', 1)[0]}:{server.port}"
    print(f"P4Runtime server listening on {where} (device id {args.device_id})", flush=True)
    return server


def normalise_addr(addr: str) -> str:
    """``PORT`` -> ``127.0.0.1:PORT`` (loopback unless a host is given); ``HOST:PORT`` as is."""
    a = addr.strip()
    if a.isdigit():
        return f"127.0.0.1:{a}"
    return a
