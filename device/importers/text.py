"""Reading a text export line by line with line numbers, for importers' one-line errors."""

from __future__ import annotations

from pathlib import Path

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
