"""Drive a P4Runtime server with p4runtime-shell, as its README shows a user.
Run with the .venv-p4rs python:  p4rs_basic.py ADDR DEVICE_ID SHARED_DIR
Prints one "ok <step>" line per step; any failure exits non-zero."""
import sys

import p4runtime_sh.shell as sh
from p4runtime_sh.p4runtime import P4RuntimeWriteException

addr, dev, shared = sys.argv[1], int(sys.argv[2]), sys.argv[3]
d = f"{shared}/conformance/bmv2-testdata/simple_switch_grpc"


def ok(step):
    print("ok", step, flush=True)


sh.setup(device_id=dev, grpc_addr=addr, election_id=(0, 1),
         config=sh.FwdPipeConfig(f"{d}/ternary.proto.txt", f"{d}/ternary.json"))
ok("setup")
te = sh.TableEntry("ingress.ter")(action="ingress.send_1")
te.match["h.hdr.f1"] = "0x0001&&&0x00ff"
te.priority = 10
te.insert()
te2 = sh.TableEntry("ingress.ter")(action="ingress.send_2")
te2.match["h.hdr.f1"] = "0x0002&&&0x00ff"
te2.priority = 20
te2.insert()
ok("insert ternary")
got = list(sh.TableEntry("ingress.ter").read())
assert len(got) == 2, got
assert sorted(e.priority for e in got) == [10, 20]
ok("read wildcard")
te.action = sh.Action("ingress.send_2")
te.modify()
got = [e for e in sh.TableEntry("ingress.ter").read() if e.priority == 10]
assert got[0].action.action_name == "ingress.send_2", got[0]
ok("modify")
try:
    te2.insert()
    raise SystemExit("duplicate insert accepted")
except P4RuntimeWriteException as e:
    assert "ALREADY_EXISTS" in str(e), str(e)
ok("duplicate -> ALREADY_EXISTS")
te.delete()
te2.delete()
assert list(sh.TableEntry("ingress.ter").read()) == []
ok("delete")
mg = sh.MulticastGroupEntry(5).add(1, 1).add(2, 1)
mg.insert()
got = list(sh.MulticastGroupEntry(5).read())
assert len(got) == 1 and str(got[0]).count("egress_port") == 2, str(got[0])
mg.delete()
ok("multicast group")
cs = sh.CloneSessionEntry(7).add(3, 0)
cs.insert()
assert len(list(sh.CloneSessionEntry(7).read())) == 1
cs.delete()
ok("clone session")
sh.teardown()

# counters and meters on their own programs
sh.setup(device_id=dev, grpc_addr=addr, election_id=(0, 1),
         config=sh.FwdPipeConfig(f"{d}/counter.proto.txt", f"{d}/counter.json"))
te = sh.TableEntry("t_redirect")(action="port_redirect")
te.match["sm.packet_length"] = "64"
te.insert()
dc = sh.DirectCounterEntry("cntr")
dc.table_entry.match["sm.packet_length"] = "64"
dc.packet_count = 3
dc.byte_count = 192
dc.modify()
got = list(sh.DirectCounterEntry("cntr").read())
assert got[0].packet_count == 3 and got[0].byte_count == 192, got
ok("direct counter")
sh.teardown()
sh.setup(device_id=dev, grpc_addr=addr, election_id=(0, 1),
         config=sh.FwdPipeConfig(f"{d}/action_profile.proto.txt", f"{d}/action_profile.json"))
m = sh.ActionProfileMember("ActProfWS")(member_id=1, action="send")
m.action["eg_port"] = "3"
m.insert()
g = sh.ActionProfileGroup("ActProfWS")(group_id=1).add(1)
g.insert()
te = sh.TableEntry("IndirectWS")
te.match["h.hdr.in_"] = "0x1"
te.group_id = 1
te.insert()
assert len(list(sh.TableEntry("IndirectWS").read())) == 1
assert len(list(sh.ActionProfileGroup("ActProfWS").read())) == 1
te.delete()
g.delete()
m.delete()
ok("action profile member/group")
sh.teardown()
print("ALL OK")
