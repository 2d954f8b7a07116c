"""docs/protocol.md stays honest: its C and Python sender code agrees with the kiosk's codec.

A device author may paste these snippets into firmware, so they are compiled
(C, with the compiler that builds the Cython extensions) and run (Python)
against device.cobs and binascii on random packets.
"""

from __future__ import annotations

import binascii
import re
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from device import cobs
from device.framing import Packet, PacketType, Status, decode_packet, encode_packet

SPEC = Path(__file__).resolve().parent.parent / "docs" / "protocol.md"


def snippets(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", SPEC.read_text(encoding="utf-8"), re.S)


def sample_inputs() -> list[bytes]:
    rng = np.random.default_rng(11)
    cases = [b"", b"\x00", bytes(range(1, 255)), bytes(range(1, 256)), bytes(range(1, 255)) + b"\x00",
             b"\x07" * 508, b"\x07" * 509, b"\x00" * 300]
    for _ in range(300):
        n = int(rng.integers(0, 1200))
        zero_share = rng.random()
        data = rng.integers(1, 256, n).astype(np.uint8)
        data[rng.random(n) < zero_share] = 0
        cases.append(data.tobytes())
    return cases


C_HARNESS = r"""
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
%s
int main(void) {
    static uint8_t in[5000], out[6000];
    uint32_t n;
    while (fread(&n, 4, 1, stdin) == 1 && fread(in, 1, n, stdin) == n) {
        uint32_t m = (uint32_t)cobs_encode(in, n, out), crc = crc32(in, n);
        fwrite(&m, 4, 1, stdout); fwrite(out, 1, m, stdout); fwrite(&crc, 4, 1, stdout);
    }
    return 0;
}
"""


def test_spec_c_snippets_match_the_codec(tmp_path):
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:  # make test builds Cython extensions, so a compiler is normally present
        pytest.skip("no C compiler on PATH to check the spec's C code")
    source = tmp_path / "spec.c"
    source.write_text(C_HARNESS % "\n".join(snippets("c")))
    binary = tmp_path / "spec"
    subprocess.run([compiler, "-std=c99", "-O2", "-Wall", "-Werror", "-o", str(binary), str(source)],
                   check=True)
    cases = sample_inputs() + [b"123456789"]
    feed = b"".join(struct.pack("<I", len(c)) + c for c in cases)
    out = subprocess.run([str(binary)], input=feed, capture_output=True, check=True).stdout
    pos = 0
    for case in cases:
        (m,) = struct.unpack_from("<I", out, pos)
        encoded = out[pos + 4 : pos + 4 + m]
        (crc,) = struct.unpack_from("<I", out, pos + 4 + m)
        pos += 8 + m
        assert encoded == cobs.encode(case), case[:16]
        assert crc == binascii.crc32(case)
    assert crc == 0xCBF43926  # the check value the spec quotes, for "123456789"


def test_spec_python_sender_matches_the_codec():
    namespace: dict = {}
    exec("\n".join(snippets("python")), namespace)  # noqa: S102 - our own documentation
    for case in sample_inputs():
        assert namespace["cobs_encode"](case) == cobs.encode(case), case[:16]
    status = Status(battery_pct=77, temperature_c=30.5, streaming=True, rate_hz=100.0)
    expected = encode_packet(Packet(PacketType.STATUS, 2, 1234, 987_654_321, status))
    payload = struct.pack("<BBffIII", 77, 1, 30.5, 100.0, 0, 0, 0)
    sent = namespace["packet"](PacketType.STATUS, 2, 1234, 987_654_321, payload)
    assert sent == expected
    assert decode_packet(sent[1:-1]).body == status
