"""--seconds N: how long each drill runs in a demo (gaitkiosk.visit), and the demo program's parameters."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from drills import registry
from gaitkiosk.demo_seed import demo_prescriptions
from gaitkiosk.visit import COUNTED_DRILL_FACTOR, DEMO_MIN_S, Visit


def visit(seconds):
    return Visit(SimpleNamespace(drill_seconds=seconds))


@pytest.mark.parametrize("name", registry.names())
def test_every_drill_gets_at_least_its_minimum_and_counted_drills_four_times_n(name):
    cls = registry.get(name)
    limit = visit(8.0)._max_running_s(cls)
    counted = not cls(None).planned_duration()
    assert limit == max(8.0 * (COUNTED_DRILL_FACTOR if counted else 1.0), DEMO_MIN_S.get(name, 0.0))
    assert visit(None)._max_running_s(cls) is None  # a real visit runs the prescribed durations


def test_the_program_screen_shows_the_demo_length_of_timed_drills():
    v = visit(8.0)
    assert v._planned_s(registry.get("quiet_standing"), None) == 8.0
    assert v._planned_s(registry.get("gait_insoles"), None) == DEMO_MIN_S["gait_insoles"]
    assert v._planned_s(registry.get("tandem_walk"), None) is None  # ends on a count
    assert visit(None)._planned_s(registry.get("gait_insoles"), None) == 90.0


def test_the_demo_program_uses_every_drill_with_parameters_a_virtual_patient_can_score_on():
    rx = {p.drill: p.params for p in demo_prescriptions()}
    assert list(rx) == registry.names()
    assert rx["tandem_walk"]["steps"] == 3 and rx["gait_insoles"]["uplift_pct"] == 0
