"""The per-packet machinery: packet context, parse value sets, digests, and the
traffic manager that runs parser -> ingress -> TM -> egress -> deparser in
simple_switch's order (clone, digest, resubmit, multicast, drop, unicast after
ingress; E2E clone, drop, deparse, recirculate after egress).
"""
from __future__ import annotations

import builtins
import time
from collections import Counter
from dataclasses import dataclass

from .errors import PipelineError, SwitchError

# standard_metadata.instance_type values (v1model / simple_switch)
PKT_NORMAL = 0
PKT_INGRESS_CLONE = 1
PKT_EGRESS_CLONE = 2
PKT_COALESCED = 3
PKT_RECIRC = 4
PKT_REPLICATION = 5
PKT_RESUBMIT = 6

MAX_LOOPS = 100          # resubmit + recirculate passes per injected packet

STD_FIELDS = ("ingress_port", "egress_spec", "egress_port", "instance_type", "packet_length",
              "enq_timestamp", "enq_qdepth", "deq_timedelta", "deq_qdepth",
              "ingress_global_timestamp", "egress_global_timestamp", "mcast_grp",
              "egress_rid", "checksum_error", "parser_error", "priority", "qid")


class PacketCtx:
    """Per-packet state outside the PHV (BMv2 keeps these in packet registers).

    Flags default to class attributes so that creating a context per packet only
    writes the three fields that always differ."""
    exit = False
    clone = None        # (session, field list id)
    resubmit = None     # field list id
    recirc = None       # field list id
    learn = None        # (receiver, learn list id)
    truncate = None
    tm = False          # set with any of the five above: the TM's common case is one test
    off = 0             # end of the parsed headers in buf
    err = 0             # parser error code

    def __init__(self, buf: bytes, length: int, ingress_len: int):
        self.buf = buf
        self.length = length     # packet length register (add/remove_header adjust it)
        self.ingress_len = ingress_len

    def payload(self) -> bytes:
        """The bytes after the parsed headers."""
        return self.buf[self.off:]

    def fresh_copy(self) -> PacketCtx:
        """A copy with cleared flags (BMv2 RegisterAccess::clear_all)."""
        k = PacketCtx(self.buf, self.length, self.ingress_len)
        k.off = self.off
        return k


class ParseValueSet:
    """A parser value set (P4 `value_set`), filled by the control plane.

    Values are in the compressed form (fields concatenated without padding),
    `bitwidth` bits wide; the parser matches its byte-padded key against them."""

    def __init__(self, name: str, bitwidth: int):
        self.name = name
        self.bitwidth = bitwidth
        self.values: list[tuple[int, int | None]] = []

    def add(self, value: int, mask: int | None = None) -> None:
        e = (int(value), None if mask is None else int(mask))
        if e not in self.values:
            self.values.append(e)

    def remove(self, value: int, mask: int | None = None) -> None:
        e = (int(value), None if mask is None else int(mask))
        if e in self.values:
            self.values.remove(e)

    def clear(self) -> None:
        self.values.clear()

    def __len__(self) -> int:
        return len(self.values)

    def match_padded(self, key: int, widths: tuple[int, ...], mask: int | None) -> bool:
        """Does the byte-padded transition key match a member (under `mask`,
        also byte-padded)?"""
        if not self.values:
            return False
        for v, vm in self.values:
            pv = _pad(v, widths)
            m = mask
            if vm is not None:
                pm = _pad(vm, widths)
                m = pm if m is None else (m & pm)
            if m is None:
                if pv == key:
                    return True
            elif (pv & m) == (key & m):
                return True
        return False


