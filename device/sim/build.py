"""A VirtualPatient from the options of ``gaitkiosk simulate`` and the ``[sim]`` config.

``gaitkiosk simulate --out`` (gaitkiosk/commands/simulate.py) and
``gaitkiosk simulate --pty`` (device/pty.py) describe the same person with the
same options; both build it here, so device/ never reaches back into the CLI.
``options`` is the parsed command line (anything with the attributes
``scenario``, ``seed``, ``param``, ``rate``, ``insole_rate``, ``rows``,
``cols``, ``pitch``; ``None`` means "the config's value"). Errors name the
option, as the user typed it, in one line (:class:`SimulationError`).
"""

from __future__ import annotations

import math

from device.sim.errors import SimulationError


def _parse_params(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise SimulationError(f"--param {item!r}: write it as KEY=VALUE (e.g. --param eyes=closed)")
        out[key.strip()] = value.strip()
    return out


def _parse_pitch(text: str) -> tuple[float, float]:
    try:
        values = [float(v) for v in str(text).split(",")]
    except ValueError:
        raise SimulationError(f"--pitch {text!r}: give millimetres, one value or row,col (e.g. 8.47 or 8.47,7.62)") from None
    if len(values) not in (1, 2) or not all(math.isfinite(v) and 0 < v <= 100.0 for v in values):
        raise SimulationError(f"--pitch {text!r}: give one or two millimetre values, each more than 0 and at most 100")
    return (values[0], values[-1])


def build_patient(options, config: dict):
    """The VirtualPatient that ``options`` (and the [sim] config) describe."""
    from device.sim import Body, InsoleGeometry, MatGeometry, VirtualPatient

    sim = config["sim"]
    if sim.get("insole_sensors", 16) != 16:
        raise SimulationError(f"config sim.insole_sensors = {sim['insole_sensors']}: the virtual insole has the 16-sensor layout only")
    rate = options.rate if options.rate is not None else sim["rate_hz"]
    insole_rate = options.insole_rate if options.insole_rate is not None else rate
    if rate <= 0 or insole_rate <= 0:
        raise SimulationError("--rate and --insole-rate must be positive")
    pitch = _parse_pitch(options.pitch) if options.pitch is not None else (sim["mat_pitch_mm"], sim["mat_pitch_mm"])
    try:
        mat = MatGeometry(
            rows=options.rows if options.rows is not None else sim["mat_rows"],
            cols=options.cols if options.cols is not None else sim["mat_cols"],
            pitch_mm=pitch,
            rate_hz=rate,
        )
        body = Body(mass_kg=sim["body_mass_kg"], foot_length_mm=sim["foot_length_mm"])
        return VirtualPatient(
            scenario=options.scenario or sim["scenario"],
            seed=options.seed if options.seed is not None else sim["seed"],
            body=body,
            mat=mat,
            insoles=InsoleGeometry(rate_hz=insole_rate),
            **_parse_params(options.param),
        )
    except SimulationError:
        raise
    except ValueError as exc:
        raise SimulationError(str(exc)) from None
