"""Names, units and definitions of the extended posturography set (72 descriptors).

The set and its definitions are those of Quijoux et al. (2021), Physiological Reports
9(22):e15067, and their published code (MIT, github.com/Jythen/code_descriptors_postural_control);
``peer`` is the name their code gives each descriptor. ``docs/metrics.md`` ("Extended
posturography set") writes every formula out; ``tests/test_posturography_docs.py`` keeps the two
in agreement. ``basic`` names the field of the basic sway set (section 2 of docs/metrics.md)
that measures the same thing, where there is one: the two differ in preprocessing (the extended
set is of the 25 Hz, 10 Hz low-passed COP) and sometimes in definition (said in ``definition``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Descriptor:
    key: str  # field in the report's ``extended.values``
    peer: str  # Quijoux et al.'s name
    unit: str
    group: str
    definition: str
    basic: str | None = None


# How a value in the peer's units (COP in cm) becomes ours (mm), by unit.
CM_TO_OURS = {"mm": 10.0, "mm²": 100.0, "mm/s": 10.0, "mm²/s": 100.0, "mm²/Hz": 100.0, "1/mm": 0.1,
              "": 1.0, "s": 1.0, "Hz": 1.0, "°": 1.0, "count": 1.0}

_AXES = (("ml", "ML", "x (ML)"), ("ap", "AP", "y (AP)"))


def _per_axis(key: str, peer: str, unit: str, group: str, definition: str, basic=None) -> list[Descriptor]:
    """One descriptor per axis: ``{a}`` in key/peer becomes ml/ML, ap/AP; ``{s}`` the signal's name."""
    out = []
    for low, up, name in _AXES:
        out.append(Descriptor(key.format(a=low), peer.format(a=up), unit, group, definition.format(s=name),
                              None if basic is None else basic.format(a=low)))
    return out