def _pad(v: int, widths: tuple[int, ...]) -> int:
    """Compressed value -> byte-padded concatenation (BMv2 do_padding)."""
    if len(widths) == 1:
        return v
    out = 0
    rest = sum(widths)
    for w in widths:
        rest -= w
        part = (v >> rest) & ((1 << w) - 1)
        out = (out << (((w + 7) // 8) * 8)) | part
    return out


@dataclass
class Digest:
    """One learn message (generate_digest / digest())."""
    receiver: int
    list_id: int
    name: str
    values: tuple[int, ...]
    fields: tuple[str, ...]


# An ingress job is a tuple (data, port, instance_type, preserved fields, length);
# an egress job a tuple (P, K, egress_port).


class Engine:
    """Packet processing over the generated functions. The Switch fills in
    the attributes listed in `_bind`."""

    _stats_c: Counter | None = None
    _pend: list | None = None       # [rx, tx] counted by the fused function, not yet in stats

    @property
    def stats(self) -> Counter:
        """The switch's counters (a Counter). The fused per-packet function
        counts rx/tx in a plain list (a Counter increment costs about three
        times as much); they are folded in whenever the Counter is read."""
        c = self._stats_c
        p = self._pend
        if p is not None and (p[0] or p[1]):
            c["rx"] += p[0]
            c["tx"] += p[1]
            p[0] = p[1] = 0
        return c

    @stats.setter
    def stats(self, value: Counter) -> None:
        self._stats_c = value

    def _bind(self, gen: dict, prog, drop_port: int, log):
        self._gen = gen
        self.drop_port = drop_port
        self._log = log
        self._parse = gen["parsers"].get("parser") or next(iter(gen["parsers"].values()), None)
        self._ingress = gen["pipelines"].get("ingress")
        self._egress = gen["pipelines"].get("egress")
        self._parse_full = gen["parse_full"]
        self._no_error = prog.errors.get("NoError", 0)
        self._emit = gen["emit"]
        self._template = list(prog.template)
        sm = {}
        for name in STD_FIELDS:
            f = None
            for cand in (f"standard_metadata.{name}", f"intrinsic_metadata.{name}",
                         f"queueing_metadata.{name}"):
                f = prog.find_field(cand)
                if f is not None:
                    break
            sm[name] = f
        self._std = sm
        self._slot = {k: (f.slot if f is not None else None) for k, f in sm.items()}
        self._meta_slots = [f.slot for h in prog.headers.values() if h.metadata for f in h.fields]
        self._field_lists = {fid: [f.slot for f in fl.fields] for fid, fl in prog.field_lists.items()}
        self._learn_lists = prog.learn_lists
        self._t0 = time.monotonic()
        es = sm["egress_spec"]
        self._es_mask = (1 << es.width) - 1 if es is not None else 0x1FF
        self._drop_m = drop_port & self._es_mask
        self._drop_p1 = drop_port + 1
        self._s_es = self._slot["egress_spec"]
        self._s_mg = self._slot["mcast_grp"]
        self._s_it = self._slot["instance_type"]
        if not isinstance(self._stats_c, Counter):
            self.stats = Counter()
        self._pend = [0, 0]
        self.digests: list[Digest] = []
        self._unobservable = self._find_unobservable(gen.get("source", ""), prog)
        self._init_ingress = self._make_init("ingress_port", "packet_length", "instance_type",
                                             "ingress_global_timestamp")
        self._init_egress = self._make_init("egress_port", "egress_spec", "packet_length",
                                            "egress_global_timestamp")
        self.fast_source = self._fast_source()
        # the fused function runs in the generated module's namespace (it
        # inlines generated code); the engine's names are added with a _ prefix
        ns = gen.get("globals", {})
        mine = {"_cnt": self._pend, "_new": object.__new__, "_tpl": self._template, "_Ctx": PacketCtx,
              "_mono": time.monotonic, "_t0": self._t0, "_parse_full": self._parse_full,
              "_count_parse": self._count_parse, "_ING": self._ingress, "_EG": self._egress,
              "_emit": self._emit, "_after_ingress": self._after_ingress,
              "_after_egress": self._after_egress, "_drain": self._drain, "_fault": self._fault,
              "PipelineError": PipelineError}
        clash = [k for k in mine if k in ns and ns[k] is not mine[k]]
        if clash:       # a code generator change would have to rename these
            raise SwitchError(f"internal error: engine names {clash} clash with generated code")
        ns.update(mine)
        code = compile(self.fast_source, "<p4sw-engine>", "exec")
        fn_code = next(c for c in code.co_consts if hasattr(c, "co_names"))
        missing = [nm for nm in fn_code.co_names
                   if nm.startswith(("calc_", "nd_", "ps_", "act_", "_")) and not nm.startswith("__")
                   and nm not in ns and not hasattr(builtins, nm)]
        if missing:     # generated code names a function that was never compiled
            raise SwitchError(f"internal error: fused function needs undefined {missing}")
        exec(code, ns)  # noqa: S102  (slot numbers and generated code only)
        # The instance attribute shadows the method: callers that capture
        # `sw.process_packet` get the fused function without a bound-method hop
        # (unless a subclass overrides process_packet: then that stays).
        self.fast_process = ns["process_packet"]
        if type(self).process_packet is Engine.process_packet:
            self.process_packet = self.fast_process

    @staticmethod
    def _phv_accesses(source: str) -> set[int] | None:
        """Every PHV slot generated code names (`P[12]`, `P[3:8]`), or None if
        some access has a computed index (stacks, header copies): then any
        slot may be touched."""
        import re
        # P handed to a runtime helper (stacks, varbit headers): slots not visible here
        if re.search(r"\b(_push|_pop|_extract_vl|_ser_vl)\(P\b", source):
            return None
        used: set[int] = set()
        for i in re.findall(r"P\[([^\]]*)\]", source):
            i = i.strip()
            if i.isdigit():
                used.add(int(i))
                continue
            lo, sep, hi = i.partition(":")
            if sep and lo.strip().isdigit() and hi.strip().isdigit():
                used.update(range(int(lo), int(hi)))
                continue
            return None
        return used

    @classmethod
    def _touches(cls, source: str, slots: set[int]) -> bool:
        """Whether code may access any of `slots`."""
        used = cls._phv_accesses(source)
        return used is None or bool(used & slots)

    @classmethod
    def _may_write(cls, source: str, slot: int) -> bool:
        """Whether generated code may store into PHV slot `slot` (conservative:
        any access to it, or any computed index)."""
        return cls._touches(source, {slot})

    def _find_unobservable(self, source: str, prog) -> set[int]:
        """Standard-metadata timestamp slots no generated code, field list or
        learn list reads: writing them per packet (a clock read each) can be
        skipped without any visible difference. Conservative: if any PHV
        access in the generated code has a computed index (stacks, header
        copies), nothing is skipped."""
        used = self._phv_accesses(source)
        if used is None:
            return set()
        for fl in prog.field_lists.values():
            used.update(f.slot for f in fl.fields)
        for ll in prog.learn_lists.values():
            used.update(f.slot for f in ll.fields)
        out = set()
        for name in ("ingress_global_timestamp", "egress_global_timestamp"):
            f = self._std.get(name)
            if f is not None and f.slot not in used:
                out.add(f.slot)
        return out

    def _pipeline_lines(self, L: list, name: str, start, start_name: str):
        """Run a pipeline in the fused function: its start node's code inline
        (one pass of a loop, leaving the next node in `node`), then the
        remaining nodes by call."""
        if start is None:
            return
        text = (self._gen.get("pipeline_start_text") or {}).get(name)
        pl_start = getattr(start, "__name__", None)
        if text is not None and pl_start is not None:
            L.append("        while True:     # one pass: the start node, inline")
            L += ["            " + ln for ln in text.splitlines() if ln.strip()]
        else:
            L.append(f"        node = {start_name}")
        L.append("        while node is not None:")
        L.append("            node = node(P, K)")

    def _fast_source(self) -> str:
        """Source of the fused per-packet function: ingress metadata, parser,
        ingress, the traffic manager's common case (unicast: no clone, digest,
        resubmit, recirculation, truncation, multicast or drop -- one test of
        `K.tm`), egress and deparser, with every slot number and constant
        inlined. Anything else continues in the general traffic manager
        (`_after_ingress` / `_after_egress` / `_drain`), exactly as before."""
        std = self._std
        src = self._gen.get("source", "")
        L = ["def process_packet(port, data):",
             "    if type(data) is not bytes:",
             "        data = bytes(data)",
             "    _cnt[0] += 1",
             "    plen = len(data)",
             "    P = _tpl[:]",
             "    K = _new(_Ctx)          # PacketCtx(data, plen, plen) without the __init__ frame",
             "    K.buf = data",
             "    K.length = plen",
             "    K.ingress_len = plen",
             "    try:"]

        def put(ind, name, value_code, skip_zero=False):
            f = std.get(name)
            if f is None or f.slot in self._unobservable:
                return
            if skip_zero and self._template[f.slot] == 0:
                return
            m = (1 << f.width) - 1
            code = str(int(value_code) & m) if value_code.isdigit() else f"{value_code} & {m}"
            L.append(" " * ind + f"P[{f.slot}] = {code}")

        put(8, "ingress_port", "port")
        put(8, "packet_length", "plen")
        put(8, "ingress_global_timestamp", "int((_mono() - _t0) * 1e6)")
        put(8, "instance_type", str(PKT_NORMAL), skip_zero=True)
        ptext = self._gen.get("parse_full_text")
        L.append("        b = data")
        if ptext is not None:       # the parser's code inline (one call fewer)
            L += ["        " + ln for ln in ptext.splitlines() if ln.strip()]
            L.append("        if bad:")
        else:
            L.append("        if _parse_full(P, K, data):")
        L.append("            _count_parse(K, P)")
        self._pipeline_lines(L, "ingress", self._ingress, "_ING")
        if "K.exit = True" in src:
            L.append("        K.exit = False")
        L.append(f"        es = P[{self._s_es}]")
        mg = f" or P[{self._s_mg}]" if self._s_mg is not None else ""
        L.append(f"        if K.tm{mg} or es == {self._drop_m}:")
        L.append("            inq = []")
        L.append("            egq = []")
        L.append(f"            _after_ingress(P, K, (data, port, {PKT_NORMAL}, None, plen), inq, egq)")
        L.append("            return _drain(inq, egq, [])")
        if self._s_it is not None and (self._may_write(src, self._s_it)
                                       or self._template[self._s_it] != PKT_NORMAL):
            L.append(f"        P[{self._s_it}] = {PKT_NORMAL}")
        L += ["    except PipelineError as e:",
              "        _fault('ingress', e)",
              "        return []",
              "    except Exception as e:  # an internal fault must not kill the switch",
              "        _fault('ingress', PipelineError(f'{type(e).__name__}: {e}'))",
              "        return []",
              "    try:"]
        etext = self._gen.get("emit_text")
        eg_names = ("egress_port", "egress_spec", "packet_length", "egress_global_timestamp")
        eg_slots = {std[nm].slot for nm in eg_names if std.get(nm) is not None}
        if self._egress is None and etext is not None and not self._touches(etext, eg_slots):
            pass    # no egress code and the deparser reads none of them: unobservable
        else:
            put(8, "egress_port", "es")
            put(8, "egress_spec", str(self._drop_p1))
            put(8, "packet_length", "K.length")
            put(8, "egress_global_timestamp", "int((_mono() - _t0) * 1e6)")
        self._pipeline_lines(L, "egress", self._egress, "_EG")
        if self._egress is not None or (self._drop_p1 & self._es_mask) == self._drop_m:
            L.append(f"        if not K.tm and P[{self._s_es}] != {self._drop_m}:")
        else:   # no egress code: nothing can set a flag or egress_spec
            L.append("        if True:")
        L.append("            _cnt[1] += 1")
        if etext is not None:       # checksum update + deparser inline
            L += ["            " + ln for ln in etext.splitlines() if ln.strip()]
        else:
            L.append("            return [(es, _emit(P, K))]")
        L += [

              "        inq = []",
              "        egq = []",
              "        outs = []",
              "        _after_egress(P, K, es, inq, egq, outs)",
              "    except PipelineError as e:",
              "        _fault('egress', e)",
              "        return []",
              "    except Exception as e:",
              "        _fault('egress', PipelineError(f'{type(e).__name__}: {e}'))",
              "        return []",
              "    return _drain(inq, egq, outs)"]
        return "\n".join(L) + "\n"

    def _make_init(self, *names):
        """A specialised function writing the given standard metadata fields
        (absent fields are skipped): f(P, v1, v2, ..., timestamp)."""
        args = ", ".join(f"v{i}" for i in range(len(names)))
        lines = [f"def init(P, {args}):"]
        for i, n in enumerate(names):
            f = self._std.get(n)
            if f is None or f.slot in self._unobservable:
                continue
            if n.endswith("timestamp"):
                lines.append(f"    P[{f.slot}] = int((_mono() - _t0) * 1e6) & {(1 << f.width) - 1}")
            else:
                lines.append(f"    P[{f.slot}] = v{i} & {(1 << f.width) - 1}")
        lines.append("    return P")
        ns = {"_mono": time.monotonic, "_t0": self._t0}
        exec("\n".join(lines) + "\n", ns)  # noqa: S102  (generated from slot numbers only)
        return ns["init"]

    # ---------------------------------------------------------------- helpers
    def _set(self, P: list, name: str, value: int):
        s = self._slot.get(name)
        if s is not None:
            f = self._std[name]
            P[s] = value & ((1 << f.width) - 1)

    def _reset_metadata(self, P: list):
        for s in self._meta_slots:
            P[s] = 0

    def _preserve(self, P: list, fl_id) -> list:
        slots = self._field_lists.get(fl_id, ()) if fl_id is not None else ()
        return [(s, P[s]) for s in slots]

    def _session(self, session: int):
        cs = self.clone_sessions
        look = getattr(cs, "lookup", None)
        try:
            return look(session) if look is not None else cs.get(session)
        except SwitchError:     # get() raises for an unconfigured session
            return None

    def _parse_into(self, P: list, K: PacketCtx, data: bytes):
        """Parser + checksum verification; sets parser_error / checksum_error."""
        if self._parse_full(P, K, data):
            self._count_parse(K, P)

    def _count_parse(self, K: PacketCtx, P: list):
        if K.err != self._no_error:
            self.stats["parser_error"] += 1
        s = self._slot["checksum_error"]
        if s is not None and P[s]:
            self.stats["checksum_error"] += 1

    # ---------------------------------------------------------------- TM
    def process_packet(self, port: int, data: bytes) -> list[tuple[int, bytes]]:
        """Run one packet through the switch; return the packets that leave, as
        (egress_port, bytes), in the order simple_switch emits them.

        The common case (no clone, digest, resubmit, multicast, drop or
        recirculation) runs straight through here; anything else continues in
        the general traffic manager (`_after_ingress`, `_drain`)."""
        if type(data) is not bytes:
            data = bytes(data)
        stats = self.stats
        stats["rx"] += 1
        n = len(data)
        P = self._template[:]
        K = PacketCtx(data, n, n)
        try:
            self._init_ingress(P, port, n, PKT_NORMAL, 0)
            if self._parse_full(P, K, data):
                self._count_parse(K, P)
            node = self._ingress
            while node is not None:
                node = node(P, K)
            K.exit = False
            es = P[self._s_es]
            mg = self._s_mg
            if (K.clone is not None or K.learn is not None or K.resubmit is not None
                    or (mg is not None and P[mg]) or es == self._drop_m):
                inq: list = []
                egq: list = []
                self._after_ingress(P, K, (data, port, PKT_NORMAL, None, n), inq, egq)
                return self._drain(inq, egq, [])
            if self._s_it is not None:
                P[self._s_it] = PKT_NORMAL
        except PipelineError as e:
            self._fault("ingress", e)
            return []
        except Exception as e:  # noqa: BLE001  (an internal fault must not kill the switch)
            self._fault("ingress", PipelineError(f"{type(e).__name__}: {e}"))
            return []
        try:
            self._init_egress(P, es, self._drop_p1, K.length, 0)
            node = self._egress
            while node is not None:
                node = node(P, K)
            if K.clone is None and K.recirc is None and P[self._s_es] != self._drop_m:
                out = self._emit(P, K)
                if K.truncate is not None and K.truncate < len(out):
                    out = out[:K.truncate]
                stats["tx"] += 1
                return [(es, out)]
            inq = []
            egq = []
            outs: list = []
            self._after_egress(P, K, es, inq, egq, outs)
        except PipelineError as e:
            self._fault("egress", e)
            return []
        except Exception as e:  # noqa: BLE001
            self._fault("egress", PipelineError(f"{type(e).__name__}: {e}"))
            return []
        return self._drain(inq, egq, outs)

    def _drain(self, inq: list, egq: list, out: list) -> list[tuple[int, bytes]]:
        """The general traffic manager: finish the pending egress copies, then
        every resubmitted / recirculated packet, in simple_switch's order."""
        stats = self.stats
        self._egress_all(egq, inq, out)
        loops = 0
        qi = 0
        while qi < len(inq):
            job = inq[qi]
            qi += 1
            loops += 1
            if loops > MAX_LOOPS:
                stats["drop_loop_limit"] += 1
                continue
            egq = []
            try:
                self._ingress_pass(job, inq, egq)
            except PipelineError as e:
                self._fault("ingress", e)
                continue
            except Exception as e:  # noqa: BLE001  (an internal fault must not kill the switch)
                self._fault("ingress", PipelineError(f"{type(e).__name__}: {e}"))
                continue
            self._egress_all(egq, inq, out)
        stats["tx"] += len(out)
        return out

    def _egress_all(self, egq: list, inq: list, out: list):
        ei = 0
        while ei < len(egq):
            P, K, eport = egq[ei]
            ei += 1
            try:
                self._egress_pass(P, K, eport, inq, egq, out)
            except PipelineError as e:
                self._fault("egress", e)
            except Exception as e:  # noqa: BLE001
                self._fault("egress", PipelineError(f"{type(e).__name__}: {e}"))

    def _fault(self, where: str, e: PipelineError):
        self.stats["pipeline_error"] += 1
        self.stats[f"drop_{where}_error"] += 1
        if self._log is not None:
            self._log(f"packet dropped in {where}: {e}")

    def _ingress_pass(self, job: tuple, inq: list, egq: list):
        data, port, itype, preserved, length = job
        P = self._template[:]
        K = PacketCtx(data, length, length)
        self._init_ingress(P, port if itype == PKT_NORMAL else 0, length, itype, 0)
        if preserved:
            for s, v in preserved:
                P[s] = v
        if self._parse_full(P, K, data):
            self._count_parse(K, P)
        n = self._ingress
        while n is not None:
            n = n(P, K)
        K.exit = False
        self._after_ingress(P, K, job, inq, egq)

    def _after_ingress(self, P: list, K: PacketCtx, job: tuple, inq: list, egq: list):
        """simple_switch's end of ingress: clone, digest, resubmit, multicast,
        drop, unicast."""
        data, port, _, _, length = job
        egress_spec = P[self._s_es]
        mgid = P[self._s_mg] if self._s_mg is not None else 0
        # 1. ingress clone: the packet as it was when ingress started, parsed again
        if K.clone is not None:
            session, fl = K.clone
            K.clone = None
            cfg = self._session(session & 0xFFFF)
            if cfg is not None:
                P2 = self._template[:]
                K2 = PacketCtx(data, length, length)
                self._set(P2, "ingress_port", port)
                self._parse_into(P2, K2, data)
                self._reset_metadata(P2)
                for s, v in self._preserve(P, fl):
                    P2[s] = v
                self._set(P2, "instance_type", PKT_INGRESS_CLONE)
                self._clone_out(P2, K2, cfg, egq)
            else:
                self.stats["clone_no_session"] += 1
        # 2. digest
        if K.learn is not None:
            self._learn(P, *K.learn)
        # 3. resubmit
        if K.resubmit is not None:
            fl = K.resubmit
            inq.append((data, port, PKT_RESUBMIT, self._preserve(P, fl), length))
            return
        # 4. multicast
        if mgid != 0:
            self._set(P, "instance_type", PKT_REPLICATION)
            self._multicast(P, K, mgid, egq)
            return
        # 5. drop
        if egress_spec == self._drop_m:
            self.stats["drop_ingress"] += 1
            return
        # 6. unicast
        if self._s_it is not None:
            P[self._s_it] = PKT_NORMAL
        egq.append((P, K, egress_spec))

    def _clone_out(self, P, K, cfg, egq):
        mgrp = getattr(cfg, "mgrp", None)
        cport = getattr(cfg, "port", None)
        trunc = getattr(cfg, "truncate", 0) or 0
        if trunc:
            K.truncate = trunc
        if mgrp is not None:
            self._multicast(P, K, mgrp, egq)
        if cport is not None:
            egq.append((P, K, cport))

    def _multicast(self, P, K, grp, egq):
        try:
            reps = self.pre.replicate(grp)
        except SwitchError:     # unknown group: no replica (BMv2 logs and drops)
            reps = []
        if not reps:
            self.stats["drop_mcast_empty"] += 1
        rs = self._slot["egress_rid"]
        for rid, eport in reps:
            P2 = P[:]
            if rs is not None:
                P2[rs] = rid & 0xFFFF
            K2 = K.fresh_copy()
            K2.truncate = K.truncate
            egq.append((P2, K2, eport))

    def _learn(self, P, receiver, list_id):
        ll = self._learn_lists.get(list_id)
        if ll is None:
            self.stats["digest_unknown_list"] += 1
            return
        vals = tuple(P[f.slot] for f in ll.fields)
        names = tuple(f"{f.header.name}.{f.name}" for f in ll.fields)
        self.digests.append(Digest(receiver, list_id, ll.name, vals, names))

    def _egress_pass(self, P, K, eport, inq, egq, out):
        self._init_egress(P, eport, self._drop_p1, K.length, 0)
        n = self._egress
        while n is not None:
            n = n(P, K)
        self._after_egress(P, K, eport, inq, egq, out)

    def _after_egress(self, P, K, eport, inq, egq, out):
        """simple_switch's end of egress: E2E clone, drop, deparse, recirculate."""
        K.exit = False
        # E2E clone: the packet as it is now, metadata reset, no deparse/parse
        if K.clone is not None:
            session, fl = K.clone
            K.clone = None
            cfg = self._session(session & 0xFFFF)
            if cfg is not None:
                P2 = P[:]
                self._reset_metadata(P2)
                for s, v in self._preserve(P, fl):
                    P2[s] = v
                self._set(P2, "instance_type", PKT_EGRESS_CLONE)
                K2 = K.fresh_copy()
                self._clone_out(P2, K2, cfg, egq)
            else:
                self.stats["clone_no_session"] += 1
        if P[self._s_es] == self._drop_m:
            self.stats["drop_egress"] += 1
            return
        data = self._emit(P, K)
        if K.truncate is not None and K.truncate < len(data):
            data = data[:K.truncate]
        if K.recirc is not None:
            fl = K.recirc
            inq.append((data, eport, PKT_RECIRC, self._preserve(P, fl), len(data)))
            return
        out.append((eport, data))
