"""Tests that keep the docs honest (STYLE item 11)."""

import re
from pathlib import Path

from gaitkiosk import cli
from gaitkiosk.config import DEFAULTS

ROOT = Path(__file__).resolve().parent.parent


def test_readme_opens_with_the_two_setup_commands():
    text = (ROOT / "README.md").read_text()
    first_block = re.search(r"```sh\n(.*?)```", text, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in first_block.splitlines() if line.strip()]
    assert commands == ["make demo", "make test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci


def test_make_targets_named_in_the_readme_exist():
    makefile = (ROOT / "Makefile").read_text()
    readme = (ROOT / "README.md").read_text()
    for target in set(re.findall(r"`make ([a-z-]+)`", readme)):
        assert re.search(rf"^{target}:", makefile, re.M), f"README names `make {target}` but the Makefile has no such target"


def test_every_gaitkiosk_command_in_the_readme_exists():
    readme = (ROOT / "README.md").read_text()
    named = set(re.findall(r"`gaitkiosk ([a-z-]+)", readme))
    assert named, "README names no gaitkiosk commands"
    missing = named - set(cli.COMMANDS)
    assert not missing, f"README names commands that do not exist: {sorted(missing)}"
    undocumented = set(cli.COMMANDS) - named
    assert not undocumented, f"commands missing from the README: {sorted(undocumented)}"


def _keys(table, prefix=""):
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _keys(value, name + ".")
        else:
            yield name


def test_every_config_key_is_documented():
    doc = (ROOT / "docs" / "configuration.md").read_text()
    for name in _keys(DEFAULTS):
        section, _, key = name.rpartition(".")
        assert f"[{section}]" in doc, f"docs/configuration.md has no [{section}] section"
        assert f"`{key}`" in doc, f"docs/configuration.md does not document {name}"


def test_every_config_key_shows_what_it_allows():
    # docs/configuration.md's "allowed" column is the checker's own description (gaitkiosk.config.ALLOWED).
    from gaitkiosk.config import ALLOWED

    doc = (ROOT / "docs" / "configuration.md").read_text()
    section = None
    rows = {}
    for line in doc.splitlines():
        m = re.match(r"^## \[(\w+)\]", line)
        if m:
            section = m.group(1)
        m = re.match(r"^\| `(\w+)` \| [^|]*\| ([^|]*) \|", line)
        if m and section:
            rows[f"{section}.{m.group(1)}"] = m.group(2).strip()
    for name in _keys(DEFAULTS):
        assert rows.get(name) == ALLOWED[name].describe(), f"docs/configuration.md: {name} allows {ALLOWED[name].describe()!r}"


def test_every_picture_and_link_in_the_docs_is_there():
    # A guide that shows a missing screenshot (a renamed gallery state) or links a moved page fails.
    missing = []
    for doc in sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", doc.read_text(encoding="utf-8")):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (doc.parent / target).exists():
                missing.append(f"{doc.relative_to(ROOT)}: {target}")
    assert missing == []
