"""docs/metrics.md section 2b lists every descriptor of the extended set, with the unit, the
definition and the peer's name the code has (kernels/posturography_table.py), and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

from kernels.posturography_table import DESCRIPTORS

DOC = Path(__file__).resolve().parent.parent / "docs" / "metrics.md"


def section_rows() -> dict[str, list[str]]:
    text = DOC.read_text(encoding="utf-8")
    start = text.index("## 2b. Extended posturography set")
    end = text.index("\n## 3.", start)
    rows = {}
    for line in text[start:end].splitlines():
        m = re.match(r"\| `([a-z0-9_]+)` \|(.*)\|\s*$", line)
        if m:  # a | inside a cell is written \| (Markdown)
            cells = re.split(r"(?<!\\)\|", m.group(2))
            rows[m.group(1)] = [c.strip().replace("\\|", "|") for c in cells]
    return rows


def test_every_descriptor_is_documented_as_the_code_defines_it():
    rows = section_rows()
    assert set(rows) == {d.key for d in DESCRIPTORS}
    for d in DESCRIPTORS:
        unit, definition, peer, basic = rows[d.key]
        assert unit == (d.unit or "–"), d.key
        assert definition == d.definition, d.key
        assert peer == f"`{d.peer}`", d.key
        assert basic == (f"`{d.basic}`" if d.basic else ""), d.key


def test_every_basic_counterpart_is_a_field_of_the_basic_set():
    from kernels.sway import SWAY_FIELDS

    assert {d.basic for d in DESCRIPTORS if d.basic} <= set(SWAY_FIELDS)
