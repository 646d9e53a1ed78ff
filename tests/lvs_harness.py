"""The p4lvs controller over real P4Runtime in this process, for the tests:
a p4sw P4Runtime server on memory ports with lvs.p4 pushed, and the daemon's
Controller installed from a configuration text and running."""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from runtime import constants as K
from runtime.artifacts import compile_lvs
from runtime.config import parse_config
from runtime.daemon import Controller
from runtime.p4rt import P4RuntimeClient


def wait_sent(port: Any, n: int = 1, timeout: float = 5.0) -> list[bytes]:
    """The frames `port` sent, once there are `n` of them or `timeout` is up."""
    end = time.monotonic() + timeout
    while len(port.sent) < n and time.monotonic() < end:
        time.sleep(0.005)
    return port.take_sent()


@contextmanager
def running_controller(tmp_path: Path, config_text: str,
                       ports: list[int]) -> Iterator[tuple[Controller, dict, Path]]:
    """(controller, wire ports, tmp_path) while the controller runs; stops the
    controller, client, server and host afterwards, also when setup fails."""
    from p4switch.p4runtime.host import memory_host
    from p4switch.p4runtime.server import P4RuntimeServer
    art = compile_lvs(tmp_path / "build")
    server = P4RuntimeServer("127.0.0.1:0")
    host, wire = memory_host(ports, K.CPU_PORT)
    server.add_device(0, host)
    host.start()
    server.start()
    client = P4RuntimeClient(f"127.0.0.1:{server.port}")
    ctl = th = None
    try:
        client.connect()
        client.set_pipeline(art.json, art.p4info)
        ctl = Controller(parse_config(config_text), client)
        ctl.install()
        th = threading.Thread(target=ctl.run, daemon=True)
        th.start()
        yield ctl, wire, tmp_path
    finally:
        if ctl is not None:
            ctl.stop()
        if th is not None:
            th.join(2)
        client.close()
        server.stop()
        host.stop()
        host.close()
        host.loop.close()
