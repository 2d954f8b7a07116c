"""Colours, type sizes and physical sizes of the patient screens.

Everything a patient must see or touch is sized in millimetres on the glass,
not in pixels, so the same layout is usable on a 7-inch 800 x 480 panel and
on a 10-inch 1280 x 800 one. :class:`Metrics` turns millimetres into pixels
from the display's resolution and diagonal (``[ui] diagonal_in``).

Colours: the categorical colours are the Okabe-Ito palette (Okabe & Ito 2008,
"Color Universal Design"), distinguishable with every common colour-vision
deficiency; meaning is never carried by colour alone (every state also has a
word or a shape). Text is near-white on near-black (contrast ratio > 15:1, far
above WCAG AAA's 7:1). The pressure heat map uses viridis (van der Walt &
Smith 2015), perceptually uniform and readable in grey and by colour-blind
viewers.

A theme file (TOML, ``[ui] theme``) may override any colour
(``[colors] accent = "#E69F00"``) and the type scale (``[type] body_mm = 6``).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from gaitkiosk.errors import ConfigError

# Okabe-Ito (RGB).
BLACK = (0, 0, 0)
ORANGE = (230, 159, 0)
SKY_BLUE = (86, 180, 233)
BLUISH_GREEN = (0, 158, 115)
YELLOW = (240, 228, 66)
BLUE = (0, 114, 178)
VERMILLION = (213, 94, 0)
REDDISH_PURPLE = (204, 121, 167)

# viridis at 0, 1/8, ..., 1 (matplotlib's _viridis_data sampled at 9 points);
# the 256-entry table is interpolated linearly between them.
VIRIDIS_ANCHORS = (
    (68, 1, 84), (71, 44, 122), (59, 81, 139), (44, 113, 142), (33, 144, 141),
    (39, 173, 129), (92, 200, 99), (170, 220, 50), (253, 231, 37),
)


@dataclass(frozen=True)
class Colors:
    background: tuple = (12, 14, 20)
    panel: tuple = (32, 36, 48)
    text: tuple = (245, 245, 245)
    muted: tuple = (190, 194, 204)  # secondary text: still > 9:1 on the background
    accent: tuple = SKY_BLUE  # the main action, the patient's dot
    # Okabe-Ito bluish green lightened (same hue) so that text in it reaches 7:1 on the background.
    good: tuple = (0, 190, 140)  # on target, done
    warn: tuple = ORANGE  # attention, pause
    stop: tuple = VERMILLION  # stop, safety alert
    target: tuple = YELLOW  # targets to reach
    left: tuple = BLUE  # left foot
    right: tuple = REDDISH_PURPLE  # right foot
    button: tuple = (52, 58, 76)
    button_text: tuple = (255, 255, 255)
    dark_text: tuple = (0, 0, 0)  # on yellow / orange / sky-blue fills


@dataclass(frozen=True)
class TypeScale:
    """Cap-to-descender text heights in millimetres on the glass.

    At arm's length (~60 cm) 6 mm text subtends ~34 arc-minutes, about 3x the
    size a person with normal acuity reads comfortably, which leaves room for
    the poor eyesight common in a balance clinic. Nothing is smaller than
    ``small_mm``.
    """

    title_mm: float = 11.0
    body_mm: float = 6.5
    small_mm: float = 4.8
    number_mm: float = 16.0  # big live numbers and the countdown


@dataclass(frozen=True)
class Theme:
    colors: Colors = field(default_factory=Colors)
    type: TypeScale = field(default_factory=TypeScale)
    min_target_mm: float = 15.0


def _color(name: str, value) -> tuple:
    if isinstance(value, str) and value.startswith("#") and len(value) == 7:
        try:
            return tuple(int(value[i:i + 2], 16) for i in (1, 3, 5))
        except ValueError:
            pass
    if isinstance(value, list) and len(value) == 3 and all(isinstance(v, int) and 0 <= v <= 255 for v in value):
        return tuple(value)
    raise ConfigError(f"theme colour '{name}' must be \"#RRGGBB\" or [r, g, b], got {value!r}")


def load_theme(path: str | Path | None = None, min_target_mm: float = 15.0) -> Theme:
    """The built-in theme, overlaid with a theme TOML file if one is given."""
    theme = Theme(min_target_mm=min_target_mm)
    if not path:
        return theme
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"theme file {path} does not exist; fix [ui] theme in the config") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"theme file {path} is not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"theme file {path} is not UTF-8 text (TOML must be): byte {exc.start} cannot be read") from None
    colors, scale = theme.colors, theme.type
    known_c = {f.name for f in fields(Colors)}
    known_t = {f.name for f in fields(TypeScale)}
    for key in data:
        if key not in ("colors", "type"):
            raise ConfigError(f"theme file {path}: unknown table [{key}]; use [colors] and [type]")
    for name, value in data.get("colors", {}).items():
        if name not in known_c:
            raise ConfigError(f"theme file {path}: unknown colour {name!r}; known: {', '.join(sorted(known_c))}")
        colors = replace(colors, **{name: _color(name, value)})
    for name, value in data.get("type", {}).items():
        if name not in known_t:
            raise ConfigError(f"theme file {path}: unknown type size {name!r}; known: {', '.join(sorted(known_t))}")
        if not isinstance(value, int | float) or isinstance(value, bool) or not 3.0 <= value <= 100.0:
            raise ConfigError(f"theme file {path}: type size {name} must be a number of mm from 3 to 100, got {value!r}")
        scale = replace(scale, **{name: float(value)})
    if scale.small_mm < 4.0:
        raise ConfigError(f"theme file {path}: small_mm {scale.small_mm} is too small to read at arm's length (>= 4)")
    return replace(theme, colors=colors, type=scale)


@dataclass(frozen=True)
class Metrics:
    """Millimetres on the glass to pixels, for one display."""

    width_px: int
    height_px: int
    diagonal_in: float

    @property
    def px_per_mm(self) -> float:
        diagonal_px = math.hypot(self.width_px, self.height_px)
        return diagonal_px / (self.diagonal_in * 25.4)

    def mm(self, value_mm: float) -> int:
        return max(1, int(round(value_mm * self.px_per_mm)))


def viridis_lut(n: int = 256, lo: float = 0.0, hi: float = 1.0) -> list[tuple[int, int, int]]:
    """``n`` RGB entries of viridis from ``lo`` to ``hi`` (0 = its darkest end, 1 = its lightest),
    interpolated linearly between the anchors. A part of viridis is viridis: still uniform in
    lightness and readable by colour-blind viewers (``tests/test_ui_widgets.py`` checks CIE L*)."""
    out = []
    k_max = len(VIRIDIS_ANCHORS) - 1
    for i in range(n):
        x = (lo + (hi - lo) * i / max(1, n - 1)) * k_max
        k = min(int(x), k_max - 1)
        f = x - k
        a, b = VIRIDIS_ANCHORS[k], VIRIDIS_ANCHORS[k + 1]
        out.append(tuple(int(round(a[j] + (b[j] - a[j]) * f)) for j in range(3)))
    return out


def _luminance(c) -> float:
    """Relative luminance Y (0..1) of an sRGB colour (IEC 61966-2-1 decoding, Rec. 709 weights)."""
    def ch(v):
        v = v / 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4
    r, g, b = (ch(v) for v in c[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def lightness(c) -> float:
    """CIE 1976 L* (0..100) of an sRGB colour: perceived lightness, the axis a colour map for
    magnitudes must climb steadily (a perceptually uniform map climbs it in equal steps)."""
    y = _luminance(c)
    return 116.0 * y ** (1.0 / 3.0) - 16.0 if y > (6.0 / 29.0) ** 3 else y * (29.0 / 3.0) ** 3


def contrast_ratio(fg: tuple, bg: tuple) -> float:
    """WCAG 2 contrast ratio of two sRGB colours (1..21)."""
    hi, lo = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)
