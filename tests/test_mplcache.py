"""matplotlib's font cache is built once (`python -m gaitkiosk.mplcache`, run by `make build` and the
install) in the kiosk's cache directory, and a later process that draws a report's plot finds it
there instead of building it again (issue 11: "its font cache built at install, not at every start")."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLOT = ("from gaitkiosk import session_pdf; "
        "png = session_pdf.ellipse_png({'major': 12.0, 'minor': 5.0, 'angle': 30.0, 'area': 188.0}); "
        "assert png.startswith(b'\\x89PNG')")


def fresh(tmp_path, *argv):
    """A new interpreter as the kiosk user starts one: no MPLCONFIGDIR, its own home and cache."""
    env = {k: v for k, v in os.environ.items() if k not in ("MPLCONFIGDIR", "XDG_CONFIG_HOME")}
    env.update(HOME=str(tmp_path / "home"), XDG_CACHE_HOME=str(tmp_path / "cache"), PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, *argv], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=300)


def test_the_font_cache_is_built_once_and_found_by_the_next_process(tmp_path):
    (tmp_path / "home").mkdir()
    built = fresh(tmp_path, "-m", "gaitkiosk.mplcache")
    assert built.returncode == 0, built.stderr
    where = tmp_path / "cache" / "gaitkiosk" / "matplotlib"
    lists = list(where.glob("fontlist-v*.json"))
    assert len(lists) == 1 and str(lists[0]) in built.stdout
    before = (lists[0].stat().st_mtime_ns, lists[0].read_bytes())

    drawn = fresh(tmp_path, "-c", PLOT)
    assert drawn.returncode == 0, drawn.stderr
    assert "building the font cache" not in drawn.stderr
    assert (lists[0].stat().st_mtime_ns, lists[0].read_bytes()) == before  # read, not rebuilt
    # ... and nowhere else: not matplotlib's own default beside ours, not in the home directory
    assert not (tmp_path / "cache" / "matplotlib").exists()
    assert list((tmp_path / "home").rglob("fontlist-v*.json")) == []


def test_an_mplconfigdir_already_chosen_is_kept(tmp_path, monkeypatch):
    from gaitkiosk import mplcache

    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "chosen"))
    assert mplcache.configure() == tmp_path / "chosen"
    assert os.environ["MPLCONFIGDIR"] == str(tmp_path / "chosen")


def test_an_unwritable_cache_home_falls_back_to_a_private_temporary_directory(tmp_path, monkeypatch):
    from gaitkiosk import mplcache

    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache directory should be")
    monkeypatch.delenv("MPLCONFIGDIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    where = mplcache.configure()
    assert where == tmp_path / "tmp" / f"gaitkiosk-matplotlib-{os.getuid()}" and where.is_dir()
    assert os.environ["MPLCONFIGDIR"] == str(where)
