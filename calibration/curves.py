"""Monotone response curves: normalised counts -> kPa, fitted from known loads.

A resistive sensel's resistance falls steeply and non-linearly with load while
its conductance rises roughly in proportion (Tekscan, "How to convert
resistance to force", support FAQ); through a read-out circuit the counts above
zero then grow like a power of the pressure, so the model is

    kPa = a * n ** b            (PowerLawCurve)

with ``n`` the sensel's counts above its zero divided by its relative gain.
Where a sensor departs from a power law, a monotone piecewise-linear curve
through the origin (``PiecewiseLinearCurve``) follows it. Both are fitted to
:class:`Observation` s: "these normalised counts, over these areas, carried
this known total" -- one bladder pressure (a single median value, area 1,
target kPa) or one known weight (every loaded sensel, its area, the weight in
kPa * mm2). The total is linear in the piecewise curve's knot values, so that
fit is a non-negative least squares on the knot increments (monotone by
construction); the power law is a one-dimensional search in ``b`` with ``a``
in closed form.

Which family is used is decided by the leave-one-out error on the known
totals (each load predicted by a curve fitted without it), so a curve that
merely threads its own points does not win. Below three loads there is no
leave-one-out, and the power law -- the sensor's physics -- is used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from calibration.errors import CalibrationFileError, CurveFitError

# _fit_imports_note: scipy.optimize is imported by the two fits only. A running kiosk loads this
# module to turn counts into kPa through a stored curve and never fits one; importing the optimiser
# at the top cost every kiosk ~50 MB of memory (bench/bench_kiosk_cpu.py, issue 16 "CPU budget").

B_RANGE = (0.2, 5.0)  # plausible exponents of counts -> kPa for resistive sensors


@dataclass
class Observation:
    """Normalised counts ``n`` over ``area`` (mm2, or 1 for a pressure) that carried ``target``."""

    n: np.ndarray
    area: np.ndarray | float
    target: float  # kPa * mm2 (a force * 1e3) or kPa when area is 1
    label: str = ""

    def weights(self) -> np.ndarray:
        return np.broadcast_to(np.asarray(self.area, dtype=np.float64), np.shape(self.n))


class PowerLawCurve:
    kind = "power"

    def __init__(self, a: float, b: float):
        self.a = float(a)
        self.b = float(b)

    def __call__(self, n) -> np.ndarray:
        return self.a * np.clip(np.asarray(n, dtype=np.float64), 0.0, None) ** self.b

    def to_json(self) -> dict:
        return {"kind": self.kind, "a": self.a, "b": self.b}

    def __repr__(self) -> str:
        return f"PowerLawCurve(a={self.a:.6g}, b={self.b:.4g})"


class PiecewiseLinearCurve:
    """Through (0, 0) and the knots; beyond the last knot the last slope continues."""

    kind = "piecewise"

    def __init__(self, knots_n, knots_kpa):
        self.knots_n = np.asarray(knots_n, dtype=np.float64)
        self.knots_kpa = np.asarray(knots_kpa, dtype=np.float64)

    def __call__(self, n) -> np.ndarray:
        n = np.clip(np.asarray(n, dtype=np.float64), 0.0, None)
        x, y = self.knots_n, self.knots_kpa
        out = np.interp(n, x, y)
        slope = (y[-1] - y[-2]) / (x[-1] - x[-2])
        return np.where(n > x[-1], y[-1] + slope * (n - x[-1]), out)

    def to_json(self) -> dict:
        return {"kind": self.kind, "knots_n": self.knots_n.tolist(), "knots_kpa": self.knots_kpa.tolist()}

    def __repr__(self) -> str:
        return f"PiecewiseLinearCurve({len(self.knots_n)} knots up to n={self.knots_n[-1]:.4g})"


Curve = PowerLawCurve | PiecewiseLinearCurve


def curve_from_json(data) -> Curve:
    """Rebuild a curve, refusing anything that is not a finite, monotone curve through 0."""
    where = "calibration curve"
    if not isinstance(data, dict) or "kind" not in data:
        raise CalibrationFileError(f"{where}: expected an object with 'kind'; re-run the calibration")
    kind = data["kind"]
    try:
        if kind == "power":
            a, b = float(data["a"]), float(data["b"])
            if not (math.isfinite(a) and a > 0 and B_RANGE[0] <= b <= B_RANGE[1]):
                raise CalibrationFileError(
                    f"{where}: power law a={a}, b={b} is not a plausible sensor response "
                    f"(a > 0, {B_RANGE[0]} <= b <= {B_RANGE[1]}); re-run the calibration")
            return PowerLawCurve(a, b)
        if kind == "piecewise":
            x = np.asarray(data["knots_n"], dtype=np.float64)
            y = np.asarray(data["knots_kpa"], dtype=np.float64)
            if x.ndim != 1 or x.shape != y.shape or len(x) < 2:
                raise CalibrationFileError(f"{where}: knots_n and knots_kpa must be equal-length lists of >= 2 numbers")
            if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
                raise CalibrationFileError(f"{where}: knots must be finite numbers")
            if x[0] != 0 or y[0] != 0 or np.any(np.diff(x) <= 0) or np.any(np.diff(y) < 0) or y[-1] <= 0:
                raise CalibrationFileError(
                    f"{where}: knots must start at (0, 0) and rise (strictly in counts, never falling in kPa); "
                    "re-run the calibration")
            return PiecewiseLinearCurve(x, y)
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, CalibrationFileError):
            raise
        raise CalibrationFileError(f"{where}: {kind} curve is malformed ({exc}); re-run the calibration") from None
    raise CalibrationFileError(f"{where}: unknown kind {kind!r} (known: power, piecewise)")


# --- fitting ------------------------------------------------------------------------------


def check_observations(obs: list[Observation], what: str = "load") -> list[Observation]:
    """Sorted by target; refuses too few, repeated or non-monotone loads (CurveFitError)."""
    if len(obs) < 2:
        raise CurveFitError(
            f"a response curve needs at least 2 different known {what}s, got {len(obs)}; "
            f"add another {what} (a heavier weight or a second bladder pressure) and run again")
    for o in obs:
        if not (math.isfinite(o.target) and o.target > 0):
            raise CurveFitError(f"{what} {o.label or '?'}: the known value must be positive, got {o.target}")
    ordered = sorted(obs, key=lambda o: o.target)
    for lo, hi in zip(ordered, ordered[1:], strict=False):
        if hi.target <= lo.target * 1.02:
            raise CurveFitError(
                f"{what}s {lo.label} and {hi.label} are (nearly) the same; use {what}s at least 10 % apart")
        slo, shi = _signal(lo), _signal(hi)
        if not shi > slo:
            raise CurveFitError(
                f"{what} {hi.label} read no more than the lighter {lo.label} ({shi:.4g} <= {slo:.4g} counts): "
                "the points are not monotone. Check that each load was on the sensing area, "
                "in the order asked, and run again")
    return ordered


def _signal(o: Observation) -> float:
    return float(np.sum(o.weights() * np.clip(o.n, 0, None)))


def fit_power(obs: list[Observation]) -> PowerLawCurve:
    """a, b minimising the relative error of the predicted totals."""
    logs = [(np.log(np.clip(o.n, 1e-12, None)), o.weights(), o.n > 0, o.target) for o in obs]
    scale = max(float(np.max(o.n)) for o in obs)
    lscale = math.log(scale)

    def sums(b: float) -> np.ndarray:
        # sum A * (n / scale) ** b, kept in range for any b
        return np.array([np.sum(w[ok] * np.exp(b * (ln[ok] - lscale))) for ln, w, ok, _ in logs])

    targets = np.array([t for *_, t in logs])

    def a_of(b: float) -> float:
        r = sums(b) / targets
        return float(np.sum(r) / np.sum(r * r)) if np.sum(r * r) > 0 else 0.0

    def cost(b: float) -> float:
        pred = a_of(b) * sums(b)
        return float(np.sum((pred / targets - 1.0) ** 2))

    from scipy.optimize import minimize_scalar  # here, not at the top: see _fit_imports_note

    res = minimize_scalar(cost, bounds=B_RANGE, method="bounded", options={"xatol": 1e-6})
    b = float(res.x)
    a = a_of(b) / scale**b
    if not (math.isfinite(a) and a > 0):
        raise CurveFitError("the power-law fit failed (no load produced counts above zero); check the loads and run again")
    return PowerLawCurve(a, b)


def _knots(obs: list[Observation]) -> np.ndarray:
    tops = []
    for o in obs:
        n = np.asarray(o.n)[np.asarray(o.n) > 0]
        tops.append(float(np.quantile(n, 0.9)) if n.size > 1 else float(n.max(initial=0.0)))
    tops = np.unique(np.round(tops, 9))
    return np.concatenate([[0.0], tops[tops > 0]])


def _basis(n: np.ndarray, w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Row of sum_i w_i * phi_j(n_i) for the knot values v_1..v_J (v_0 = 0 dropped)."""
    J = len(x) - 1
    row = np.zeros(J + 1)
    n = np.clip(n, 0.0, None)
    for j in range(J + 1):
        e = np.zeros(J + 1)
        e[j] = 1.0
        curve = PiecewiseLinearCurve(x, e)
        row[j] = np.sum(w * curve(n))
    return row[1:]


