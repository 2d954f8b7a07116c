"""The home-exercise sheet (`gaitkiosk program sheet`, docs/therapist.md "Home-exercise sheet").

:func:`sheet_of` turns a patient's plan (``drills.program.plan_for_patient``: today's parameters,
progression included) into the sheet's words and pictures; :func:`render` lays them out on A4
pages with fpdf2 and returns the PDF's bytes.

Each drill says itself how it is done at home (``Drill.home_instructions`` and ``home_details``,
next to its kiosk instruction), so a new drill cannot reach the sheet without them; its picture
is the instruction screen's (``ui.pictures``), one still frame drawn on white.
"""

from __future__ import annotations

import io

from gaitkiosk import pdf_page

TITLE = "Your exercises at home"
SAFETY = "Stop and sit down if you feel dizzy or have pain."
BEFORE = ("Do these exercises as your therapist showed you, on a non-slip floor, with a sturdy chair or a "
          "kitchen counter within reach and someone nearby if you were told so. " + SAFETY)
PICTURE_MM = 42  # the picture's side on paper
PICTURE_PX = 420  # ~250 dpi at PICTURE_MM: sharp on any printer


def repeats_words(n: int) -> str:
    return {1: "do it once", 2: "do it twice, with a short rest between"}.get(n, f"do it {n} times, with a short "
                                                                                 "rest between")


def amount_words(drill, repetitions: int) -> str:
    """The drill's parameters in words: its length ("1½ minutes"), its own details, the repeats."""
    from ui.screens.program import duration_words

    planned = drill.planned_duration()
    words = [duration_words(planned)] if planned else []
    words += drill.home_details()
    words.append(repeats_words(repetitions))
    return "; ".join(w for w in words if w)


def sheet_of(clinic: dict, plan, on_date) -> dict:
    """The sheet's content: the clinic, the patient's code, the date and one entry per prescription
    (its repetitions said in words, not printed twice)."""
    from gaitkiosk.liveview import picture_for, picture_layout
    from ui.pictures import print_colors, still_png
    from ui.theme import Colors

    colors = print_colors(Colors())
    groups: dict[str, list] = {}
    for item in plan.items:
        groups.setdefault(item.prescription_id, []).append(item)
    drills = []
    for items in groups.values():
        first = items[0]
        drill = first.create()
        drills.append({
            "drill": first.drill, "title": first.title, "instructions": drill.home_instructions(),
            "amount": amount_words(drill, len(items)),
            "picture": still_png(picture_for(drill), colors, (PICTURE_PX, PICTURE_PX), picture_layout(drill)),
        })
    return {"clinic": clinic.get("name") or "", "logo": clinic.get("logo") or "", "patient": plan.patient_code,
            "date": f"{on_date.day} {on_date:%B %Y}", "program": plan.program_name, "drills": drills}


def sheet_for(st, patient, clinic: dict, on_date):
    """(the sheet's content, the plan's left-out drills) for ``patient``'s active program at today's
    levels; a :class:`drills.errors.ProgramError` in words when there is nothing to print."""
    from drills.errors import ProgramError
    from drills.program import plan_for_patient

    if patient.archived:
        raise ProgramError(f"patient {patient.code} is archived: no home-exercise sheet for an inactive patient")
    plan = plan_for_patient(st, patient)
    if not plan.items:
        why = "; ".join(f"{d}: {w}" for d, w in plan.skipped) or "it holds no drills"
        raise ProgramError(f"patient {patient.code}'s program has no drill this kiosk can print ({why})")
    return sheet_of(clinic, plan, on_date), plan.skipped


def render(sheet: dict) -> bytes:
    """The sheet as PDF bytes: as many A4 pages as its drills need, each page numbered."""
    pdf = pdf_page.new_pdf()
    width = pdf_page.text_width(pdf)
    bottom = pdf.h - 22  # room for the footer
    left = pdf_page.MARGIN_MM
    beside = left + PICTURE_MM + 6
    pdf_page.letterhead(pdf, sheet["clinic"], sheet["logo"], TITLE,
                        f"Patient {sheet['patient']}    {sheet['date']}    {sheet['program']}")
    pdf.ln(2)
    pdf_page.line(pdf, BEFORE, 10, "B", 5)
    pdf.ln(3)
    text_w = width - (beside - left)
    for number, d in enumerate(sheet["drills"], 1):
        parts = ((f"{number}. {d['title']}", 12, "B", 6), (d["amount"], 10, "I", 5), (d["instructions"], 10.5, "", 5),
                 (SAFETY, 9, "B", 4.6))
        height = max(PICTURE_MM, sum(_height(pdf, text, size, style, h, text_w) + 1 for text, size, style, h in parts))
        if pdf.get_y() + height > bottom:
            pdf.add_page()
            pdf_page.line(pdf, f"{TITLE} - patient {sheet['patient']}, {sheet['date']} (continued)", 9, "I")
            pdf.ln(2)
        top = pdf.get_y()
        pdf.image(io.BytesIO(d["picture"]), x=left, y=top, w=PICTURE_MM, h=PICTURE_MM)
        pdf.set_xy(beside, top)
        for text, size, style, h in parts:
            pdf.set_x(beside)
            pdf.set_font("Helvetica", style, size)
            pdf.multi_cell(text_w, h, pdf_page.latin(text), align="L", new_x="LEFT", new_y="NEXT")
            pdf.ln(1)
        pdf.set_y(top + height + 5)
    pages = pdf.pages_count
    for n in range(1, pages + 1):
        pdf.page = n
        pdf.set_xy(left, bottom + 4)
        pdf_page.line(pdf, f"{SAFETY} If you have questions, ask your therapist.    Page {n} of {pages}", 8, "", 4)
    return bytes(pdf.output())


def _height(pdf, text, size, style, h, width) -> float:
    pdf.set_font("Helvetica", style, size)
    return pdf.multi_cell(width, h, pdf_page.latin(text), align="L", dry_run=True, output="HEIGHT")