def _build() -> tuple[Descriptor, ...]:
    d: list[Descriptor] = []
    pos, dyn, freq, sto = "positional", "dynamic", "frequency", "stochastic"
    d += _per_axis("mean_position_{a}_mm", "mean_value_{a}", "mm", pos,
                   "mean of {s} as given (before centring): where the COP stood on the sensor")
    d += _per_axis("mean_distance_{a}_mm", "mean_distance_{a}", "mm", pos, "mean of |{s}|")
    d.append(Descriptor("mean_distance_mm", "mean_distance_Radius", "mm", pos, "mean of r = sqrt(x² + y²)",
                        "mean_distance_mm"))
    d += _per_axis("max_distance_{a}_mm", "maximal_distance_{a}", "mm", pos, "max of |{s}|")
    d.append(Descriptor("max_distance_mm", "maximal_distance_Radius", "mm", pos, "max of r"))
    d += _per_axis("rms_{a}_mm", "rms_{a}", "mm", pos, "sqrt(mean of {s}²)")
    d.append(Descriptor("rms_distance_mm", "rms_Radius", "mm", pos, "sqrt(mean of r²)", "rms_distance_mm"))
    d += _per_axis("range_{a}_mm", "range_{a}", "mm", pos, "max − min of {s}", "range_{a}_mm")
    d.append(Descriptor("range_mm", "range_ML_AND_AP", "mm", pos,
                        "largest distance between two COP positions (the diameter of the path)"))
    d.append(Descriptor("range_ratio", "range_ratio_ML_AND_AP", "", pos, "range ML / range AP"))
    d.append(Descriptor("planar_deviation_mm", "planar_deviation_ML_AND_AP", "mm", pos,
                        "sqrt(rms ML² + rms AP²)"))
    d.append(Descriptor("sway_direction_coefficient", "coefficient_sway_direction_ML_AND_AP", "", pos,
                        "s_xy / (rms ML · rms AP), s_xy = mean of x·y"))
    d.append(Descriptor("ellipse95_area_mm2", "confidence_ellipse_area_ML_AND_AP", "mm²", pos,
                        "2π · F₀.₉₅(2, n−2) · (n+1)(n−1) / (n(n−2)) · sqrt(s_x² s_y² − s_xy²); gaitkiosk: "
                        "moments with n − 1 (the basic set's ellipse), Quijoux: with n", "ellipse95_area_mm2"))
    d.append(Descriptor("principal_sway_direction_deg", "principal_sway_direction_ML_AND_AP", "°", pos,
                        "angle between the first principal axis of the COP and the AP axis, 0–90° (the basic "
                        "set's ellipse angle is from +x, 0–180°)",
                        "ellipse95_angle_deg"))
    d += _per_axis("mean_velocity_{a}_mm_s", "mean_velocity_{a}", "mm/s", dyn, "Σ|Δ{s}| / (n / fs)",
                   "mean_velocity_{a}_mm_s")
    d.append(Descriptor("mean_velocity_mm_s", "mean_velocity_ML_AND_AP", "mm/s", dyn,
                        "path length Σ sqrt(Δx² + Δy²) / (n / fs)", "mean_velocity_mm_s"))
    d.append(Descriptor("sway_area_per_second_mm2_s", "sway_area_per_second_ML_AND_AP", "mm²/s", dyn,
                        "Σ |x_{i+1} y_i − y_{i+1} x_i| / (2 (n − 1) / fs): area swept about the mean point per s"))
    d += _per_axis("phase_plane_{a}_mm", "phase_plane_parameter_{a}", "mm", dyn,
                   "sqrt(rms of {s}² + var of v), v the Savitzky-Golay velocity of {s} (units added as numbers)")
    d.append(Descriptor("lfs_1_mm", "LFS_ML_AND_AP", "1/mm", dyn, "path length / ellipse95 area (length over surface)"))
    d.append(Descriptor("fractal_dimension", "fractal_dimension_ML_AND_AP", "", dyn,
                        "ln n / (ln n + ln d − ln path length), d = sqrt(4 · ellipse95 area / π)"))
    for low, up, name in _AXES:
        d.append(Descriptor(f"zero_crossings_{low}", f"zero_crossing_SPD_{up}", "count", dyn,
                            f"sign changes of the Savitzky-Golay velocity of {name}"))
        d.append(Descriptor(f"peak_velocity_pos_{low}_mm_s", f"peak_velocity_pos_SPD_{up}", "mm/s", dyn,
                            f"mean of the largest velocity of each complete positive phase of {name}"))
        d.append(Descriptor(f"peak_velocity_neg_{low}_mm_s", f"peak_velocity_neg_SPD_{up}", "mm/s", dyn,
                            f"mean of the largest |velocity| of each complete negative phase of {name}"))
        d.append(Descriptor(f"peak_velocity_{low}_mm_s", f"peak_velocity_all_SPD_{up}", "mm/s", dyn,
                            "mean of both kinds of peak"))
    d.append(Descriptor("sway_density_peak_s", "mean_peak_Sway_Density", "s", dyn,
                        "mean of the peaks of the sway density (time the COP stays within 3 mm)"))
    d.append(Descriptor("sway_density_peak_distance_mm", "mean_distance_peak_Sway_Density", "mm", dyn,
                        "mean distance between the COP positions of consecutive sway-density peaks"))
    d += _per_axis("mean_frequency_{a}_hz", "mean_frequency_{a}", "Hz", dyn,
                   "mean |Δ{s}|·fs / (4√2 · mean distance {s})")
    d.append(Descriptor("mean_frequency_hz", "mean_frequency_ML_AND_AP", "Hz", dyn,
                        "mean speed fs·sqrt(Δx² + Δy²) over the n − 1 steps / (2π · mean distance) (the basic set "
                        "divides the path by n / fs: n / (n − 1) apart)",
                        "mean_frequency_hz"))
    d += _per_axis("total_power_{a}_mm2_hz", "total_power_Power_Spectrum_Density_{a}", "mm²/Hz", freq,
                   "Σ P(f) of {s} over 0.15 ≤ f ≤ 5 Hz (Welch PSD, below)")
    d += _per_axis("power_frequency_50_{a}_hz", "power_frequency_50_Power_Spectrum_Density_{a}", "Hz", freq,
                   "lowest f at which the cumulative power of {s} (0.15–5 Hz) reaches 50 %")
    d += _per_axis("power_frequency_95_{a}_hz", "power_frequency_95_Power_Spectrum_Density_{a}", "Hz", freq,
                   "lowest f at which the cumulative power of {s} (0.15–5 Hz) reaches 95 %")
    d += _per_axis("frequency_mode_{a}_hz", "frequency_mode_Power_Spectrum_Density_{a}", "Hz", freq,
                   "f of the largest P(f) of {s} in 0.15–5 Hz")
    d += _per_axis("centroid_frequency_{a}_hz", "centroid_frequency_Power_Spectrum_Density_{a}", "Hz", freq,
                   "sqrt(m2 / m0), m_k = Σ f^k P(f) over 0.15–5 Hz")
    d += _per_axis("frequency_dispersion_{a}", "frequency_dispersion_Power_Spectrum_Density_{a}", "", freq,
                   "sqrt(1 − m1² / (m0 m2))")
    d += _per_axis("energy_below_05_{a}_mm2_hz", "energy_content_below_05_Power_Spectrum_Density_{a}", "mm²/Hz",
                   freq, "Σ P(f) of {s} over 0.15 ≤ f ≤ 0.5 Hz")
    d += _per_axis("energy_05_2_{a}_mm2_hz", "energy_content_05_2_Power_Spectrum_Density_{a}", "mm²/Hz", freq,
                   "Σ P(f) of {s} over 0.5 < f ≤ 2 Hz")
    d += _per_axis("energy_above_2_{a}_mm2_hz", "energy_content_above_2_Power_Spectrum_Density_{a}", "mm²/Hz",
                   freq, "Σ P(f) of {s} over 2 < f ≤ 5 Hz")
    d += _per_axis("frequency_quotient_{a}", "frequency_quotient_Power_Spectrum_Density_{a}", "", freq,
                   "Σ P over 2 < f ≤ 5 Hz / Σ P over 0.15 ≤ f ≤ 2 Hz")
    for low, up, name in _AXES:
        d.append(Descriptor(f"diffusion_short_{low}_mm2", f"short_time_diffusion_Diffusion_{up}", "mm²", sto,
                            f"exp(intercept) of the short-term line of log MSD against log Δt of {name} "
                            "(the line's MSD at Δt = 1 s)"))
        d.append(Descriptor(f"diffusion_long_{low}_mm2", f"long_time_diffusion_Diffusion_{up}", "mm²", sto,
                            f"exp(intercept) of the long-term line of {name}"))
        d.append(Descriptor(f"critical_time_{low}_s", f"critical_time_Diffusion_{up}", "s", sto,
                            "Δt where the two lines cross (at most the last Δt of the plot)"))
        d.append(Descriptor(f"critical_displacement_{low}_mm2", f"critical_displacement_Diffusion_{up}", "mm²", sto,
                            "MSD of the short-term line at the critical time"))
        d.append(Descriptor(f"scaling_short_{low}", f"short_time_scaling_Diffusion_{up}", "", sto,
                            "slope of the short-term line / 2 (Hurst exponent)"))
        d.append(Descriptor(f"scaling_long_{low}", f"long_time_scaling_Diffusion_{up}", "", sto,
                            "slope of the long-term line / 2"))
    return tuple(d)


DESCRIPTORS: tuple[Descriptor, ...] = _build()
BY_KEY = {d.key: d for d in DESCRIPTORS}
BY_PEER = {d.peer: d for d in DESCRIPTORS}
assert len(DESCRIPTORS) == len(BY_KEY) == len(BY_PEER) == 72
