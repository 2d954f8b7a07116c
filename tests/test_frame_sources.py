"""The compiled per-frame kernel's source files agree with setup.py and docs/frame-analysis.md.

kernels/_frame.pyx includes one file per step of docs/frame-analysis.md; a step
file that is not included, not documented, or a .pyx that setup.py does not
build would drift away silently (the golden tests only see what is built).
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KERNELS = ROOT / "kernels"


def _step_files() -> list[str]:
    return sorted(p.name for p in KERNELS.glob("_frame_*.pxi"))


def test_every_step_file_is_included_once_by_frame_pyx():
    included = re.findall(r'^include "([^"]+)"', (KERNELS / "_frame.pyx").read_text(encoding="utf-8"), re.M)
    assert _step_files(), "no step files found"
    assert sorted(included) == _step_files()
    assert len(included) == len(set(included))


def test_every_step_file_says_which_step_it_implements_and_the_docs_list_it():
    doc = (ROOT / "docs" / "frame-analysis.md").read_text(encoding="utf-8")
    shared = (KERNELS / "_frame.pxd").read_text(encoding="utf-8")
    for name in _step_files() + ["_frame_results.pyx", "_frame_insole.pyx"]:
        header = (KERNELS / name).read_text(encoding="utf-8").split("\n\n")[0]
        assert "docs/frame-analysis.md" in header, f"{name}: header names no step of docs/frame-analysis.md"
        assert f"kernels/{name}" in doc, f"docs/frame-analysis.md does not list {name}"
        assert name.rsplit(".", 1)[0] in shared, f"kernels/_frame.pxd does not list {name}"


def test_setup_py_builds_every_pyx():
    setup = (ROOT / "setup.py").read_text(encoding="utf-8")
    for package in ("device", "kernels", "calibration", "ui"):
        for pyx in (ROOT / package).glob("*.pyx"):
            module = f"{package}.{pyx.stem}"
            assert f'("{module}", "{package}/{pyx.name}")' in setup, f"setup.py does not build {module}"
