"""P4Runtime (p4.v1.P4Runtime) gRPC server for p4sw.

Modules: ``errors`` (status codes, P4RTError), ``translate`` (P4Runtime entities <->
Switch API, one ``Pipeline`` per forwarding config), ``arbitration`` (election ids,
roles), ``stream`` (StreamChannel: packet I/O, digests, idle-timeout notifications),
``host`` (runs control-plane work on the data-path thread), ``server`` (the gRPC
service, several devices per server), ``glue`` (``p4sw --grpc-server-addr``).
Contracts and chosen semantics: docs/p4sw-internals.md, "P4Runtime server".

Everything that touches a Switch runs on the thread that runs the packet loop (see
``host.SwitchHost.call``), so the data path needs no lock.
"""
