"""`gaitkiosk report SESSION --out FILE.pdf`: the one-page session report (docs/therapist.md)."""

from __future__ import annotations

HELP = "one-page PDF report of a stored session (docs/therapist.md)"


def add_arguments(parser) -> None:
    parser.add_argument("id", metavar="SESSION", help="session id (a unique prefix is enough; `sessions list` shows them)")
    parser.add_argument("--out", metavar="FILE.pdf", required=True,
                        help="the PDF to write, in an existing directory (replaced whole, never half-written)")


def run(args, ctx) -> int:
    from gaitkiosk import session_pdf
    from store import open_store
    from store.api import store_settings

    out = _target(args.out)
    clinic = dict(ctx.config.get("clinic") or {})
    clinic["logo"] = _logo(clinic.get("logo") or "")
    # Read through the store only (docs/store.md "Rules for code that opens the database").
    with open_store(ctx.data_dir, settings=store_settings(ctx.config), create=False) as st:
        session = st.sessions.find(args.id)
        code = st.patients.get(session.patient_id).code
        trials = st.trials.for_session(session.id)
    page = session_pdf.page_of(clinic, session, code, trials)
    _write_whole(out, session_pdf.render(page))
    ctx.emit({"session": session.id, "file": str(out)}, f"wrote {out} (session {session.id[:8]}, patient {code})")
    return 0


def _target(text: str):
    """``--out`` checked before anything is read: its directory must exist and take a new file.

    Nothing is created on the way: a report meant for a USB stick that is not mounted would
    otherwise land on the kiosk's SD card under the empty mount point's name.
    """
    import os
    from pathlib import Path

    from gaitkiosk.errors import UsageError

    if not text.strip():
        raise UsageError("--out is empty: give the .pdf file to write")
    out = Path(text).expanduser()
    if out.is_dir():
        raise UsageError(f"--out {out} is a directory: give the .pdf file to write")
    folder = out.parent
    if not folder.is_dir():
        raise UsageError(f"--out {out}: the directory {folder} does not exist (is the USB stick mounted?)")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out}: the directory {folder} is not writable (a read-only stick, or its owner?)")
    return out


def _logo(path: str) -> str:
    """The configured logo, checked: a clinic that set one expects it on the page, not a blank."""
    from pathlib import Path

    from gaitkiosk.errors import ConfigError

    if not path:
        return ""
    p = Path(path).expanduser()
    if not p.is_file():
        raise ConfigError(f"config key 'clinic.logo': the logo {p} does not exist (fix the path or set it to \"\")")
    if p.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        raise ConfigError(f"config key 'clinic.logo': {p} is not a .png or .jpg file")
    return str(p)


def _write_whole(out, data: bytes) -> None:
    """A temporary file beside the target, then a rename: the target is either the old file or the
    whole new PDF, never half of one (a full stick, a pulled cable)."""
    import os
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
