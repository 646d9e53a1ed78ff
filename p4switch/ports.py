"""Port backends of the switch and the event loop that drives them.

Every backend implements the small `Port` interface: a number (the BMv2 port
number the P4 program sees), a name, a file descriptor the loop can wait on
(or None for inputs that are always ready, such as pcap files), a batched
non-blocking `receive`, and `transmit`.  The loop (`PacketLoop`) waits on all
descriptors with `selectors` (epoll on Linux), hands each received frame to
the switch's `process_packet(port, bytes)` and transmits what comes out.

Backends:

* `MemoryPort`   -- frames injected by tests, transmissions collected in a list;
                    selectable through an eventfd so it mixes with real ports.
* `CpuPort`      -- a `MemoryPort` for the CPU port (PacketOut in, PacketIn out).
* `PcapFilePort` -- simple_switch ``--use-files``: interface ``1@foo`` reads
                    ``foo_in.pcap`` and writes ``foo_out.pcap``.  Inputs of all
                    file ports are merged in timestamp order (ties: the port
                    given first), as BMv2's PcapFilesReader does, after a wait.
* `AfPacketPort` -- a real Linux interface through an AF_PACKET raw socket,
                    with PACKET_IGNORE_OUTGOING so the switch never sees its own
                    transmissions; `AfPacketRingPort` receives through a
                    TPACKET_V3 ring instead (the default of `open_port`).
* `PcapTap`      -- simple_switch ``--pcap DIR``: copies of every frame a port
                    receives/sends into ``DIR/<iface>_in.pcap`` / ``_out.pcap``.

Nothing here keeps module-level mutable state; a malformed or oversized frame
is counted in the port's `PortStats` and dropped, never raised.
"""
from __future__ import annotations

import abc
import collections
import dataclasses
import errno
import logging
import mmap
import os
import selectors
import socket
import struct
import time
from typing import Callable, Iterable, Iterator

log = logging.getLogger("p4sw.ports")

#: Largest frame a port accepts by default (jumbo frames and then some).
DEFAULT_MAX_FRAME = 16384

ProcessFn = Callable[[int, bytes], "list[tuple[int, bytes]]"]


class PortError(Exception):
    """A port that cannot be opened or used (bad spec, missing file, no such
    interface, no permission).  The message names the port."""


@dataclasses.dataclass
class PortStats:
    """Per-port counters.  `rx_*` counts frames handed to the switch."""

    rx_packets: int = 0
    rx_bytes: int = 0
    tx_packets: int = 0
    tx_bytes: int = 0
    rx_empty: int = 0        # zero-length frames (dropped)
    rx_oversized: int = 0    # longer than max_frame (dropped)
    rx_malformed: int = 0    # unreadable records (pcap) (dropped)
    tx_errors: int = 0       # the kernel or the file refused the frame
    tx_dropped: int = 0      # no buffer space (ENOBUFS/EAGAIN)


@dataclasses.dataclass(frozen=True)
class InterfaceSpec:
    """One ``-i PORT@IFACE`` argument."""

    port: int
    iface: str

    @classmethod
    def parse(cls, text: str) -> "InterfaceSpec":
        num, sep, iface = text.partition("@")
        if not sep or not iface:
            raise PortError(f"interface {text!r}: expected PORT@IFACE, e.g. 1@veth0")
        try:
            port = int(num, 0)
        except ValueError:
            raise PortError(f"interface {text!r}: port {num!r} is not a number") from None
        if not 0 <= port < (1 << 16):
            raise PortError(f"interface {text!r}: port {port} out of range")
        return cls(port, iface)


