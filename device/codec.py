"""Byte-level codec of the wire protocol: COBS and 12-bit packing, compiled or reference.

Public wrapper over two implementations with identical behaviour:

- ``device._codec`` (Cython, built by ``make build``): the fast path;
- ``device.cobs`` and ``device.bitpack`` (pure Python / numpy): the readable
  specification and the fallback.

``IMPLEMENTATION`` says which one runs ("compiled" or "reference"). If the
extension is missing the import falls back with a warning; ``GAITKIOSK_PURE=1``
forces the reference (CI runs the tests both ways).

Functions:
    cobs_encode(data) -> bytes          no 0x00 in the result, no delimiters
    cobs_decode(encoded) -> bytes       raises CobsError on invalid input
    pack12(values) -> bytes             uint16 values < 4096, any shape (C order)
    unpack12(data, count) -> ndarray    new writable uint16 array of ``count`` samples
"""

from __future__ import annotations

import os
import warnings
from contextlib import contextmanager

from device import bitpack, cobs

try:
    from device import _codec as _built
except ImportError as exc:  # extension not built: keep working, but say so
    _built = None
    _import_error = exc

if os.environ.get("GAITKIOSK_PURE") == "1":
    _compiled = None
elif _built is None:
    _compiled = None
    warnings.warn(
        "device._codec is not built; using the pure-Python wire codec "
        f"(much slower). Run `make build` to compile it. ({_import_error})",
        RuntimeWarning,
        stacklevel=2,
    )
else:
    _compiled = _built

if _compiled is not None:
    IMPLEMENTATION = "compiled"
    cobs_encode = _compiled.cobs_encode
    cobs_decode = _compiled.cobs_decode
    pack12 = _compiled.pack12
    unpack12 = _compiled.unpack12
else:
    IMPLEMENTATION = "reference"
    cobs_encode = cobs.encode
    cobs_decode = cobs.decode
    pack12 = bitpack.pack12
    unpack12 = bitpack.unpack12

packed12_size = bitpack.packed12_size
max_encoded_size = cobs.max_encoded_size

#: Both implementations, for tests and benchmarks that compare them.
REFERENCE = {
    "cobs_encode": cobs.encode,
    "cobs_decode": cobs.decode,
    "pack12": bitpack.pack12,
    "unpack12": bitpack.unpack12,
}
#: The compiled functions whether or not they are in use (None if not built),
#: so a GAITKIOSK_PURE=1 run can still compare the two.
COMPILED = (
    None
    if _built is None
    else {
        "cobs_encode": _built.cobs_encode,
        "cobs_decode": _built.cobs_decode,
        "pack12": _built.pack12,
        "unpack12": _built.unpack12,
    }
)

_NAMES = ("cobs_encode", "cobs_decode", "pack12", "unpack12")


@contextmanager
def use_implementation(name: str):
    """Temporarily run the "compiled" or "reference" codec (tests and benchmarks only).

    Swaps this module's functions, which ``device.framing`` looks up on every
    call; not thread-safe, so never use it while readers run.
    """
    global IMPLEMENTATION
    table = {"compiled": COMPILED, "reference": REFERENCE}.get(name, KeyError)
    if table is KeyError:
        raise ValueError(f"implementation must be 'compiled' or 'reference', got {name!r}")
    if table is None:
        raise RuntimeError("device._codec is not built: run `make build`")
    module = globals()
    saved = {key: module[key] for key in _NAMES}
    saved_name = IMPLEMENTATION
    module.update(table)
    IMPLEMENTATION = name
    try:
        yield
    finally:
        module.update(saved)
        IMPLEMENTATION = saved_name
