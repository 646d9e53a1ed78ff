"""Counter, meter (BMv2 trTCM) and register arrays."""
import pytest

from p4switch.errors import RuntimeApiError
from p4switch.externs import GREEN, RED, YELLOW, CounterArray, MeterArray, RegisterArray


def test_counter_array():
    c = CounterArray("MyIngress.c", 4)
    assert c.count(1, 100) and c.count(1, 50)
    assert not c.count(4, 10) and not c.count(-1, 10)      # data path: out of range ignored
    assert c.read(1) == (2, 150)
    c.write(2, 5, 6)
    assert c.read(2) == (5, 6)
    c.reset()
    assert c.read(1) == (0, 0) and c.read(2) == (0, 0)
    for bad in (lambda: c.read(4), lambda: c.write(-1, 0, 0), lambda: c.write(0, -1, 0),
                lambda: c.read("1")):
        with pytest.raises(RuntimeApiError, match="MyIngress.c"):
            bad()


def test_register_array():
    r = RegisterArray("r", 3, 8)
    r.write(0, 255)
    assert r.read(0) == 255
    with pytest.raises(RuntimeApiError):
        r.write(0, 256)
    with pytest.raises(RuntimeApiError):
        r.read(3)
    assert r.dp_read(3) == 0                              # BMv2: out of range reads 0
    assert not r.dp_write(3, 1)
    assert r.dp_write(1, 0x1FF) and r.read(1) == 0xFF     # data path masks
    r.reset()
    assert r.cells == [0, 0, 0]


def test_unconfigured_meter_is_green():
    m = MeterArray("m", 2, "bytes")
    assert m.execute(0, 1500, now=m.cells[0].time_init + 1) == GREEN
    assert m.get_rates(0) == []
    assert m.execute(7, 1500) == GREEN                    # out of range: GREEN


def test_packet_meter_trtcm_sequence():
    m = MeterArray("m", 1, "packets")
    t0 = m.cells[0].time_init
    # CIR 1 pkt per 1000 us (0.001 / us), CBS 2; PIR 2 pkt per 1000 us, PBS 4
    m.set_rates(0, [(0.001, 2), (0.002, 4)])
    assert m.get_rates(0) == [(0.001, 2), (0.002, 4)]
    colours = [m.execute(0, 64, now=t0) for _ in range(5)]
    # buckets start full: 2 green (both buckets), then 2 yellow (PIR only), then red
    assert colours == [GREEN, GREEN, YELLOW, YELLOW, RED]
    # 1 ms later: +1 committed token, +2 peak tokens
    later = t0 + 0.001
    assert [m.execute(0, 64, now=later) for _ in range(3)] == [GREEN, YELLOW, RED]


def test_byte_meter_uses_packet_length_and_red_does_not_consume():
    m = MeterArray("m", 1, "bytes")
    t0 = m.cells[0].time_init
    m.set_rates(0, [(0.0, 1000), (0.0, 1500)])
    assert m.execute(0, 1200, now=t0) == YELLOW       # peak 1500 ok -> 300 left; committed 1000 < 1200
    assert m.execute(0, 400, now=t0) == RED           # peak 300 < 400
    assert m.execute(0, 300, now=t0) == GREEN         # red consumed nothing: 300 peak, 1000 committed


def test_meter_rate_errors_and_array_set():
    m = MeterArray("m", 3, "packets")
    with pytest.raises(RuntimeApiError):
        m.set_rates(0, [(1, 1)])                      # needs 2 rates
    with pytest.raises(RuntimeApiError):
        m.set_rates(0, [(2, 1), (1, 1)])              # CIR > PIR
    with pytest.raises(RuntimeApiError):
        m.set_rates(5, [(1, 1), (2, 2)])
    m.set_all_rates([(1, 10), (2, 20)])
    assert all(m.get_rates(i) == [(1.0, 10), (2.0, 20)] for i in range(3))
    m.reset()
    assert m.get_rates(1) == []
    with pytest.raises(ValueError):
        MeterArray("x", 1, "furlongs")