class Port(abc.ABC):
    """One switch port.  Subclasses implement the four abstract methods."""

    def __init__(self, number: int, name: str, *, max_frame: int = DEFAULT_MAX_FRAME):
        self.number = number
        self.name = name
        self.max_frame = max_frame
        self.stats = PortStats()
        self.tap: PcapTap | None = None

    @abc.abstractmethod
    def fileno(self) -> int | None:
        """Descriptor that becomes readable when frames wait; None if the port
        is not waitable (the loop then polls it through `pending`)."""

    @abc.abstractmethod
    def receive(self, max_frames: int) -> list[bytes]:
        """Up to `max_frames` frames, without blocking; [] if none wait."""

    @abc.abstractmethod
    def transmit(self, frame: bytes) -> None:
        """Send one frame; failures are counted, never raised."""

    def close(self) -> None:
        if self.tap is not None:
            self.tap.close()
            self.tap = None

    def pending(self) -> bool:
        """For ports without a descriptor: whether `receive` would return data."""
        return False

    # helpers shared by the backends
    def _accept(self, frame: bytes, frames: list[bytes]) -> None:
        """Count one received frame and keep it unless empty or oversized."""
        n = len(frame)
        if n == 0:
            self.stats.rx_empty += 1
            return
        if n > self.max_frame:
            self.stats.rx_oversized += 1
            return
        self.stats.rx_packets += 1
        self.stats.rx_bytes += n
        frames.append(frame)

    def _sent(self, frame: bytes) -> None:
        self.stats.tx_packets += 1
        self.stats.tx_bytes += len(frame)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.number}@{self.name})"


# ---------------------------------------------------------------------------
# In-memory ports


class MemoryPort(Port):
    """Frames injected by the caller; transmitted frames are kept in `sent`
    (and handed to `on_transmit` if given).  An eventfd makes the port
    waitable so it can share the loop with sockets."""

    def __init__(self, number: int, name: str | None = None, *,
                 max_frame: int = DEFAULT_MAX_FRAME,
                 on_transmit: Callable[[int, bytes], None] | None = None):
        super().__init__(number, name or f"mem{number}", max_frame=max_frame)
        self._queue: collections.deque[bytes] = collections.deque()
        self._efd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        self.sent: list[bytes] = []
        self.on_transmit = on_transmit

    def inject(self, frame: bytes) -> None:
        """Queue one frame as if it had arrived on this port."""
        self._queue.append(bytes(frame))
        os.eventfd_write(self._efd, 1)

    def fileno(self) -> int | None:
        return self._efd

    def pending(self) -> bool:
        return bool(self._queue)

    def receive(self, max_frames: int) -> list[bytes]:
        try:
            os.eventfd_read(self._efd)
        except BlockingIOError:
            pass
        frames: list[bytes] = []
        q = self._queue
        while q and len(frames) < max_frames:
            self._accept(q.popleft(), frames)
        if q:  # keep the descriptor readable for what is left
            os.eventfd_write(self._efd, 1)
        return frames

    def transmit(self, frame: bytes) -> None:
        self._sent(frame)
        if self.on_transmit is not None:
            self.on_transmit(self.number, frame)
        else:
            self.sent.append(frame)

    def take_sent(self) -> list[bytes]:
        """Return and forget the frames transmitted so far."""
        out, self.sent = self.sent, []
        return out

    def close(self) -> None:
        super().close()
        if self._efd >= 0:
            os.close(self._efd)
            self._efd = -1


class CpuPort(MemoryPort):
    """The CPU port (``--cpu-port``): frames the program sends to it are
    PacketIns for a controller (kept in `sent` / passed to `on_transmit`);
    `inject` is a PacketOut, entering the pipeline with ingress_port = the CPU
    port, as simple_switch_grpc does.  The P4Runtime server will hook in here."""

    def __init__(self, number: int, *, on_transmit: Callable[[int, bytes], None] | None = None):
        super().__init__(number, "cpu", on_transmit=on_transmit)


# ---------------------------------------------------------------------------
# pcap files

# Classic libpcap file format: 24-byte global header, 16-byte record headers.
_PCAP_MAGIC_US = 0xA1B2C3D4
_PCAP_MAGIC_NS = 0xA1B23C4D
LINKTYPE_ETHERNET = 1


class PcapFormatError(PortError):
    """A file that is not a classic pcap file."""


