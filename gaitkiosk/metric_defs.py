"""Each report number's definition, in the words of docs/metrics.md, for the screens that show it.

The session review shows every number one tap from its definition. The definitions are the
tables of docs/metrics.md (field, definition, unit, meaning), keyed by the report's dotted path
(``sway.ellipse95_area_mm2``, ``weight.left.forefoot_pct``, ``steps.cpei_pct``,
``gait.cadence_steps_min``), with the paragraph that explains a construction where the document
has one (the 95 % ellipse, CPEI, the symmetry index, step length and width).

The kiosk does not carry the docs folder, so the table ships with the package as
``metric_definitions.json``, generated from the document:

    python -m gaitkiosk.metric_defs --write     (after editing docs/metrics.md)

and ``tests/test_review.py`` checks that it is the document's current text.
"""

from __future__ import annotations

import functools
import json
import re
import sys
from pathlib import Path

TABLE = "metric_definitions.json"
DOC = Path(__file__).resolve().parent.parent / "docs" / "metrics.md"
PREFIX = {2: "sway.", 5: "steps.", 6: "gait."}
SECTIONS = (2, 3, 5, 6, 10)  # the sections whose tables define the report's fields  # sections whose tables name fields without their section
REGIONS = ("rearfoot", "midfoot", "forefoot")
# the paragraph (its bold opening words) that explains a field's construction
MORE = {
    "sway.ellipse95_area_mm2": "95 % prediction ellipse", "sway.ellipse95_axes_mm": "95 % prediction ellipse",
    "sway.ellipse95_angle_deg": "95 % prediction ellipse", "sway.mean_power_frequency_hz": "Mean power frequency",
    "steps.cpei_pct": "CPEI", "gait.step_length_mm": "Step length and width",
    "gait.step_width_mm": "Step length and width", "gait.symmetry_stance_time_pct": "Robinson symmetry index",
    "gait.symmetry_peak_force_pct": "Robinson symmetry index", "gait.cadence_steps_min": "Walking bouts.",
    "weight.left.rearfoot_pct": "Regions", "weight.left.midfoot_pct": "Regions", "weight.left.forefoot_pct": "Regions",
    "weight.right.rearfoot_pct": "Regions", "weight.right.midfoot_pct": "Regions", "weight.right.forefoot_pct": "Regions",
}


def plain(text: str) -> str:
    """Markdown to the words on the screen: no backticks, bold marks, escapes or link targets."""
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", text)
    return text.replace("\\|", "|").replace("`", "").replace("**", "").strip()


def _cells(line: str) -> list[str]:
    return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]


def _names(cell: str, section: int) -> list[str]:
    names = re.findall(r"`([^`]+)`", cell)
    if "…" in cell and names and names[0].endswith("rearfoot_pct"):  # weight.left.rearfoot_pct … forefoot_pct
        return [f"weight.{side}.{r}_pct" for side in ("left", "right") for r in REGIONS]
    out = []
    for name in names:
        if "." not in name and out and "." in out[0]:
            name = out[0].rsplit(".", 1)[0] + "." + name  # weight.left_pct, `right_pct`
        elif "." not in name:
            name = PREFIX.get(section, "") + name
        out.append(name)
    return out


def parse(text: str) -> dict[str, dict]:
    """{dotted field: {section, definition, unit, meaning, more}} from the document's text."""
    out: dict[str, dict] = {}
    section, title, header = 0, "", None
    paragraphs = _paragraphs(text)
    for line in text.splitlines():
        m = re.match(r"^## (\d+)([a-z]?)\. (.+)$", line)
        if m:
            # "2b" (the extended set, analyze --extended) is not a section of the stored report's fields
            section = int(m.group(1)) if not m.group(2) else 0
            title, header = m.group(3).strip(), None
            continue
        if not line.startswith("|") or section not in SECTIONS:
            header = None
            continue
        cells = _cells(line)
        if header is None:
            header = [c.lower() for c in cells]
            continue
        if set(line) <= set("|-: "):
            continue
        names = _names(cells[0], section)
        row = dict(zip(header, cells, strict=False))
        units = [u.strip() for u in row.get("unit", "").split(",")]
        for k, name in enumerate(names):
            unit = units[k] if len(units) == len(names) > 1 else row.get("unit", "")
            out[name] = {"section": f"docs/metrics.md section {section}, {title}",
                         "definition": plain(row.get("definition") or row.get("meaning") or ""),
                         "unit": plain(unit),
                         "meaning": plain(row.get("meaning for a therapist", "")) if "definition" in row or
                         "meaning for a therapist" in row else "",
                         "more": paragraphs.get(MORE.get(name, ""), "")}
    return out


def _paragraphs(text: str) -> dict[str, str]:
    """Paragraphs that open with bold words, by those words (``**CPEI** (Song...`` -> "CPEI")."""
    out = {}
    for block in re.split(r"\n\s*\n", text):
        m = re.match(r"^\*\*([^*]+)\*\*", block.strip())
        if m:
            out[m.group(1).strip()] = plain(" ".join(block.split()))
    return out


@functools.cache
def definitions() -> dict[str, dict]:
    """The shipped table (``metric_definitions.json`` beside this module)."""
    from importlib import resources

    return json.loads(resources.files("gaitkiosk").joinpath(TABLE).read_text(encoding="utf-8"))


def definition_of(key: str) -> dict | None:
    """The definition of a report field by its dotted path; per-step fields as ``steps.<field>``,
    per-foot gait means (``gait.stance_s.left``) by their field."""
    table = definitions()
    if key in table:
        return table[key]
    parent = key.rsplit(".", 1)[0]
    return table.get(parent)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    table = parse(DOC.read_text(encoding="utf-8"))
    text = json.dumps(table, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    if args == ["--write"]:
        (Path(__file__).resolve().parent / TABLE).write_text(text, encoding="utf-8")
        print(f"{len(table)} definitions written to gaitkiosk/{TABLE}")
        return 0
    print(text, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
