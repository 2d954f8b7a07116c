"""A command imports only what it needs: its start-up time is most of its wall time.

Heavy libraries (scipy's statistics, signal and image packages, matplotlib, the PDF
libraries, pygame) each take longer to import than the analysis of a recording; a command
that does not draw or print must not pull them in by an eager import somewhere.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gaitkiosk import cli

HEAVY = ("scipy.stats", "scipy.signal", "scipy.ndimage", "matplotlib", "reportlab", "fpdf", "pygame")


def imported_by(*argv: str) -> set[str]:
    """The modules ``gaitkiosk ARGV`` has imported when it returns (run in a fresh interpreter)."""
    code = ("import json, sys\nfrom gaitkiosk import cli\ntry:\n    cli.main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            "sys.stdout.flush()\nsys.stderr.write('\\nMODULES ' + json.dumps(sorted(sys.modules)))\n")
    out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=300)
    marker = out.stderr.rfind("MODULES ")
    assert marker >= 0, out.stderr
    return set(json.loads(out.stderr[marker + len("MODULES "):]))


def json_printed_by(code: str):
    """What ``code``, run in a fresh interpreter, prints as JSON on its last line."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def heavy_in(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


@pytest.mark.parametrize("name", cli.COMMANDS)
def test_no_help_imports_a_heavy_library(name):
    modules = imported_by(name, "--help")
    assert heavy_in(modules) == []
    # Issue 16: every --help within 1.2 x `python -c "import numpy"`: it cannot afford numpy itself.
    assert "numpy" not in modules


def test_top_level_help_imports_neither_numpy_nor_the_store():
    modules = imported_by("--help")
    assert "gaitkiosk.commands.sessions" in modules  # the help did list the commands
    assert not {"numpy", "sqlite_utils", "store.db", "kernels"} & modules


def test_analyze_imports_no_heavy_library(tmp_path):
    recording = tmp_path / "quiet.npz"
    assert cli.main(["simulate", "--out", str(recording), "--seconds", "12", "--scenario", "quiet"]) == 0
    modules = imported_by("analyze", str(recording), "--json")
    assert "kernels.report" in modules  # the analysis did run
    assert heavy_in(modules) == []


def test_sessions_list_imports_no_heavy_library(tmp_path):
    modules = imported_by("sessions", "list", "--data-dir", str(tmp_path))
    assert "store.api" in modules or "store.db" in modules  # it did open the store
    assert heavy_in(modules) == []


def test_sessions_list_imports_neither_numpy_nor_sqlite_utils(tmp_path):
    """Issue 16: `sessions list` within 1.5 x `import numpy`. Listing rows from SQLite needs neither
    numpy (~0.045 s to import) nor sqlite-utils (~0.09 s: click, dateutil...), only its migration
    runner does, when a step is pending."""
    from store import open_store
    from store.patients import Patient

    with open_store(tmp_path) as st:
        session = st.sessions.start(st.patients.add(Patient(code="IMPORT-1")).id)
        st.sessions.finish(session.id)
    code = ("import json, sys, io, contextlib\nfrom gaitkiosk import cli\nout = io.StringIO()\n"
            "with contextlib.redirect_stdout(out):\n    rc = cli.main(sys.argv[1:])\n"
            "print(json.dumps({'rc': rc, 'out': out.getvalue(), 'modules': sorted(sys.modules)}))\n")
    run = subprocess.run([sys.executable, "-c", code, "sessions", "list", "--json", "--data-dir", str(tmp_path)],
                         capture_output=True, text=True, timeout=120, check=True)
    got = json.loads(run.stdout.strip().splitlines()[-1])
    assert got["rc"] == 0 and json.loads(got["out"])["sessions"][0]["id"] == session.id  # it did list
    assert not {"numpy", "sqlite_utils", "zstandard", "kernels"} & set(got["modules"])


def test_the_check_sees_a_heavy_import():
    # The check itself can fail: a command line that imports scipy.stats is caught.
    assert heavy_in(imported_by("--help") | {"scipy.stats._stats_py"}) == ["scipy.stats._stats_py"]


def test_a_kiosk_on_real_ports_does_not_import_the_simulator():
    """Issue 16 "CPU budget": the kiosk's sensor URLs (``config_urls``) imported the virtual patient
    to add [sim] defaults to sim:// URLs, and with it scipy's statistics and signal packages: ~35 MB
    of a kiosk's memory on real ports (bench/bench_kiosk_cpu.py). A sim:// URL still gets them."""
    code = ("import json, sys\nfrom gaitkiosk.config import default_config\nfrom gaitkiosk.sensors import config_urls\n"
            "c = default_config()\nc['devices']['mat'] = '/dev/gaitkiosk/mat'\n"
            "c['devices']['insoles'] = ['/dev/gaitkiosk/insole-left', '/dev/gaitkiosk/insole-right']\n"
            "real = config_urls(c)\n"
            "c['devices']['mat'], c['devices']['tiles'] = '', [{'port': '/dev/gaitkiosk/mat-1'}, {'port': '/dev/gaitkiosk/mat-2'}]\n"
            "tiles = config_urls(c)\nmodules = sorted(sys.modules)\n"
            "c['devices']['insoles'] = ['sim://insole?side=right']\nsim = config_urls(c)\n"
            "print(json.dumps({'real': real, 'tiles': tiles, 'sim': sim, 'modules': modules}))\n")
    got = json_printed_by(code)
    assert got["real"] == ["/dev/gaitkiosk/mat", "/dev/gaitkiosk/insole-left", "/dev/gaitkiosk/insole-right"]
    assert got["tiles"] == ["tiles://devices", "/dev/gaitkiosk/insole-left", "/dev/gaitkiosk/insole-right"]
    assert heavy_in(set(got["modules"])) == [] and "device.sim" not in got["modules"]
    assert got["sim"][1].startswith("sim://insole?side=right&")  # a sim:// URL still gets the [sim] defaults


def test_turning_counts_into_kpa_through_a_stored_curve_does_not_import_the_optimiser():
    """Issue 16 "CPU budget": calibration/curves.py imported scipy.optimize at the top, so every kiosk
    with a calibrated sensor held it (~50 MB of memory) though only a calibration fits a curve."""
    code = ("import json, sys\nimport numpy as np\nfrom calibration.curves import PowerLawCurve\n"
            "from calibration.model import CalibrationModel\n"
            "m = CalibrationModel.for_device('MAT-1', 'mat', (4, 4), sensel_area_mm2=70.0)\n"
            "m.curve = PowerLawCurve(0.5, 1.2)\nm = CalibrationModel.from_json(m.to_json())\n"
            "kpa = m.converter()(np.full((4, 4), 100, np.uint16))\n"
            "print(json.dumps({'kpa': float(kpa[0, 0]), 'modules': sorted(sys.modules)}))\n")
    got = json_printed_by(code)
    assert got["kpa"] > 0
    assert not [m for m in got["modules"] if m == "scipy.optimize" or m.startswith("scipy.optimize.")]