@dataclasses.dataclass(frozen=True)
class PcapRecord:
    time: float          # seconds since the epoch
    data: bytes
    orig_len: int        # length on the wire (> len(data) if the capture cut it)


class PcapReader:
    """Reads a classic pcap file (either byte order, µs or ns timestamps).
    pcapng is refused with a clear message.  A truncated last record ends the
    file and is counted in `truncated`."""

    def __init__(self, path: str):
        self.path = path
        self.truncated = 0
        try:
            self._f = open(path, "rb")
        except OSError as e:
            raise PortError(f"cannot open pcap file {path}: {e.strerror}") from None
        head = self._f.read(24)
        if len(head) < 24:
            self._f.close()
            raise PcapFormatError(f"{path}: too short for a pcap header")
        magic_le = struct.unpack("<I", head[:4])[0]
        if magic_le in (_PCAP_MAGIC_US, _PCAP_MAGIC_NS):
            self._endian = "<"
            magic = magic_le
        else:
            magic = struct.unpack(">I", head[:4])[0]
            if magic not in (_PCAP_MAGIC_US, _PCAP_MAGIC_NS):
                self._f.close()
                if head[:4] == b"\x0a\x0d\x0d\x0a":
                    raise PcapFormatError(f"{path}: pcapng is not supported; "
                                          "convert with `editcap -F pcap`")
                raise PcapFormatError(f"{path}: not a pcap file (magic {head[:4].hex()})")
            self._endian = ">"
        self._frac = 1e-9 if magic == _PCAP_MAGIC_NS else 1e-6
        _, _, _, _, self.snaplen, self.linktype = struct.unpack(self._endian + "HHiIII", head[4:])
        self._rec = struct.Struct(self._endian + "IIII")

    def __iter__(self) -> Iterator[PcapRecord]:
        return self

    def __next__(self) -> PcapRecord:
        rec = self._f.read(16)
        if not rec:
            raise StopIteration
        if len(rec) < 16:
            self.truncated += 1
            raise StopIteration
        sec, frac, incl, orig = self._rec.unpack(rec)
        data = self._f.read(incl)
        if len(data) < incl:
            self.truncated += 1
            raise StopIteration
        return PcapRecord(sec + frac * self._frac, data, orig)

    def close(self) -> None:
        self._f.close()


class PcapWriter:
    """Writes a classic little-endian µs pcap file, flushing after each record
    so a reader (an STF runner, tcpdump -r) sees packets as they leave.

    BMv2 opens its output with ``pcap_open_dead(0, 0)`` (link type 0); we
    write link type 1 (Ethernet) so tcpdump/wireshark decode the frames.  The
    frame bytes are identical."""

    def __init__(self, path: str, linktype: int = LINKTYPE_ETHERNET, snaplen: int = 262144):
        self.path = path
        try:
            self._f = open(path, "wb")
        except OSError as e:
            raise PortError(f"cannot create pcap file {path}: {e.strerror}") from None
        self._f.write(struct.pack("<IHHiIII", _PCAP_MAGIC_US, 2, 4, 0, 0, snaplen, linktype))
        self._f.flush()

    def write(self, frame: bytes, ts: float | None = None) -> None:
        if ts is None:
            ts = time.time()
        usec_total = round(ts * 1e6)
        sec, usec = divmod(usec_total, 1_000_000)
        self._f.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)))
        self._f.write(frame)
        self._f.flush()

    def close(self) -> None:
        if not self._f.closed:
            self._f.close()


def read_pcap(path: str) -> list[bytes]:
    """All frames of a pcap file (test and tool helper)."""
    r = PcapReader(path)
    try:
        return [rec.data for rec in r]
    finally:
        r.close()


def write_pcap(path: str, frames: Iterable[bytes], start: float = 1.0) -> None:
    """Write frames with increasing timestamps (1 µs apart) from `start`."""
    w = PcapWriter(path)
    try:
        for i, f in enumerate(frames):
            w.write(f, start + i * 1e-6)
    finally:
        w.close()


