"""Client arbitration (P4Runtime spec, "Client Arbitration and Controller
Replication"): per (device, role) the connected client with the highest
election id is the primary; the others are backups.  Only the primary may
write, set the pipeline or send PacketOut.  A client without an election id
is always a backup.  Pure bookkeeping: the server calls it under its lock and
sends the notifications it returns.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import Code, P4RTError


@dataclass(eq=False)
class Client:
    """One StreamChannel."""
    stream: Any                      # stream.Outbox
    role: str = ""
    election_id: tuple[int, int] | None = None
    arbitrated: bool = False


@dataclass
class Arbiter:
    clients: list[Client] = field(default_factory=list)

    def primary(self, role: str) -> Client | None:
        best = None
        for c in self.clients:
            if c.role == role and c.election_id is not None and c.arbitrated:
                if best is None or c.election_id > best.election_id:
                    best = c
        return best

    def highest(self, role: str) -> tuple[int, int] | None:
        p = self.primary(role)
        return None if p is None else p.election_id

    def update(self, client: Client, role: str, election_id: tuple[int, int] | None) -> list[str]:
        """Apply a MasterArbitrationUpdate; returns the roles whose clients must
        be told the (possibly new) primary."""
        if election_id is not None:
            for c in self.clients:
                if c is not client and c.role == role and c.election_id == election_id:
                    raise P4RTError(Code.INVALID_ARGUMENT,
                                    f"election id {_fmt(election_id)} is used by another client of this role")
        if client.arbitrated and client.role != role:
            raise P4RTError(Code.FAILED_PRECONDITION, "a stream cannot change its role")
        old_role = client.role
        client.role, client.election_id, client.arbitrated = role, election_id, True
        if client not in self.clients:
            self.clients.append(client)
        return sorted({old_role, role})

    def remove(self, client: Client) -> str | None:
        if client in self.clients:
            self.clients.remove(client)
            return client.role
        return None

    def check_primary(self, role: str, election_id: tuple[int, int] | None, what: str) -> None:
        """PERMISSION_DENIED unless `election_id` is the primary's of `role`."""
        p = self.primary(role)
        if p is None or election_id is None or p.election_id != election_id:
            raise P4RTError(Code.PERMISSION_DENIED,
                            f"{what}: not the primary client (election id "
                            f"{_fmt(election_id)}; primary {_fmt(p.election_id) if p else 'none'})")

    def role_clients(self, role: str) -> list[Client]:
        return [c for c in self.clients if c.role == role]


def _fmt(eid: tuple[int, int] | None) -> str:
    if eid is None:
        return "none"
    return str((eid[0] << 64) | eid[1])
