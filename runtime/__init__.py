"""p4lvs: the controller daemon of the LVS-style FULLNAT load balancer (p4src/lvs.p4).

Module map (see docs/design-sessions.md):
  config     TOML -> validated, typed Config (line-located errors)
  constants  numbers shared with p4src/include/defines.p4 (checked by a test)
  checksum   one's complement deltas precomputed for the session entries
  scheduler  real-server selection: smooth weighted round robin, Maglev
  pool       local address/port pool, partitioned per worker
  entries    what to write: Config and sessions -> table-entry intents (names only)
  sessions   the session manager: packet-in -> two entries; idle timeouts; draining
  p4rt       P4Runtime client (grpcio + p4common.proto), P4Info-driven encoding
  requirements  the P4 objects the daemon uses, checked against a P4Info before any push
  writers    the same intents written to an in-process p4sw (tests)
  daemon     the running controller; control socket for the operator commands
  cli        the `p4lvs` command
"""
