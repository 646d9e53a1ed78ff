"""Port backends and the packet loop: memory, pcap files, AF_PACKET on veth."""
from __future__ import annotations

import socket
import struct
import time

import pytest

from p4switch.ports import (
    AfPacketPort, AfPacketRingPort, CpuPort, InterfaceSpec, MemoryPort, PacketLoop, PcapFilePort,
    PcapFormatError, PcapReader, PcapTap, PortError, open_port, read_pcap, write_pcap,
)


def frame(n: int, size: int = 64) -> bytes:
    """A distinguishable Ethernet frame: dst/src MAC, ethertype, counter."""
    head = bytes.fromhex("020000000002" "020000000001" "88b5")
    body = struct.pack("!I", n)
    return (head + body).ljust(size, b"\x00")


def swap_1_2(port: int, data: bytes) -> list[tuple[int, bytes]]:
    """A stand-in switch: 1 <-> 2, port 3 floods to 1 and 2, port 4 raises."""
    if port == 4:
        raise ValueError("boom")
    if port == 3:
        return [(1, data), (2, data)]
    return [({1: 2, 2: 1}.get(port, 99), data)]


def test_interface_spec():
    assert InterfaceSpec.parse("1@veth0") == InterfaceSpec(1, "veth0")
    assert InterfaceSpec.parse("0x10@a@b") == InterfaceSpec(16, "a@b")
    for bad in ("veth0", "x@veth0", "1@", "-1@a"):
        with pytest.raises(PortError):
            InterfaceSpec.parse(bad)


def test_memory_ports_through_loop():
    p1, p2 = MemoryPort(1), MemoryPort(2)
    with PacketLoop(swap_1_2, [p1, p2], batch=4) as loop:
        for i in range(10):
            p1.inject(frame(i))
        p2.inject(frame(100))
        assert loop.drain() == 11
        assert p2.take_sent() == [frame(i) for i in range(10)]
        assert p1.take_sent() == [frame(100)]
        assert loop.stats.processed == 11 and loop.stats.batches >= 3
        assert p1.stats.rx_packets == 10 and p2.stats.tx_packets == 10


def test_loop_counts_bad_frames_and_errors_without_crashing():
    p1, p2, p4 = MemoryPort(1, max_frame=100), MemoryPort(2), MemoryPort(4)
    with PacketLoop(swap_1_2, [p1, p2, p4]) as loop:
        p1.inject(b"")
        p1.inject(frame(1, size=101))
        p1.inject(frame(2, size=100))
        p4.inject(frame(3))
        loop.drain()
        assert p1.stats.rx_empty == 1 and p1.stats.rx_oversized == 1
        assert p2.take_sent() == [frame(2, size=100)]
        assert loop.stats.errors == 1
        # an egress port with no interface is discarded and counted, like BMv2
        loop.process = lambda port, data: [(7, data)]
        p2.inject(frame(4))
        loop.drain()
        assert loop.stats.no_port == 1


def test_cpu_port_packet_in_and_out():
    got = []
    cpu = CpuPort(64, on_transmit=lambda port, data: got.append((port, data)))
    p1 = MemoryPort(1)
    to_cpu = lambda port, data: [(64, data)] if port == 1 else [(1, data)]
    with PacketLoop(to_cpu, [cpu, p1]) as loop:
        p1.inject(frame(1))
        cpu.inject(frame(2))  # PacketOut
        loop.drain()
    assert got == [(64, frame(1))]
    assert p1.sent == [frame(2)]


