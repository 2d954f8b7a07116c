"""docs/kiosk.md stays honest: its pictures exist, every screen is shown, every run option is explained."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "kiosk.md"


def test_every_picture_in_the_kiosk_doc_exists_and_every_screen_has_one():
    text = DOC.read_text()
    pictures = re.findall(r"\]\((screenshots/[^)]+\.png)\)", text)
    assert pictures
    for p in pictures:
        assert (DOC.parent / p).is_file(), p
    from ui import screens

    names = {getattr(screens, n).name for n in screens.__all__ if n != "route"}
    shown = {Path(p).stem.split("-")[0] for p in pictures}
    alias = {"drill": "drill", "alert": "drill", "result": "result"}
    assert names <= {alias.get(s, s) for s in shown}, names - shown


def test_every_run_option_is_in_the_kiosk_doc():
    import argparse

    from gaitkiosk.commands import run

    parser = argparse.ArgumentParser()
    run.add_arguments(parser)
    text = DOC.read_text()
    for action in parser._actions:
        for opt in action.option_strings:
            if opt.startswith("--") and opt != "--help":
                assert re.search(re.escape(opt) + r"(?![\w-])", text), f"docs/kiosk.md does not explain {opt}"