class PcapFilePort(Port):
    """simple_switch ``--use-files``: the interface name is a file stem;
    frames are read from ``<stem>_in.pcap`` and written to ``<stem>_out.pcap``
    (relative to the working directory, as BMv2 does).  The input must exist
    (BMv2 aborts otherwise; we raise `PortError`)."""

    def __init__(self, number: int, stem: str, *, max_frame: int = DEFAULT_MAX_FRAME):
        super().__init__(number, stem, max_frame=max_frame)
        self.in_path = stem + "_in.pcap"
        self.out_path = stem + "_out.pcap"
        self._reader = PcapReader(self.in_path)
        self._writer = PcapWriter(self.out_path)
        self._next: PcapRecord | None = None
        self._eof = False
        self._advance()

    def _advance(self) -> None:
        while True:
            try:
                rec = next(self._reader)
            except StopIteration:
                self._next = None
                self._eof = True
                self.stats.rx_malformed += self._reader.truncated
                self._reader.truncated = 0
                return
            if rec.orig_len != len(rec.data):
                # BMv2 aborts on a cut-short capture; we count and skip it.
                self.stats.rx_malformed += 1
                continue
            self._next = rec
            return

    @property
    def next_time(self) -> float | None:
        """Timestamp of the next input frame, None at end of file."""
        return None if self._next is None else self._next.time

    @property
    def exhausted(self) -> bool:
        return self._eof

    def fileno(self) -> int | None:
        return None

    def pending(self) -> bool:
        return self._next is not None

    def receive(self, max_frames: int) -> list[bytes]:
        frames: list[bytes] = []
        while self._next is not None and len(frames) < max_frames:
            self._accept(self._next.data, frames)
            self._advance()
        return frames

    def receive_one(self) -> bytes | None:
        """The next frame (used by the timestamp merge), None if dropped/EOF."""
        frames = self.receive(1)
        return frames[0] if frames else None

    def transmit(self, frame: bytes) -> None:
        try:
            self._writer.write(frame)
        except OSError:
            self.stats.tx_errors += 1
            return
        self._sent(frame)

    def close(self) -> None:
        super().close()
        self._reader.close()
        self._writer.close()


class PcapTap:
    """simple_switch ``--pcap DIR``: record a port's traffic in
    ``DIR/<iface>_in.pcap`` and ``DIR/<iface>_out.pcap``."""

    def __init__(self, directory: str, iface: str):
        os.makedirs(directory, exist_ok=True)
        self.in_writer = PcapWriter(os.path.join(directory, iface + "_in.pcap"))
        self.out_writer = PcapWriter(os.path.join(directory, iface + "_out.pcap"))

    def received(self, frame: bytes) -> None:
        self.in_writer.write(frame)

    def sent(self, frame: bytes) -> None:
        self.out_writer.write(frame)

    def close(self) -> None:
        self.in_writer.close()
        self.out_writer.close()


# ---------------------------------------------------------------------------
# AF_PACKET

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_ADD_MEMBERSHIP = 1
PACKET_MR_PROMISC = 1
PACKET_AUXDATA = 8
PACKET_IGNORE_OUTGOING = 23
PACKET_OUTGOING = 4
TP_STATUS_VLAN_VALID = 1 << 4
TP_STATUS_VLAN_TPID_VALID = 1 << 6
_AUXDATA = struct.Struct("IIIHHHH")


