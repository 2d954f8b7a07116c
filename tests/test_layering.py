"""docs/architecture.md section 2: data flows one way, and imports follow it.

A package imports only the packages to its left in the flow (plus ``store``
where it persists); ``gaitkiosk`` is the composition root that imports them
all, so no other package may import from it, except ``gaitkiosk.errors`` (the
project's errors, import-light on purpose) and the version string.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Who may import whom (section 2's flow and its "must not" column; section 7 for ui/).
ALLOWED = {
    "device": set(),
    "calibration": {"device", "store"},
    "kernels": {"calibration"},  # "must not know about devices, drills or the UI"
    "drills": {"device", "calibration", "kernels", "store"},  # device only for the virtual patient (autopilot)
    "ui": {"calibration", "kernels"},  # "ui/ imports neither devices, drills nor the store"
    "store": {"device"},  # the recording interchange file (DESIGN 4.1) for export
    "sync": {"device", "calibration", "kernels", "drills", "store"},
}
PACKAGES = {*ALLOWED, "gaitkiosk", "firmware"}
# What every package may take from the composition root.
FROM_ROOT = {"gaitkiosk.errors", "gaitkiosk.__version__"}

CYTHON_IMPORT = re.compile(r"^\s*(?:from\s+([\w.]+)\s+c?import\s+([\w, ()]+)|c?import\s+([\w.]+))", re.M)


def _imports(path: Path) -> list[str]:
    """Dotted names a module imports (``from a.b import c`` gives ``a.b.c``)."""
    text = path.read_text(encoding="utf-8")
    names: list[str] = []
    if path.suffix == ".py":
        for node in ast.walk(ast.parse(text, str(path))):
            if isinstance(node, ast.Import):
                names += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names += [f"{node.module}.{alias.name}" for alias in node.names]
    else:  # .pyx / .pxd: no ast, but imports are one per line
        for module, what, plain in CYTHON_IMPORT.findall(text):
            if plain:
                names.append(plain)
            else:
                names += [f"{module}.{w.strip()}" for w in what.strip("()").split(",") if w.strip()]
    return names


def _violations(package: str) -> list[str]:
    found = []
    for path in sorted((ROOT / package).rglob("*")):
        if path.suffix not in (".py", ".pyx", ".pxd"):
            continue
        for name in _imports(path):
            top = name.split(".")[0]
            if top not in PACKAGES or top == package or top in ALLOWED[package]:
                continue
            if top == "gaitkiosk" and any(name == r or name.startswith(r + ".") for r in FROM_ROOT):
                continue
            found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_is_left_of_it_in_the_flow(package):
    assert _violations(package) == []


def test_the_check_sees_a_forbidden_import(tmp_path, monkeypatch):
    # The checker itself can fail: a module in device/ reaching into the CLI is caught.
    module = tmp_path / "device" / "sim" / "bad.py"
    module.parent.mkdir(parents=True)
    module.write_text("def f():\n    from gaitkiosk.commands.simulate import build_patient\n")
    pyx = tmp_path / "kernels" / "_bad.pyx"
    pyx.parent.mkdir()
    pyx.write_text("from drills.base cimport Drill\nimport ui.app\n")
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    assert _violations("device") == ["device/sim/bad.py imports gaitkiosk.commands.simulate.build_patient"]
    assert _violations("kernels") == ["kernels/_bad.pyx imports drills.base.Drill", "kernels/_bad.pyx imports ui.app"]
