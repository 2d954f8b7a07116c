"""Real release bundles for the updater and install tests.

Wheels of this checkout are built with pip (pure Python: ``GAITKIOSK_NO_EXT=1``,
seconds instead of minutes of Cython) under chosen version numbers, from a copy
of the source, and packed with the real release builder (``gaitkiosk release
build --wheels``) and a real key. A "broken" version fails its own self-test
(one of its modules raises on import); a "newer schema" version carries one
more migration, so a database it opened cannot be read by the older version.
Versions are installed into venvs under a test root with ``GAITKIOSK_TEST_SITE``
(transaction.py): pip's --no-deps, and the test's own site-packages for the
dependencies, so nothing is downloaded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("firmware", "device", "calibration", "kernels", "drills", "ui", "store", "sync", "gaitkiosk")  # pyproject.toml packages
SKIP = shutil.ignore_patterns("__pycache__", "*.so", "*.c", "*.html")


def site_packages() -> str:
    return sysconfig.get_paths()["purelib"]


def source_copy(dest: Path, version: str, *, broken: bool = False, newer_schema: bool = False) -> Path:
    dest.mkdir(parents=True)
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(REPO / name, dest / name)
    for pkg in PACKAGES:
        shutil.copytree(REPO / pkg, dest / pkg, ignore=SKIP)
    shutil.copytree(REPO / "deploy", dest / "deploy")
    init = dest / "gaitkiosk" / "__init__.py"
    text = init.read_text()
    init.write_text(text.replace('__version__ = "', f'__version__ = "{version}"  # was "', 1))
    if broken:
        with open(dest / "gaitkiosk" / "watchdog.py", "a") as f:
            f.write('\nraise RuntimeError("this test release is broken on purpose")\n')
    if newer_schema:
        with open(dest / "store" / "migrations.py", "a") as f:
            f.write('\n\n@_migration\ndef m999_test_newer_schema(db):\n'
                    '    _script(db, "CREATE TABLE test_newer_schema (id INTEGER PRIMARY KEY)")\n')
    return dest


def build_wheel(src: Path, out: Path) -> Path:
    env = {**os.environ, "GAITKIOSK_NO_EXT": "1"}
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(out), str(src)], check=True, env=env, capture_output=True, timeout=600)
    return next(out.glob("gaitkiosk-*.whl"))


def gaitkiosk(*args: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """The gaitkiosk CLI of this checkout, as its own process."""
    return subprocess.run([sys.executable, "-m", "gaitkiosk", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout, cwd=REPO)
