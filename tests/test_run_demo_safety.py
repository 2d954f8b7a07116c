"""A demo never touches a clinic's data, and the kiosk without a display is never a simulation (issue 9, defect 6).

``gaitkiosk run`` used to run the scripted visit on the virtual patient whenever
there was no display, even without ``--simulate``, and the demo wrote its
patient 1234 into the configured clinic database, replacing a real patient
1234's program. Here the real command runs as a user starts it.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gaitkiosk import cli
from gaitkiosk.config import default_config
from gaitkiosk.demo_seed import DEMO_NAME, is_demo_patient, seed_demo
from gaitkiosk.errors import UsageError
from store import open_store
from store.patients import Patient

GUARD_S = 120  # only against a hang: nothing below waits for it


def gaitkiosk(*args, env_extra=None, drop=("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER")):
    env = {**os.environ, "SDL_AUDIODRIVER": "dummy", "PYGAME_HIDE_SUPPORT_PROMPT": "1"}
    for name in drop:
        env.pop(name, None)
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "gaitkiosk", *args], capture_output=True, text=True,
                          timeout=GUARD_S, env=env)


@pytest.fixture
def clinic(tmp_path):
    """A unit's config: the clinic's data directory (the default devices are virtual, as on a desk)."""
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[kiosk]\ndata_dir = "{tmp_path / "clinic"}"\n')
    return cfg, tmp_path / "clinic"


# SDL's "x11" fails without an X server; "x11,offscreen" falls back to a driver that shows nothing,
# which is what SDL 2.32 does by itself on a machine with no display at all.
@pytest.mark.parametrize("driver", ["x11", "x11,offscreen"])
def test_the_kiosk_without_a_display_says_so_and_runs_no_simulation(clinic, driver):
    cfg, data = clinic
    result = gaitkiosk("run", "--config", str(cfg), env_extra={"SDL_VIDEODRIVER": driver})
    assert result.returncode == 1
    ours = [line for line in result.stderr.splitlines() if line.startswith("gaitkiosk")]
    assert len(ours) == 1 and ours[0].startswith("gaitkiosk run: error: no display to show the kiosk on"), result.stderr
    assert "--simulate --headless" in ours[0]  # and what to run for a demo
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not data.exists()  # no database, no demo patient in the clinic's folder


def test_headless_is_only_the_demo(clinic, capsys, monkeypatch):
    cfg, data = clinic
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    assert cli.main(["run", "--headless", "--config", str(cfg)]) == 1
    assert "add --simulate" in capsys.readouterr().err
    assert not data.exists()


def test_the_demo_keeps_its_own_data_directory(clinic, tmp_path):
    cfg, data = clinic
    xdg = tmp_path / "xdg"
    # --timeout 2: the demo starts, seeds and stops early; where its database lands is what counts.
    result = gaitkiosk("run", "--simulate", "--headless", "--timeout", "2", "--config", str(cfg),
                       env_extra={"XDG_DATA_HOME": str(xdg), "SDL_VIDEODRIVER": "dummy"})
    assert "did not finish" in result.stderr and "Traceback" not in result.stderr
    assert not data.exists()
    demo = xdg / "gaitkiosk-demo"
    assert str(demo / "gaitkiosk.db") in result.stdout  # the summary names the demo's database
    with open_store(demo) as st:
        patient = st.patients.by_code("1234")
        assert is_demo_patient(st, patient) and patient.name == DEMO_NAME


@pytest.mark.parametrize("extra", [[], ["--no-seed"]])
def test_the_demo_never_changes_or_visits_a_real_patient(tmp_path, capsys, monkeypatch, extra):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    d = str(tmp_path)
    assert cli.main(["patients", "add", "1234", "--data-dir", d]) == 0
    assert cli.main(["program", "set", "1234", "quiet_standing", "--data-dir", d]) == 0
    capsys.readouterr()
    assert cli.main(["run", "--simulate", "--headless", "--data-dir", d, *extra]) == 1
    err = capsys.readouterr().err
    assert "patient 1234" in err and "is a real patient" in err and err.count("\n") == 1
    with open_store(tmp_path) as st:
        patient = st.patients.by_code("1234")
        (program,) = st.programs.for_patient(patient.id, active_only=False)
        assert [rx.drill for rx in program.prescriptions] == ["quiet_standing"]
        assert st.sessions.count() == 0


def test_a_demo_patient_is_told_apart_by_its_audit_entry(tmp_path):
    config = default_config()
    with open_store(tmp_path) as st:
        real = st.patients.add(Patient(code="5555", name=DEMO_NAME))  # a name alone does not make a demo
        st.audit.log("patient.add", subject=real.id, details={"code": "5555", "by": "gaitkiosk patients add"})
        old_demo = st.patients.add(Patient(code="1234"))  # seeded by a version before the "demo" mark
        st.audit.log("patient.add", subject=old_demo.id, details={"code": "1234", "by": "gaitkiosk run (demo)"})
        unknown = st.patients.add(Patient(code="7777"))  # no audit entry at all: real
        assert not is_demo_patient(st, real) and is_demo_patient(st, old_demo) and not is_demo_patient(st, unknown)
    assert seed_demo(tmp_path, config, "1234") == old_demo.id  # the old demo patient is still the demo's
    assert seed_demo(tmp_path, config, "2468")  # a new demo patient is marked
    with open_store(tmp_path) as st:
        assert is_demo_patient(st, st.patients.by_code("2468"))
    for code in ("5555", "7777"):
        with pytest.raises(UsageError, match="is a real patient"):
            seed_demo(tmp_path, config, code)
