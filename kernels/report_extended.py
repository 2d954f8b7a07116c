"""The report's optional ``extended`` section (``gaitkiosk analyze --extended``).

The 72 descriptors of Quijoux et al. (2021) (:mod:`kernels.posturography`) of the same COP as the
basic sway set: the sway part of the report's sensor, as that sensor gave it (the extended set's
own preprocessing, 25 Hz and a 10 Hz low-pass, replaces the report's ``--lowpass`` filter, so a
mat's COP is not filtered twice). The section names its sensor (``source``) and, once the report's
calibration block exists, that sensor's calibration state (``calibration``), as the other sections.
"""

from __future__ import annotations

from kernels.posturography import CONVENTIONS, MIN_SECONDS, SWAY_DENSITY_RADIUS_MM, extended_set
from kernels.posturography_table import DESCRIPTORS
from kernels.swarii import LOWPASS_HZ, LOWPASS_ORDER, TARGET_HZ


def empty_section(source: str | None, convention: str) -> dict:
    """The section's frame with every value null (no whole-body COP, or none long enough)."""
    return {
        "source": source,
        "calibration": None,
        "convention": convention,
        "preprocessing": {
            "centred": True, "resampled_hz": TARGET_HZ, "resampling": "SWARII (window 0.08 s)",
            "lowpass_hz": LOWPASS_HZ, "lowpass_order": LOWPASS_ORDER, "filter": "Butterworth, zero-phase (filtfilt)",
            "recentred_after_filter": convention == "gaitkiosk", "ellipse_moments": "n - 1" if convention == "gaitkiosk"
            else "n", "sway_density_radius_mm": SWAY_DENSITY_RADIUS_MM, "min_seconds": MIN_SECONDS,
        },
        "units": {d.key: d.unit for d in DESCRIPTORS},
        "values": dict.fromkeys(d.key for d in DESCRIPTORS),
    }


def extended_section(cop_mm, rate_hz: float, source: str, convention: str = "gaitkiosk") -> tuple[dict, dict]:
    """``(section, reasons)``: reasons maps ``values.<key>`` of each null value to why."""
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {CONVENTIONS}")
    section = empty_section(source, convention)
    values, reasons = extended_set(cop_mm, rate_hz, convention)
    section["values"] = values
    return section, {f"values.{k}": why for k, why in reasons.items()}


def add_calibration(report: dict) -> None:
    """Copy the extended section's sensor's calibration state from the report's calibration block."""
    section = report.get("extended")
    if not section or not section.get("source"):
        return
    sensors = (report.get("calibration") or {}).get("sensors") or {}
    entry = sensors.get(section["source"])
    section["calibration"] = entry["state"] if entry else None
