"""ZERO (docs/protocol.md section 9.1) in integers: baseline, sigma gate, fixed gate, no gate."""

from array import array

from firmware.zero import Zero, sensel_gate


def test_sensel_gate_matches_the_spec_arithmetic():
    # readings 10, 12 alternating over 32 scans: mean 11, sample variance 32/31 -> 3 sigma = 3.05 -> 4
    s1, s2 = 16 * 10 + 16 * 12, 16 * 100 + 16 * 144
    assert sensel_gate(s1, s2, 32, 0) == (11, 4)
    assert sensel_gate(s1, s2, 32, 25) == (11, 25)
    assert sensel_gate(s1, s2, 32, -1) == (11, 1)
    assert sensel_gate(32 * 5, 32 * 25, 32, 0) == (5, 1)  # no noise: gate 1 (just the clamp)
    s1, s2 = 16 * 4095, 16 * 4095 * 4095  # 0 and 4095 alternating: the smallest g, exactly
    g = sensel_gate(s1, s2, 32, 0)[1]
    need, per = 9 * (32 * s2 - s1 * s1), 32 * 31
    assert g * g * per >= need > (g - 1) * (g - 1) * per and g == 6241


def test_zero_window_then_apply():
    zero = Zero(3, window=32)
    out = array("H", [0, 0, 0])
    assert list(zero.apply([5, 6, 7], out)) == [5, 6, 7]  # before a ZERO: raw counts
    for k in range(32):
        zero.remember([10 + (k & 1) * 2, 100, 0])
    assert zero.ready()
    zero.measure(0)
    assert list(zero.baseline) == [11, 100, 0] and list(zero.gate) == [4, 1, 1]
    assert zero.gate_counts == 0
    assert list(zero.apply([14, 100, 4095], out)) == [0, 0, 4095]
    assert list(zero.apply([15, 99, 0], out)) == [4, 0, 0]
    zero.measure(-1)
    assert zero.gate_counts is None and list(zero.apply([12, 101, 3], out)) == [1, 1, 3]
