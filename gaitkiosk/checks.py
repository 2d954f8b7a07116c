"""Named checkers for every value a user gives: command-line options and config keys (STYLE 8).

Each checker describes what it allows (``describe()``, the words the docs and
the error use), checks a value once at the boundary (``check(value, name)``)
and, called with an option's text, is an argparse ``type=``::

    parser.add_argument("--seconds", type=positive(most=DAY_S, unit="seconds"))

A bad value gives one line naming the option or key and the allowed range,
``argument --seconds: must be a number of seconds above 0 and at most 86400, got 'nan'``;
inner code then trusts what it is handed. ``nan`` and ``inf`` are refused
everywhere: Python parses them as floats, and a comparison with ``nan`` is
always false, so an unchecked ``nan`` slips past ``if seconds <= 0`` and then
never ends a loop.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from gaitkiosk.errors import UsageError

DAY_S = 24 * 3600.0


def _fmt(v: float) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


@dataclass(frozen=True)
class Number:
    """A finite number (``whole``: an integer) with optional bounds; build it with the functions below."""

    least: float | None = None  # inclusive
    above: float | None = None  # exclusive
    most: float | None = None  # inclusive
    whole: bool = False
    unit: str = ""  # "seconds": "a number of seconds ..."

    def describe(self) -> str:
        noun = "a whole number" if self.whole else "a number"
        if self.unit:
            noun += f" of {self.unit}"
        if self.least is not None and self.least == self.most:
            return _fmt(self.least)
        if self.least is not None and self.most is not None:
            return f"{noun} from {_fmt(self.least)} to {_fmt(self.most)}"
        parts = []
        if self.above is not None:
            parts.append(f"above {_fmt(self.above)}")
        if self.least is not None:
            parts.append(f"at least {_fmt(self.least)}")
        if self.most is not None:
            parts.append(f"at most {_fmt(self.most)}")
        return f"{noun} " + " and ".join(parts) if parts else f"a finite {noun.removeprefix('a ')}"

    def ok(self, value) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if self.whole and not isinstance(value, int):
            return False
        if isinstance(value, float) and not math.isfinite(value):  # (an int is finite; 10**400 has no float)
            return False
        return not ((self.least is not None and value < self.least) or (self.above is not None and value <= self.above)
                    or (self.most is not None and value > self.most))

    def check(self, value, name: str = ""):
        """``value`` if allowed, else :class:`UsageError` naming ``name`` and the range."""
        if not self.ok(value):
            raise UsageError(_message(name, self.describe(), value))
        return float(value) if not self.whole else int(value)

    def parse(self, text: str, name: str = ""):
        """An option's text as the number it allows (``1e3`` is a number, not a whole number)."""
        try:
            value = int(text) if self.whole else float(text)
        except (TypeError, ValueError):
            value = None
        if not self.ok(value):
            raise UsageError(_message(name, self.describe(), text))  # the text as typed: 'nan', '1e20'
        return value

    def __call__(self, text: str):  # argparse type=: argparse puts "argument --x: " in front
        try:
            return self.parse(text)
        except UsageError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None


@dataclass(frozen=True)
class Choice:
    """One word out of a list (or a function that returns it, so a heavy module loads only when asked)."""

    options: tuple[str, ...] | Callable[[], tuple[str, ...]]

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(self.options() if callable(self.options) else self.options)

    def describe(self) -> str:
        return "one of " + ", ".join(self.choices)

    def ok(self, value) -> bool:
        return isinstance(value, str) and value in self.choices

    def check(self, value, name: str = ""):
        if not self.ok(value):
            raise UsageError(_message(name, self.describe(), value))
        return value

    def __call__(self, text: str):
        if not self.ok(text):
            raise argparse.ArgumentTypeError(_message("", self.describe(), text))
        return text


@dataclass(frozen=True)
class Pattern:
    """Text matching a regular expression, described in words (``what``)."""

    regex: str
    what: str

    def describe(self) -> str:
        return self.what

    def ok(self, value) -> bool:
        return isinstance(value, str) and re.fullmatch(self.regex, value) is not None

    def check(self, value, name: str = ""):
        if not self.ok(value):
            raise UsageError(_message(name, self.describe(), value))
        return value

    def __call__(self, text: str):
        if not self.ok(text):
            raise argparse.ArgumentTypeError(_message("", self.describe(), text))
        return text


@dataclass(frozen=True)
class Flag:
    """true or false (TOML booleans; not 0/1)."""

    def describe(self) -> str:
        return "true or false"

    def ok(self, value) -> bool:
        return isinstance(value, bool)

    def check(self, value, name: str = ""):
        if not self.ok(value):
            raise UsageError(_message(name, self.describe(), value))
        return value


@dataclass(frozen=True)
class ListOf:
    """A list of items that each pass ``item``, at most ``most`` of them."""

    item: Number | Choice | Pattern
    most: int | None = None

    def describe(self) -> str:
        many = f"up to {self.most}" if self.most is not None else "a list of"
        return f"{many} items, each {self.item.describe()}"

    def ok(self, value) -> bool:
        return isinstance(value, list) and (self.most is None or len(value) <= self.most) \
            and all(self.item.ok(v) for v in value)

    def check(self, value, name: str = ""):
        if not isinstance(value, list) or (self.most is not None and len(value) > self.most):
            raise UsageError(_message(name, self.describe(), value))
        for v in value:
            if not self.item.ok(v):
                raise UsageError(f"{name} entry {v!r} must be {self.item.describe()}")
        return value


def _message(name: str, allowed: str, got) -> str:
    head = f"{name} must be" if name else "must be"
    return f"{head} {allowed}, got {got!r}"


# -- the named checkers ------------------------------------------------------------------------------
def finite(unit: str = "") -> Number:
    """Any finite number."""
    return Number(unit=unit)


def positive(*, most: float | None = None, unit: str = "") -> Number:
    """A finite number above 0 (and at most ``most``)."""
    return Number(above=0.0, most=most, unit=unit)


def within(least: float, most: float, *, unit: str = "") -> Number:
    """A finite number from ``least`` to ``most`` inclusive."""
    return Number(least=least, most=most, unit=unit)


def integer(least: int, most: int, *, unit: str = "") -> Number:
    """A whole number from ``least`` to ``most`` inclusive."""
    return Number(least=least, most=most, whole=True, unit=unit)


def one_of(*choices: str, lazy: Callable[[], tuple[str, ...]] | None = None) -> Choice:
    """One of ``choices`` (or of what ``lazy()`` returns)."""
    return Choice(lazy if lazy is not None else tuple(choices))


def flag() -> Flag:
    return Flag()


def list_of(item, *, most: int | None = None) -> ListOf:
    return ListOf(item, most)


def text(what: str) -> Pattern:
    """Any text (a path, a port URL); ``what`` says what it names."""
    return Pattern(r"(?s).*", what)


def matching(regex: str, what: str) -> Pattern:
    return Pattern(regex, what)
