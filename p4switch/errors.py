"""Exception types of the switch, each carrying the context a user needs."""
from __future__ import annotations

import enum


class SwitchError(Exception):
    """Base class of every error the switch reports to a user."""


class JsonLoadError(SwitchError):
    """A BMv2 JSON that is malformed or uses something unsupported.

    `path` locates the offending object, e.g. ``pipelines[0].tables[3].key[1]``.
    """

    def __init__(self, path: str, message: str):
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}" if path else message)


class TableErrorCode(enum.Enum):
    # Mirrors BMv2's MatchErrorCode where they mean the same.
    INVALID_TABLE_NAME = "INVALID_TABLE_NAME"
    INVALID_ACTION_NAME = "INVALID_ACTION_NAME"
    INVALID_HANDLE = "INVALID_HANDLE"
    DUPLICATE_ENTRY = "DUPLICATE_ENTRY"
    TABLE_FULL = "TABLE_FULL"
    BAD_MATCH_KEY = "BAD_MATCH_KEY"
    BAD_ACTION_DATA = "BAD_ACTION_DATA"
    WRONG_TABLE_TYPE = "WRONG_TABLE_TYPE"
    CONST_TABLE = "CONST_TABLE"
    INVALID_MEMBER = "INVALID_MEMBER"
    INVALID_GROUP = "INVALID_GROUP"
    MEMBER_IN_USE = "MEMBER_IN_USE"
    GROUP_IN_USE = "GROUP_IN_USE"
    EMPTY_GROUP = "EMPTY_GROUP"


class TableError(SwitchError):
    """A control-plane operation on a table or action profile that cannot be done."""

    def __init__(self, code: TableErrorCode, table: str, message: str):
        self.code = code
        self.table = table
        super().__init__(f"{table}: {message} ({code.value})")


class RuntimeApiError(SwitchError):
    """A runtime (simple_switch_CLI-like) operation with bad arguments: unknown
    name, index out of range, wrong number of parameters."""


class PipelineError(SwitchError):
    """A fault while processing one packet that is not a P4-defined outcome
    (e.g. an assert() failure). The packet is dropped and the error counted."""
