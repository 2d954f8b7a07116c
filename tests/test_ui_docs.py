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


def test_the_screenshot_gallery_has_every_state_worth_a_picture_at_both_sizes():
    """docs/screenshots/states is `make screenshots`: every gallery state at 800 x 480 and 1280 x 800."""
    from gaitkiosk.gallery import SIZES, states

    gallery = DOC.parent / "screenshots" / "states"
    index = (gallery / "README.md").read_text()
    for state in states():
        if state.picture:
            for label in SIZES:
                name = f"{state.name}-{label}.png"
                assert (gallery / name).is_file() and f"({name})" in index, f"{name}: run `make screenshots`"
    assert "screenshots/states/README.md" in DOC.read_text()
