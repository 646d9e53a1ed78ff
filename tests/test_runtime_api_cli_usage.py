"""The member/group CLI commands exist twice (act_prof_* and table_indirect_*)
built from one helper: pin each one's usage text and argument checks."""
from __future__ import annotations

import pytest

from p4switch.errors import RuntimeApiError
from p4switch.runtime_api import RuntimeApi

from test_runtime_api import make_switch

USAGES = {
    "create_member": "{owner} <action_name> [action parameters]",
    "modify_member": "{owner} <action_name> <member_handle> [action parameters]",
    "delete_member": "{owner} <member handle>",
    "create_group": "{owner}",
    "delete_group": "{owner} <group handle>",
    "add_member_to_group": "{owner} <member handle> <group handle>",
    "remove_member_from_group": "{owner} <member handle> <group handle>",
}


@pytest.mark.parametrize("prefix,owner", [("act_prof", "<action profile name>"),
                                          ("table_indirect", "<table name>")])
@pytest.mark.parametrize("op", sorted(USAGES))
def test_member_command_usage(prefix, owner, op):
    api = RuntimeApi(make_switch())
    with pytest.raises(RuntimeApiError) as ei:
        api.run_command(f"{prefix}_{op}")
    assert str(ei.value) == f"usage: {prefix}_{op} {USAGES[op].format(owner=owner)}"


@pytest.mark.parametrize("cmd", ["act_prof_create_group sel extra",
                                 "table_indirect_create_group ecmp extra"])
def test_create_group_takes_one_argument(cmd):
    with pytest.raises(RuntimeApiError, match="usage: "):
        RuntimeApi(make_switch()).run_command(cmd)


@pytest.mark.parametrize("entry,text", [(7, "0x7"), ((5,), "0x5"), ((5, None), "0x5"),
                                        ((5, 0xFF), "0x5&&&0xff"), ("x", "x")])
def test_pvs_get_listing_format(entry, text):
    from p4switch.runtime_api import _fmt_pvs
    assert _fmt_pvs(entry) == text
