"""Finding a release bundle on a USB stick (``gaitkiosk update apply --usb``)."""

from __future__ import annotations

from pathlib import Path

from gaitkiosk.update.bundle import VERSION_RE, BundleError


def newest_bundle(usb_root: str, mounts: str | None = None) -> Path:
    """The newest ``gaitkiosk-X.Y.Z.tar`` at the top of a stick that is a mount point below
    ``usb_root`` in the mounts table (gaitkiosk/handout.py: an empty directory left there is no stick)."""
    from gaitkiosk.handout import MOUNTS, _below, parse_mounts

    if not usb_root:
        raise BundleError("no USB root configured ([reports] usb_root is empty)")
    table = parse_mounts(Path(mounts or MOUNTS).read_text(encoding="utf-8", errors="replace"))
    found = []
    for mount in (m.point for m in table if _below(m.point, usb_root)):
        for f in Path(mount).glob("gaitkiosk-*.tar"):
            m = VERSION_RE.match(f.name[len("gaitkiosk-"):-len(".tar")])
            if m:
                found.append((tuple(int(g) for g in m.groups()), f))
    if not found:
        raise BundleError(f"no gaitkiosk-X.Y.Z.tar at the top of a USB stick mounted below {usb_root}")
    return max(found)[1]
