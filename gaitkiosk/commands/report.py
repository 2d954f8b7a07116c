"""`gaitkiosk report SESSION --out FILE.pdf`: the one-page session report (docs/therapist.md)."""

from __future__ import annotations

HELP = "one-page PDF report of a stored session (docs/therapist.md)"


def add_arguments(parser) -> None:
    parser.add_argument("id", metavar="SESSION", help="session id (a unique prefix is enough; `sessions list` shows them)")
    parser.add_argument("--out", metavar="FILE.pdf", required=True,
                        help="the PDF to write, in an existing directory (replaced whole, never half-written)")


def run(args, ctx) -> int:
    from gaitkiosk import pdf_page, session_pdf
    from store import open_store
    from store.api import store_settings

    out = pdf_page.target(args.out)
    clinic = pdf_page.clinic_of(ctx.config)
    # Read through the store only (docs/store.md "Rules for code that opens the database").
    with open_store(ctx.data_dir, settings=store_settings(ctx.config), create=False) as st:
        session = st.sessions.find(args.id)
        code = st.patients.get(session.patient_id).code
        pdf = session_pdf.pdf_for(st, session, clinic)
    pdf_page.write_whole(out, pdf)
    ctx.emit({"session": session.id, "file": str(out)}, f"wrote {out} (session {session.id[:8]}, patient {code})")
    return 0
