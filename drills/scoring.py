"""Score helpers shared by the drills, and the comparison with last time.

Every drill's score is 0-100 and its formula is written out in
docs/drills.md. :func:`compare` turns two stored results of the same drill
(``DrillResult.to_dict()``) into what the result screen shows: the score
change and, for each of the drill's headline measures, whether it improved.
"""

from __future__ import annotations

import math


def clip(x: float, lo: float = 0.0, hi: float = 100.0) -> float:
    """``x`` limited to [lo, hi]; NaN counts as ``lo`` (nothing achieved)."""
    if x is None or not math.isfinite(x):
        return lo
    return min(hi, max(lo, float(x)))


def ratio_pct(achieved: float, wanted: float) -> float:
    """Achievement in %: 100 * achieved / wanted, capped to 0..100 (0 when nothing was wanted)."""
    return clip(100.0 * achieved / wanted) if wanted > 0 else 0.0


def closeness_pct(value: float, target: float, tolerance: float) -> float:
    """100 at the target, falling linearly to 0 at ``tolerance`` away from it."""
    if value is None or not math.isfinite(value) or not tolerance > 0:
        return 0.0
    return clip(100.0 * (1.0 - abs(value - target) / tolerance))


def mean(values) -> float | None:
    vals = [float(v) for v in values if v is not None and math.isfinite(v)]
    return sum(vals) / len(vals) if vals else None


def weighted(parts: dict[str, tuple[float, float]]) -> float:
    """Score from ``{name: (value 0-100, weight)}``; weights need not add to 1."""
    total = sum(w for _, w in parts.values())
    return clip(sum(clip(v) * w for v, w in parts.values()) / total) if total > 0 else 0.0


def lookup(measures: dict, path: str):
    """A value at a dotted path in a measures dict, or None."""
    node = measures
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node if isinstance(node, int | float) and not isinstance(node, bool) else None


def run_params(result: dict) -> dict:
    """The parameters a result was run with, without the program's bookkeeping (``_level``...)."""
    return {k: v for k, v in (result.get("params") or {}).items() if not k.startswith("_")}


def not_comparable(current: dict, previous: dict | None) -> str:
    """Why two results of a drill are not like for like ("" when they are).

    Like for like: both complete, with the same parameters (so the same level), the same
    running time (``max_running_s`` of a short demo run) and the same definition of the drill's
    measures (``measures_version``, results before it: 1). A stopped run is never compared.
    """
    if not previous:
        return "no earlier result"
    if current.get("status") != "complete":
        return "this run was stopped early"
    if previous.get("status") != "complete":
        return "the earlier run was stopped early"
    if run_params(current) != run_params(previous):
        return "the earlier run had other parameters (another level)"
    if (current.get("measures") or {}).get("max_running_s") != (previous.get("measures") or {}).get("max_running_s"):
        return "the earlier run had another length (a short demo run)"
    if current.get("measures_version", 1) != previous.get("measures_version", 1):
        return "the earlier run was measured by an older definition of the measures (a kiosk update)"
    return ""


def compare(current: dict, previous: dict | None) -> dict:
    """Compare two results of the same drill (``DrillResult.to_dict()`` dicts).

    Returns ``{"score": now, "previous_score": before or None, "score_change": now - before
    or None, "like_for_like": bool, "not_comparable": why or "", "measures": [{"label",
    "unit", "now", "before", "improved"}]}``. Both numbers are kept for the therapist, but
    ``score_change`` and ``improved`` are only given like for like (:func:`not_comparable`);
    ``improved`` is True, False, or None when either value is missing or they are not alike.
    The headline measures and whether lower or higher is better come from the drill's ``HEADLINE``.
    """
    from drills import registry

    cls = registry.get(current["drill"])
    now = current.get("score")
    before = previous.get("score") if previous else None
    why = not_comparable(current, previous)
    out = {"score": now, "previous_score": before,
           "score_change": None if now is None or before is None or why else round(now - before, 1),
           "like_for_like": not why, "not_comparable": why, "measures": []}
    for label, path, unit, better in cls.HEADLINE:
        a = lookup(current.get("measures") or {}, path)
        b = lookup((previous or {}).get("measures") or {}, path)
        improved = None
        if a is not None and b is not None and a != b and not why:
            # bool(): measures may hold numpy numbers, whose comparisons give numpy bools (not JSON)
            improved = bool(a < b) if better == "lower" else bool(a > b)
        out["measures"].append({"label": label, "unit": unit, "now": a, "before": b, "improved": improved})
    return out