class AfPacketPort(Port):
    """A Linux interface through an AF_PACKET SOCK_RAW socket.

    * bound to the interface before it listens to any protocol, so no frame
      of another interface slips in between socket() and bind();
    * PACKET_IGNORE_OUTGOING (Linux >= 4.20): our own transmissions are not
      looped back to us; older kernels: outgoing frames are skipped by their
      packet type;
    * promiscuous membership, so frames for any MAC are seen;
    * PACKET_AUXDATA: a VLAN tag the kernel stripped (rx VLAN offload) is put
      back, so the P4 parser sees the frame as it was on the wire;
    * MSG_TRUNC reveals the real length of a frame larger than the buffer:
      such a frame is counted as oversized and dropped.
    """

    def __init__(self, number: int, iface: str, *, max_frame: int = DEFAULT_MAX_FRAME,
                 rcvbuf: int = 4 << 20):
        super().__init__(number, iface, max_frame=max_frame)
        try:
            ifindex = socket.if_nametoindex(iface)
        except OSError:
            raise PortError(f"port {number}: no interface named {iface!r}") from None
        try:
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        except PermissionError:
            raise PortError(f"port {number}@{iface}: AF_PACKET needs root or CAP_NET_RAW") from None
        try:
            try:
                s.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
                self._ignore_outgoing = True
            except OSError:
                self._ignore_outgoing = False
            s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
            for opt in (getattr(socket, "SO_RCVBUFFORCE", 33), socket.SO_RCVBUF):
                try:
                    s.setsockopt(socket.SOL_SOCKET, opt, rcvbuf)
                    break
                except OSError:
                    continue
            mreq = struct.pack("iHH8s", ifindex, PACKET_MR_PROMISC, 0, b"")
            s.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq)
            self._setup_rx(s)   # before bind: a ring must exist before frames arrive
            s.bind((iface, ETH_P_ALL))
            s.setblocking(False)
        except OSError as e:
            s.close()
            raise PortError(f"port {number}@{iface}: {e.strerror or e}") from None
        self._sock = s
        self._buf = bytearray(max_frame + 4)  # +4: room for a re-inserted VLAN tag
        self._view = memoryview(self._buf)
        self._anc = socket.CMSG_SPACE(_AUXDATA.size)

    def _setup_rx(self, sock: socket.socket) -> None:
        """Hook for receive rings (see AfPacketRingPort)."""

    def fileno(self) -> int | None:
        return self._sock.fileno()

    def receive(self, max_frames: int) -> list[bytes]:
        frames: list[bytes] = []
        sock, view = self._sock, self._view
        cap = self.max_frame
        for _ in range(max_frames):
            try:
                n, anc, _flags, addr = sock.recvmsg_into([view[4:4 + cap]], self._anc,
                                                         socket.MSG_TRUNC)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as e:  # e.g. ENETDOWN while the link flaps
                log.debug("%r: receive failed: %s", self, e)
                break
            if not self._ignore_outgoing and addr[2] == PACKET_OUTGOING:
                continue
            if n == 0:
                self.stats.rx_empty += 1
                continue
            if n > cap:
                self.stats.rx_oversized += 1
                continue
            frame = self._with_vlan(anc, n)
            self.stats.rx_packets += 1
            self.stats.rx_bytes += len(frame)
            frames.append(frame)
        return frames

    def _with_vlan(self, anc: list, n: int) -> bytes:
        """The frame in buf[4:4+n], with a stripped VLAN tag put back."""
        buf = self._buf
        for level, kind, data in anc:
            if level == SOL_PACKET and kind == PACKET_AUXDATA and len(data) >= _AUXDATA.size:
                status, _len, _snap, _mac, _net, tci, tpid = _AUXDATA.unpack_from(data)
                if status & TP_STATUS_VLAN_VALID and n >= 12:
                    if not status & TP_STATUS_VLAN_TPID_VALID:
                        tpid = 0x8100
                    # shift the MACs 4 bytes left (into the spare room) and tag
                    buf[0:12] = buf[4:16]
                    struct.pack_into("!HH", buf, 12, tpid, tci)
                    return bytes(buf[0:n + 4])
        return bytes(buf[4:4 + n])

    def transmit(self, frame: bytes) -> None:
        try:
            self._sock.send(frame)
            st = self.stats      # _sent() inline: this runs once per forwarded frame
            st.tx_packets += 1
            st.tx_bytes += len(frame)
            return
        except (BlockingIOError, InterruptedError):
            self.stats.tx_dropped += 1
            return
        except OSError as e:
            if e.errno == errno.ENOBUFS:
                self.stats.tx_dropped += 1
            else:
                self.stats.tx_errors += 1
                log.debug("%r: transmit of %d bytes failed: %s", self, len(frame), e)
            return

    def close(self) -> None:
        super().close()
        self._sock.close()


