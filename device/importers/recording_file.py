"""The kiosk's own recording file (``.npz``, DESIGN 4.1) as an import source.

Not a vendor format: it lets ``gaitkiosk import rec.npz --out rec.c3d`` turn a recording the
kiosk made (``gaitkiosk sessions export``, ``record``, ``simulate``) into C3D by the same path.
"""

from __future__ import annotations

from pathlib import Path

from device.recording import Recording, load_recording


def read(path: Path, **_options) -> Recording:
    return load_recording(path)
