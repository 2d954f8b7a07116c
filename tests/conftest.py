"""Shared fixtures.

``shared_data`` is the validation collection beside the repository
(``../shared/data``); checks over it skip with a clear reason only where it is
absent. Small subsets live in ``tests/data`` with their attribution.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEST_DATA = Path(__file__).resolve().parent / "data"
SHARED_DATA = Path(os.environ.get("GAITKIOSK_SHARED_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture
def kiosk_config() -> dict:
    """The config of staff_support's ``kiosk`` (a test module overrides this fixture to change it)."""
    from gaitkiosk.config import default_config

    return default_config()


@pytest.fixture
def test_data() -> Path:
    return TEST_DATA


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"validation data not found at {SHARED_DATA} (set GAITKIOSK_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture
def headless_env(monkeypatch):
    """The kiosk with no display: SDL's dummy drivers, no DISPLAY or WAYLAND_DISPLAY."""
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)


@contextlib.contextmanager
def tmpfs(path: Path, size: str):
    """A real small file system mounted at ``path`` (a card that can fill up or go read-only).

    Skips with the reason where this machine does not allow ``mount`` (CI runs as root).
    """
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"mount is not allowed here ({done.stderr.decode().strip()}); CI runs this as root")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.fixture
def busy():
    """Two processes that keep both cores of this machine busy for the whole test (as other
    engineers' suites do): the tests that must hold real time under load take it."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    yield
    for p in procs:
        p.kill()
        p.wait()
