"""COBS encoding and decoding (docs/protocol.md section 2), byte by byte for a small device.

Packets here are short (a 16-sensor FRAME12 is 48 bytes), so a plain loop is cheap and
needs no slicing tricks that the MicroPython port may lack.
"""

MAX_RUN = 254  # data bytes in a block whose code is 0xFF


def encode(data):
    """COBS-encode ``data`` (bytes-like) into a new bytearray without 0x00 and without delimiters."""
    n = len(data)
    out = bytearray(n + n // MAX_RUN + 1)
    code_at, w, code = 0, 1, 1
    for i in range(n):
        byte = data[i]
        if byte == 0:  # close the block: it stands for "these bytes, then a zero"
            out[code_at] = code
            code_at, w, code = w, w + 1, 1
        else:
            out[w] = byte
            w += 1
            code += 1
            if code == 0xFF and i + 1 < n:  # 254 data bytes: a full block, no zero
                out[code_at] = code
                code_at, w, code = w, w + 1, 1
    out[code_at] = code
    return out[:w]


def decode(encoded):
    """Decode one COBS frame (no delimiters) into a bytearray; ValueError if it is not valid."""
    n = len(encoded)
    if n == 0:
        raise ValueError("empty COBS frame")
    out = bytearray()
    pos = 0
    while pos < n:
        code = encoded[pos]
        if code == 0:
            raise ValueError(f"COBS frame contains a 0x00 at offset {pos}")
        end = pos + code
        if end > n:
            raise ValueError(f"truncated COBS frame: block at offset {pos} runs past the end")
        for i in range(pos + 1, end):
            if encoded[i] == 0:
                raise ValueError(f"COBS frame contains a 0x00 at offset {i}")
            out.append(encoded[i])
        pos = end
        if code != 0xFF and pos < n:
            out.append(0)
    return out