def test_pcap_round_trip_and_bad_files(tmp_path):
    path = tmp_path / "x.pcap"
    write_pcap(str(path), [frame(i) for i in range(3)])
    assert read_pcap(str(path)) == [frame(i) for i in range(3)]
    (tmp_path / "ng.pcap").write_bytes(b"\x0a\x0d\x0d\x0a" + b"\x00" * 40)
    with pytest.raises(PcapFormatError, match="pcapng"):
        PcapReader(str(tmp_path / "ng.pcap"))
    (tmp_path / "junk.pcap").write_bytes(b"hello" * 10)
    with pytest.raises(PcapFormatError, match="not a pcap"):
        PcapReader(str(tmp_path / "junk.pcap"))
    # big-endian, nanosecond file
    be = tmp_path / "be.pcap"
    with open(be, "wb") as f:
        f.write(struct.pack(">IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 1))
        f.write(struct.pack(">IIII", 5, 500_000_000, 4, 4) + b"abcd")
    r = PcapReader(str(be))
    (rec,) = list(r)
    assert rec.data == b"abcd" and abs(rec.time - 5.5) < 1e-9


def test_use_files_naming_and_timestamp_merge(tmp_path, monkeypatch):
    """-i 1@foo reads foo_in.pcap and writes foo_out.pcap (BMv2 --use-files);
    inputs of all ports are merged by timestamp."""
    monkeypatch.chdir(tmp_path)
    from p4switch.ports import PcapWriter
    w = PcapWriter("foo_in.pcap")
    w.write(frame(1), 10.0)
    w.write(frame(3), 10.000002)
    w.close()
    write_pcap("bar_in.pcap", [frame(2)], start=10.000001)
    # a truncated record at the end of a file is counted, not fatal
    with open("bar_in.pcap", "ab") as f:
        f.write(struct.pack("<IIII", 11, 0, 60, 60) + b"\x00" * 10)
    order = []

    def record(port, data):
        order.append((port, data))
        return [(2 if port == 1 else 1, data)]

    p1 = open_port(InterfaceSpec.parse("1@foo"), use_files=True)
    p2 = open_port(InterfaceSpec.parse("2@bar"), use_files=True)
    assert isinstance(p1, PcapFilePort)
    with PacketLoop(record, [p1, p2]) as loop:
        loop.run(until=lambda: loop.files_done, timeout=5)
        assert loop.files_done
        assert p2.stats.rx_malformed == 1
    assert order == [(1, frame(1)), (2, frame(2)), (1, frame(3))]
    assert read_pcap("bar_out.pcap") == [frame(1), frame(3)]
    assert read_pcap("foo_out.pcap") == [frame(2)]


def test_use_files_wait(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_pcap("a_in.pcap", [frame(1)])
    p = PcapFilePort(1, "a")
    with PacketLoop(lambda port, d: [(1, d)], [p], file_wait=0.3) as loop:
        t0 = time.monotonic()
        loop.run(until=lambda: loop.files_done, timeout=5)
        assert time.monotonic() - t0 >= 0.25
    assert read_pcap("a_out.pcap") == [frame(1)]


def test_missing_input_file_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PortError, match="nope_in.pcap"):
        PcapFilePort(1, "nope")


def test_pcap_tap_records_both_directions(tmp_path):
    p1, p2 = MemoryPort(1), MemoryPort(2)
    p1.tap = PcapTap(str(tmp_path / "caps"), "eth1")
    with PacketLoop(swap_1_2, [p1, p2]) as loop:
        p1.inject(frame(1))
        p2.inject(frame(2))
        loop.drain()
    assert read_pcap(str(tmp_path / "caps" / "eth1_in.pcap")) == [frame(1)]
    assert read_pcap(str(tmp_path / "caps" / "eth1_out.pcap")) == [frame(2)]


def test_af_packet_needs_existing_interface():
    with pytest.raises(PortError, match="no interface"):
        AfPacketPort(1, "p4-no-such-if")


# ---------------------------------------------------------------------------
# AF_PACKET over a veth pair in a namespace of our own (root only)

def _netns_or_skip():
    from topologies.netns import netns_supported
    ok, why = netns_supported()
    if not ok:
        pytest.skip(why)


@pytest.fixture
def veth_ns():
    """A namespace holding a veth pair swa <-> peer, both up."""
    _netns_or_skip()
    from topologies.netns import NetnsSet
    with NetnsSet() as ns:
        name = ns.add_ns("ports")
        ns.add_veth(name, "swa", name, "peer")
        yield name


def _raw(iface: str) -> socket.socket:
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x88B5))
    s.bind((iface, 0x88B5))
    s.settimeout(2)
    return s


AF_PACKET_KINDS = pytest.mark.parametrize("kind", [AfPacketPort, AfPacketRingPort],
                                          ids=["recvmsg", "tpacket_v3"])


@pytest.mark.root
@AF_PACKET_KINDS
def test_af_packet_port_on_veth(veth_ns, kind):
    from topologies.netns import in_netns
    with in_netns(veth_ns):
        port = kind(1, "swa", max_frame=600)
        peer = _raw("peer")
    mem = MemoryPort(2)
    with PacketLoop(swap_1_2, [port, mem]) as loop:
        sent = [frame(i, 100) for i in range(20)]
        for f in sent:
            peer.send(f)
        peer.send(frame(99, 700))            # oversized for this port
        deadline = time.monotonic() + 3
        while len(mem.sent) < 20 and time.monotonic() < deadline:
            loop.poll(0.1)
        assert mem.take_sent() == sent
        loop.poll(0.2)
        assert port.stats.rx_oversized == 1
        # the other way: memory -> AF_PACKET -> peer; the switch must not see
        # its own transmission come back on port 1
        rx_before = port.stats.rx_packets
        mem.inject(frame(7, 80))
        loop.drain()
        got = peer.recv(2048)
        assert got == frame(7, 80)
        for _ in range(3):
            loop.poll(0.1)
        assert port.stats.rx_packets == rx_before
        assert mem.sent == []
    peer.close()


@pytest.mark.root
@AF_PACKET_KINDS
def test_af_packet_keeps_vlan_tags(veth_ns, kind):
    from topologies.netns import in_netns
    with in_netns(veth_ns):
        port = kind(1, "swa")
        peer = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        peer.bind(("peer", 0))
    tagged = bytes.fromhex("020000000002" "020000000001" "8100" "2064" "88b5") + b"\x01" * 50
    mem = MemoryPort(2)
    with PacketLoop(swap_1_2, [port, mem]) as loop:
        peer.send(tagged)
        deadline = time.monotonic() + 3
        while not mem.sent and time.monotonic() < deadline:
            loop.poll(0.1)
    assert mem.sent == [tagged]
    peer.close()


@pytest.mark.root
def test_ring_hands_over_more_than_one_batch(veth_ns):
    """Frames left in a retired ring block after one batch must still be
    served although no new wake-up comes for them."""
    from topologies.netns import in_netns
    with in_netns(veth_ns):
        port = AfPacketRingPort(1, "swa", block_tov_ms=50)
        peer = _raw("peer")
    mem = MemoryPort(2)
    with PacketLoop(swap_1_2, [port, mem], batch=4) as loop:
        sent = [frame(i, 80) for i in range(50)]
        for f in sent:
            peer.send(f)
        deadline = time.monotonic() + 3
        while len(mem.sent) < 50 and time.monotonic() < deadline:
            loop.poll(0.1)
        assert mem.sent == sent
    peer.close()