def fit_piecewise(obs: list[Observation]) -> PiecewiseLinearCurve:
    x = _knots(obs)
    if len(x) < 2:
        raise CurveFitError("no load produced counts above zero; check the loads and run again")
    targets = np.array([o.target for o in obs])
    B = np.array([_basis(np.asarray(o.n, dtype=np.float64), o.weights(), x) for o in obs]) / targets[:, None]
    J = len(x) - 1
    L = np.tril(np.ones((J, J)))  # v = L d, d >= 0: monotone knot values
    from scipy.optimize import nnls  # here, not at the top: see _fit_imports_note

    d, _ = nnls(B @ L, np.ones(len(obs)))
    v = np.concatenate([[0.0], L @ d])
    if v[-1] <= 0:
        raise CurveFitError("the piecewise fit found no rising curve; check the loads and run again")
    return PiecewiseLinearCurve(x, v)


FITTERS = {"power": fit_power, "piecewise": fit_piecewise}


def predict(curve: Curve, o: Observation) -> float:
    return float(np.sum(o.weights() * curve(o.n)))


def relative_errors(curve: Curve, obs: list[Observation]) -> np.ndarray:
    return np.array([predict(curve, o) / o.target - 1.0 for o in obs])


def leave_one_out(kind: str, obs: list[Observation]) -> float | None:
    """RMS relative error (%) of each load predicted by a curve fitted without it."""
    if len(obs) < 3:
        return None
    errs = []
    for k in range(len(obs)):
        rest = obs[:k] + obs[k + 1 :]
        try:
            curve = FITTERS[kind](rest)
        except CurveFitError:
            return math.inf
        errs.append(predict(curve, obs[k]) / obs[k].target - 1.0)
    return float(100.0 * np.sqrt(np.mean(np.square(errs))))


def fit_curve(obs: list[Observation], kinds=("power", "piecewise"), what: str = "load") -> tuple[Curve, dict]:
    """The best curve of ``kinds`` for ``obs`` and a report {kind: {residual_pct, loo_pct}, chosen}."""
    obs = check_observations(obs, what)
    report: dict = {}
    fitted = {}
    for kind in kinds:
        if kind not in FITTERS:
            raise CurveFitError(f"unknown curve kind {kind!r}; use one of {', '.join(FITTERS)}")
        curve = FITTERS[kind](obs)
        fitted[kind] = curve
        rel = relative_errors(curve, obs)
        report[kind] = {
            "residual_pct": float(100.0 * np.sqrt(np.mean(rel**2))),
            "loo_pct": leave_one_out(kind, obs),
        }
    loo = {k: r["loo_pct"] for k, r in report.items() if r["loo_pct"] is not None}
    if loo:
        chosen = min(loo, key=lambda k: (loo[k], k != "power"))
    else:
        chosen = "power" if "power" in fitted else next(iter(fitted))
    report["chosen"] = chosen
    return fitted[chosen], report