PACKET_VERSION = 10
PACKET_RX_RING = 5
TPACKET_V3 = 2
TP_STATUS_KERNEL = 0
TP_STATUS_USER = 1
TP_STATUS_COPY = 1 << 1
# tpacket_block_desc: version, offset_to_priv, block_status, num_pkts, offset_to_first_pkt
_BLOCK_HDR = struct.Struct("IIIII")
_PKT_HDR = struct.Struct("IIIIIIHHIIH")    # tpacket3_hdr up to tp_vlan_tpid


class AfPacketRingPort(AfPacketPort):
    """`AfPacketPort` whose receive side is a TPACKET_V3 ring (mmap'ed
    blocks the kernel fills; one wake-up hands over a whole block of frames
    instead of one recvmsg per frame).  Transmit is the same send() as the
    plain port.  A block is retired to us when full or after `block_tov_ms`,
    which bounds the added latency at low rates."""

    def __init__(self, number: int, iface: str, *, max_frame: int = DEFAULT_MAX_FRAME,
                 block_size: int = 1 << 17, block_nr: int = 32, block_tov_ms: int = 1):
        self._ring_cfg = (block_size, block_nr, block_tov_ms)
        self._ring = None
        super().__init__(number, iface, max_frame=max_frame)

    def _setup_rx(self, sock: socket.socket) -> None:
        if not self._ignore_outgoing:
            # ring frames would include our own transmissions
            raise OSError(errno.ENOTSUP, "PACKET_IGNORE_OUTGOING unsupported (kernel < 4.20)")
        block_size, block_nr, tov = self._ring_cfg
        sock.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V3)
        frame_size = 2048  # only used by the kernel to check the request
        req = struct.pack("7I", block_size, block_nr, frame_size,
                          block_size * block_nr // frame_size, tov, 0, 0)
        sock.setsockopt(SOL_PACKET, PACKET_RX_RING, req)
        self._ring = mmap.mmap(sock.fileno(), block_size * block_nr, mmap.MAP_SHARED,
                               mmap.PROT_READ | mmap.PROT_WRITE)
        self._ring_view = memoryview(self._ring)
        self._block_size = block_size
        self._block_nr = block_nr
        self._block = 0           # next block to look at
        self._pkt_left = 0        # frames left in the block being read
        self._pkt_off = 0         # offset of the next frame in the ring

    def pending(self) -> bool:
        return self._pkt_left > 0

    def receive(self, max_frames: int) -> list[bytes]:
        frames: list[bytes] = []
        ring, cap = self._ring, self.max_frame
        st = self.stats
        while len(frames) < max_frames:
            if self._pkt_left == 0:
                base = self._block * self._block_size
                _v, _p, status, num, first = _BLOCK_HDR.unpack_from(ring, base)
                if not status & TP_STATUS_USER:
                    break
                self._pkt_left = num
                self._pkt_off = base + first
                if num == 0:
                    self._release_block()
                    continue
            off = self._pkt_off
            (nxt, _sec, _nsec, snaplen, length, status, mac, _net,
             _hash, tci, tpid) = _PKT_HDR.unpack_from(ring, off)
            if length == 0:
                st.rx_empty += 1
            elif length > cap or snaplen < length or status & TP_STATUS_COPY:
                st.rx_oversized += 1
            else:
                start = off + mac
                if status & TP_STATUS_VLAN_VALID and snaplen >= 12:
                    if not status & TP_STATUS_VLAN_TPID_VALID:
                        tpid = 0x8100
                    frame = (ring[start:start + 12] + struct.pack("!HH", tpid, tci & 0xFFFF)
                             + ring[start + 12:start + snaplen])
                else:
                    frame = ring[start:start + snaplen]     # mmap slice: one bytes copy
                st.rx_packets += 1
                st.rx_bytes += len(frame)
                frames.append(frame)
            self._pkt_left -= 1
            if self._pkt_left == 0:
                self._release_block()
            else:
                self._pkt_off = off + nxt
        return frames

    def _release_block(self) -> None:
        struct.pack_into("I", self._ring, self._block * self._block_size + 8, TP_STATUS_KERNEL)
        self._block = (self._block + 1) % self._block_nr
        self._pkt_left = 0

    def close(self) -> None:
        super().close()
        if self._ring is not None:
            self._ring_view.release()
            self._ring.close()
            self._ring = None


# ---------------------------------------------------------------------------
# The event loop


@dataclasses.dataclass
class LoopStats:
    """Counters of the loop itself (per-port counters are in `Port.stats`)."""

    processed: int = 0        # frames handed to the switch
    emitted: int = 0          # frames the switch produced
    no_port: int = 0          # produced for a port with no interface (discarded, as BMv2)
    errors: int = 0           # process_packet raised (frame dropped)
    batches: int = 0


class PacketLoop:
    """Reads from all ports, runs the switch, transmits the results.

    Single-threaded on purpose: control-plane readers (the runtime CLI
    socket) are registered in the same selector with `add_reader`, so table
    changes happen between packet batches and the switch needs no lock.
    `stop()` may be called from a signal handler.

    File ports (`PcapFilePort`) are fed after `file_wait` seconds, merged by
    timestamp across ports, as BMv2's PcapFilesReader does.
    """

    def __init__(self, process: ProcessFn, ports: Iterable[Port] = (), *,
                 batch: int = 64, file_wait: float = 0.0):
        self.process = process
        self.batch = batch
        self.file_wait = file_wait
        self.ports: dict[int, Port] = {}
        self.stats = LoopStats()
        self._sel = selectors.DefaultSelector()
        self._wake = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        self._sel.register(self._wake, selectors.EVENT_READ, None)
        self._file_ports: list[PcapFilePort] = []
        self._stopping = False
        self._started = time.monotonic()
        for p in ports:
            self.add_port(p)

    # -- set-up
    def add_port(self, port: Port) -> None:
        if port.number in self.ports:
            raise PortError(f"port {port.number} given twice ({self.ports[port.number].name}, {port.name})")
        self.ports[port.number] = port
        fd = port.fileno()
        if isinstance(port, PcapFilePort):
            self._file_ports.append(port)
        elif fd is not None:
            self._sel.register(fd, selectors.EVENT_READ, port)
        # a port without a descriptor is polled through pending()

    def add_reader(self, fileobj, callback: Callable[[], None]) -> None:
        """Call `callback()` whenever `fileobj` is readable (control sockets)."""
        self._sel.register(fileobj, selectors.EVENT_READ, callback)

    def remove_reader(self, fileobj) -> None:
        try:
            self._sel.unregister(fileobj)
        except (KeyError, ValueError):
            pass

    # -- running
    def stop(self) -> None:
        """Make `run` return soon; safe from a signal handler or another thread."""
        self._stopping = True
        try:
            os.eventfd_write(self._wake, 1)
        except OSError:
            pass

    @property
    def files_done(self) -> bool:
        """All pcap inputs consumed (True when there are none)."""
        return all(p.exhausted for p in self._file_ports)

    def run(self, *, until: Callable[[], bool] | None = None, timeout: float | None = None) -> None:
        """Serve until `stop()`, until `until()` is true, or `timeout` seconds."""
        self._stopping = False
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._stopping:
            if until is not None and until():
                return
            wait = 0.5
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                wait = min(wait, left)
            self.poll(wait)

    def poll(self, timeout: float = 0.0) -> int:
        """One round: wait at most `timeout` s, then serve every ready input
        once (up to `batch` frames each).  Returns frames processed."""
        busy = any(p.pending() for p in self.ports.values()) or self._files_ready()
        events = self._sel.select(0 if busy else timeout)
        done = 0
        served: set[int] = set()
        for key, _ in events:
            target = key.data
            if target is None:
                try:
                    os.eventfd_read(self._wake)
                except BlockingIOError:
                    pass
            elif isinstance(target, Port):
                served.add(target.number)
                done += self._serve(target, target.receive(self.batch))
            else:
                try:
                    target()
                except Exception:  # a control client must not stop the data path
                    log.exception("control reader failed")
        for port in self.ports.values():
            # polled ports, and waitable ones holding frames already handed
            # over (a ring block, a memory queue) that no wake-up will announce
            if port.number not in served and port.pending() and not isinstance(port, PcapFilePort):
                done += self._serve(port, port.receive(self.batch))
        if self._files_ready():
            done += self._serve_files()
        return done

    def drain(self, max_rounds: int = 1000) -> int:
        """Process until no input is waiting (tests, in-memory use)."""
        total = 0
        for _ in range(max_rounds):
            n = self.poll(0)
            total += n
            if n == 0 and not any(p.pending() for p in self.ports.values()):
                break
        return total

    def _files_ready(self) -> bool:
        if not self._file_ports or self.files_done:
            return False
        return time.monotonic() - self._started >= self.file_wait

    def _serve_files(self) -> int:
        done = 0
        for _ in range(self.batch):
            best: PcapFilePort | None = None
            for p in self._file_ports:  # few files: a linear scan is enough
                t = p.next_time
                if t is not None and (best is None or t < best.next_time):
                    best = p
            if best is None:
                break
            frame = best.receive_one()
            if frame is not None:
                done += self._serve(best, [frame])
        return done

    def _serve(self, port: Port, frames: list[bytes]) -> int:
        if not frames:
            return 0
        self.stats.batches += 1
        process, ports, stats = self.process, self.ports, self.stats
        num = port.number
        tap = port.tap
        for frame in frames:
            if tap is not None:
                tap.received(frame)
            stats.processed += 1
            try:
                out = process(num, frame)
            except Exception as e:
                stats.errors += 1
                if stats.errors <= 10 or log.isEnabledFor(logging.DEBUG):
                    log.warning("port %d: packet of %d bytes dropped: %s: %s",
                                num, len(frame), type(e).__name__, e)
                continue
            for egress, data in out:
                stats.emitted += 1
                dst = ports.get(egress)
                if dst is None:
                    stats.no_port += 1
                    continue
                if dst.tap is not None:
                    dst.tap.sent(data)
                dst.transmit(data)
        return len(frames)

    def close(self) -> None:
        for p in self.ports.values():
            try:
                p.close()
            except Exception:  # closing must go on for the other ports
                log.exception("closing %r", p)
        self._sel.close()
        if self._wake >= 0:
            os.close(self._wake)
            self._wake = -1

    def __enter__(self) -> "PacketLoop":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_port(spec: InterfaceSpec, *, use_files: bool = False, pcap_dir: str | None = None,
              max_frame: int = DEFAULT_MAX_FRAME, ring: bool = True) -> Port:
    """The backend simple_switch would use for ``-i PORT@IFACE``: pcap files
    with `use_files`, else the interface through AF_PACKET (a TPACKET_V3
    receive ring unless `ring` is False or the kernel refuses one)."""
    port: Port
    if use_files:
        return PcapFilePort(spec.port, spec.iface, max_frame=max_frame)
    if ring:
        try:
            port = AfPacketRingPort(spec.port, spec.iface, max_frame=max_frame)
        except PortError as e:
            if "no interface" in str(e) or "needs root" in str(e):
                raise
            log.info("%s: no TPACKET_V3 ring (%s); using recvmsg", spec.iface, e)
            port = AfPacketPort(spec.port, spec.iface, max_frame=max_frame)
    else:
        port = AfPacketPort(spec.port, spec.iface, max_frame=max_frame)
    if pcap_dir is not None:
        port.tap = PcapTap(pcap_dir, spec.iface)
    return port
