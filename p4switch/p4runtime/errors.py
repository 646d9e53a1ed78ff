"""Status codes and the one exception type of the P4Runtime server.

Why one type: every check in the translator raises ``P4RTError(code, msg)`` and the
server turns it into a per-update ``p4.v1.Error`` (Write) or the RPC status (other
RPCs), so a bad request can never surface as a traceback.
"""
from __future__ import annotations

import enum

from p4switch.errors import RuntimeApiError, SwitchError, TableError, TableErrorCode


class Code(enum.IntEnum):
    """google.rpc.Code (the same numbers as grpc.StatusCode)."""
    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14


class P4RTError(Exception):
    """A request (or one update of a batch) that cannot be served."""

    def __init__(self, code: Code, message: str):
        self.code = Code(code)
        self.message = message
        super().__init__(f"{self.code.name}: {message}")


_TABLE_CODES = {
    TableErrorCode.INVALID_TABLE_NAME: Code.NOT_FOUND,
    TableErrorCode.INVALID_ACTION_NAME: Code.INVALID_ARGUMENT,
    TableErrorCode.INVALID_HANDLE: Code.NOT_FOUND,
    TableErrorCode.DUPLICATE_ENTRY: Code.ALREADY_EXISTS,
    TableErrorCode.TABLE_FULL: Code.RESOURCE_EXHAUSTED,
    TableErrorCode.BAD_MATCH_KEY: Code.INVALID_ARGUMENT,
    TableErrorCode.BAD_ACTION_DATA: Code.INVALID_ARGUMENT,
    TableErrorCode.WRONG_TABLE_TYPE: Code.INVALID_ARGUMENT,
    TableErrorCode.CONST_TABLE: Code.PERMISSION_DENIED,
    TableErrorCode.INVALID_MEMBER: Code.NOT_FOUND,
    TableErrorCode.INVALID_GROUP: Code.NOT_FOUND,
    TableErrorCode.MEMBER_IN_USE: Code.FAILED_PRECONDITION,
    TableErrorCode.GROUP_IN_USE: Code.FAILED_PRECONDITION,
    TableErrorCode.EMPTY_GROUP: Code.FAILED_PRECONDITION,
}


def from_switch_error(e: Exception) -> P4RTError:
    """Map a switch-side error onto the P4Runtime status the spec asks for."""
    if isinstance(e, P4RTError):
        return e
    if isinstance(e, TableError):
        return P4RTError(_TABLE_CODES.get(e.code, Code.INVALID_ARGUMENT), str(e))
    if isinstance(e, RuntimeApiError):
        return P4RTError(Code.INVALID_ARGUMENT, str(e))
    if isinstance(e, SwitchError):
        return P4RTError(Code.INVALID_ARGUMENT, str(e))
    return P4RTError(Code.INTERNAL, f"{type(e).__name__}: {e}")
