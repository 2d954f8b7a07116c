"""Reading a text export line by line with line numbers, for importers' one-line errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from device.errors import ImportFormatError


def read_lines(path: Path, encoding: str = "utf-8") -> list[str]:
    """The file's lines (no line ends). A byte that is not ``encoding`` is named by its offset."""
    data = Path(path).read_bytes()
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ImportFormatError(f"{path}: byte {exc.start} (line {line}) is not {encoding} text "
                                f"(0x{data[exc.start]:02x}): not an export of this format, or damaged") from None
    if "\x00" in text:
        at = text.index("\x00")
        raise ImportFormatError(f"{path}: line {text.count(chr(10), 0, at) + 1} holds a NUL byte (byte {at}): "
                                "a binary or damaged file")
    return text.splitlines()


def fail(path: Path, lineno: int, message: str) -> ImportFormatError:
    """An error naming the 1-based line: ``FILE line N: message``."""
    return ImportFormatError(f"{path} line {lineno}: {message}")


def number(path: Path, lineno: int, text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise fail(path, lineno, f"{what} {text.strip()!r} is not a number") from None


def is_number(text: str) -> bool:
    """Whether ``text`` reads as a number (to name the first field of a row that does not)."""
    try:
        float(text)
    except ValueError:
        return False
    return True


# Pressure units the importers convert to kPa (NIST SP 811: 1 psi = 6.894757 kPa, 1 mmHg = 133.3224 Pa,
# 1 N/cm2 = 10 kPa). Keys are lower case, spaces removed; anything else is refused, never guessed.
PRESSURE_KPA = {"kpa": 1.0, "n/cm2": 10.0, "n/cm²": 10.0, "n/cm^2": 10.0, "mmhg": 0.1333224, "psi": 6.894757,
                "mpa": 1000.0}


def pressure_factor(path: Path, lineno: int, unit: str) -> float:
    """The factor from ``unit`` to kPa, or a one-line error naming the line and the units known."""
    key = unit.strip().lower().replace(" ", "")
    if key not in PRESSURE_KPA:
        raise fail(path, lineno, f"pressure unit {unit.strip()!r} is not one the importer knows "
                                 "(kPa, N/cm2, mmHg, psi, MPa); raw counts or force units cannot become kPa")
    return PRESSURE_KPA[key]


def numeric_rows(path: Path, lines: list[str], first: int, width: int, sep: str | None = None,
                 what: str = "row") -> np.ndarray:
    """``lines[first:]`` as a (n, width) float64 array, each line split on ``sep`` (None: white space).

    A line with another number of fields, or a field that is not a number, is refused naming its line.
    """
    body = lines[first:]
    try:  # numpy's C parser first; any doubt (a ValueError, a skipped blank line) goes the slow way
        data = np.loadtxt(body, delimiter=sep, dtype=np.float64, ndmin=2, comments=None)
        if data.shape == (len(body), width):
            return data
    except ValueError:
        pass
    rows = [line.split(sep) for line in body]
    for k, fields in enumerate(rows):
        if len(fields) != width:
            raise fail(path, first + k + 1, f"{what} has {len(fields)} fields, not {width}: truncated or damaged")
    try:
        return np.array(rows, dtype=np.float64).reshape(len(rows), width)
    except ValueError:
        for k, fields in enumerate(rows):
            bad = next((v for v in fields if not is_number(v)), None)
            if bad is not None:
                raise fail(path, first + k + 1, f"value {bad.strip()!r} is not a number") from None
        raise
