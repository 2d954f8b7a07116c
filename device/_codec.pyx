# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled twin of device.cobs (COBS) and device.bitpack (12-bit packing).

Same inputs, outputs and errors as the references; device.codec chooses.
Loops run over whole COBS blocks with memcpy (never per byte through Python),
so decoding a 48 x 48 frame costs about as much as copying it.
"""

import sys

import numpy as np

cimport numpy as cnp
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memchr, memcpy, memset

from device.errors import CobsError, LengthError

cnp.import_array()

cdef enum:
    MAX_RUN = 254

# Eight code bytes of 1 in a row: eight empty blocks, i.e. eight zeros in the data.
cdef uint64_t EMPTY_BLOCKS = 0x0101010101010101ULL
# Four code bytes of 2, each followed by one data byte (read little-endian).
cdef uint64_t EVEN_BYTES = 0x00FF00FF00FF00FFULL
cdef uint64_t ONE_BYTE_BLOCKS = 0x0002000200020002ULL
cdef bint LITTLE_ENDIAN = sys.byteorder == "little"  # the masks above assume it


def cobs_encode(data):
    """COBS-encode ``data``; the result contains no 0x00 and no delimiter."""
    cdef const uint8_t[::1] src = data
    cdef Py_ssize_t n = src.shape[0]
    cdef Py_ssize_t cap = n + n // MAX_RUN + 1
    cdef uint8_t* dst = <uint8_t*>malloc(cap if cap > 0 else 1)
    if dst == NULL:
        raise MemoryError()
    cdef Py_ssize_t pos = 0, w = 0, run, limit
    cdef const uint8_t* base = &src[0] if n > 0 else NULL
    cdef const uint8_t* hit
    try:
        while True:
            # One block: up to 254 non-zero bytes, ended by a zero or the end of data.
            limit = n - pos
            if limit > MAX_RUN:
                limit = MAX_RUN
            hit = <const uint8_t*>memchr(base + pos, 0, limit) if limit > 0 else NULL
            run = (hit - (base + pos)) if hit != NULL else limit
            if run == MAX_RUN:
                dst[w] = 0xFF
                memcpy(dst + w + 1, base + pos, run)
                w += run + 1
                pos += run
                if pos == n:
                    break  # ended exactly at a full block: nothing more to say
                continue
            dst[w] = <uint8_t>(run + 1)
            if run:
                memcpy(dst + w + 1, base + pos, run)
            w += run + 1
            pos += run
            if pos >= n:
                break
            pos += 1  # the zero this block stands for
        return PyBytes_FromStringAndSize(<char*>dst, w)
    finally:
        free(dst)


def cobs_decode(encoded):
    """Decode one COBS block sequence (no delimiters); raise CobsError if it is not valid."""
    cdef const uint8_t[::1] src = encoded
    cdef Py_ssize_t n = src.shape[0]
    if n == 0:
        raise CobsError("empty COBS frame: a packet has at least one code byte")
    cdef const uint8_t* base = &src[0]
    cdef const uint8_t* zero = <const uint8_t*>memchr(base, 0, n)
    if zero != NULL:
        raise CobsError(
            f"COBS frame contains a 0x00 at offset {zero - base}: "
            "split the stream at 0x00 delimiters before decoding"
        )
    # Fast path, for frames with no full (0xFF) block before the end, which is
    # what pressure frames with unloaded sensels look like: the decoded bytes
    # are the encoded ones shifted by one, with every later code byte turned
    # into the zero it stands for. One walk along the block chain, taking the
    # two commonest patterns 8 bytes at a time: empty blocks (zero sensels)
    # and one-byte blocks (u16 counts below 256).
    out = PyBytes_FromStringAndSize(NULL, n - 1)
    cdef uint8_t* dst = <uint8_t*>PyBytes_AS_STRING(out)
    if n > 1:
        memcpy(dst, base + 1, n - 1)
    cdef Py_ssize_t pos = 0, code, end
    cdef uint64_t word
    cdef bint full_block = False
    while pos < n:
        code = base[pos]
        if code <= 2 and pos + 8 <= n:
            memcpy(&word, base + pos, 8)
            if word == EMPTY_BLOCKS:
                # Eight zeros in the data (unloaded sensels after zeroing).
                if pos > 0:
                    memset(dst + pos - 1, 0, 8)
                else:
                    memset(dst, 0, 7)
                pos += 8
                continue
            if LITTLE_ENDIAN and pos > 0 and (word & EVEN_BYTES) == ONE_BYTE_BLOCKS:
                # Four blocks of one byte each (u16 counts below 256: high bytes zero).
                word &= ~EVEN_BYTES
                memcpy(dst + pos - 1, &word, 8)
                pos += 8
                continue
        end = pos + code
        if end > n:
            raise CobsError(
                f"truncated COBS frame: block at offset {pos} announces {code - 1} bytes, "
                f"only {n - pos - 1} remain"
            )
        if pos > 0:
            dst[pos - 1] = 0
        if code == 0xFF and end < n:
            full_block = True
            break
        pos = end
    if not full_block:
        return out
    return _cobs_decode_blocks(base, n)


cdef object _cobs_decode_blocks(const uint8_t* base, Py_ssize_t n):
    """General decoder (frames with full blocks): validate and size, then copy block by block."""
    cdef Py_ssize_t pos = 0, size = 0, code, end
    while pos < n:
        code = base[pos]
        end = pos + code
        if end > n:
            raise CobsError(
                f"truncated COBS frame: block at offset {pos} announces {code - 1} bytes, "
                f"only {n - pos - 1} remain"
            )
        size += code - 1
        pos = end
        if code != 0xFF and pos < n:
            size += 1
    out = PyBytes_FromStringAndSize(NULL, size)
    cdef uint8_t* dst = <uint8_t*>PyBytes_AS_STRING(out)
    cdef Py_ssize_t w = 0
    pos = 0
    while pos < n:
        code = base[pos]
        if code > 1:
            memcpy(dst + w, base + pos + 1, code - 1)
            w += code - 1
        pos += code
        if code != 0xFF and pos < n:
            dst[w] = 0
            w += 1
    return out


def pack12(values):
    """Pack unsigned samples below 4096 into the 12-bit little-endian bit stream."""
    flat_array = np.ascontiguousarray(values, dtype=np.uint16).reshape(-1)
    cdef const uint16_t[::1] v = flat_array
    cdef Py_ssize_t count = v.shape[0], i, pairs = count // 2
    cdef uint16_t worst = 0
    for i in range(count):
        if v[i] > worst:
            worst = v[i]
    if worst > 0x0FFF:
        raise ValueError(f"12-bit samples must be below 4096, got {worst}")
    out = PyBytes_FromStringAndSize(NULL, (12 * count + 7) // 8)
    cdef uint8_t* dst = <uint8_t*>PyBytes_AS_STRING(out)
    cdef uint32_t a, b
    for i in range(pairs):
        a = v[2 * i]
        b = v[2 * i + 1]
        dst[3 * i] = a & 0xFF
        dst[3 * i + 1] = (a >> 8) | ((b & 0x0F) << 4)
        dst[3 * i + 2] = b >> 4
    if count % 2:
        a = v[count - 1]
        dst[3 * pairs] = a & 0xFF
        dst[3 * pairs + 1] = a >> 8
    return out


def unpack12(data, Py_ssize_t count):
    """Unpack ``count`` 12-bit samples into a new uint16 array; the length must be exact."""
    cdef const uint8_t[::1] src = data
    cdef Py_ssize_t expected = (12 * count + 7) // 8
    if src.shape[0] != expected:
        raise LengthError(f"{count} 12-bit samples take {expected} bytes, got {src.shape[0]}")
    out = np.empty(count, dtype=np.uint16)
    cdef uint16_t[::1] o = out
    cdef Py_ssize_t i, pairs = count // 2
    cdef const uint8_t* s = &src[0] if expected > 0 else NULL
    cdef uint16_t* d = &o[0] if count > 0 else NULL
    cdef uint32_t word
    with nogil:
        for i in range(pairs):
            # The pair is the 24-bit little-endian word s[3i] | s[3i+1] << 8 | s[3i+2] << 16.
            word = s[3 * i] | (<uint32_t>s[3 * i + 1] << 8) | (<uint32_t>s[3 * i + 2] << 16)
            d[2 * i] = word & 0x0FFF
            d[2 * i + 1] = word >> 12
        if count % 2:
            d[count - 1] = s[3 * pairs] | ((s[3 * pairs + 1] & 0x0F) << 8)
    return out
