"""The guided "walk across" set-up learns the tiles' order and rotation (issue 16, docs/walkway.md).

The virtual patient walks a walkway of four virtual 48 x 48 tiles, each its own pty, laid
turned 0, 180, 90 and 270 degrees; the technician gives their ports in a shuffled order to
``gaitkiosk devices --walkway-setup``. The learned ``[[devices.tiles]]`` must list them
rearmost first with the rotations they were laid with, and the kiosk's config must take it.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from device.pty import PtyServer
from device.sim.patient import MatGeometry, VirtualPatient
from device.tile_layout import LayoutError, learn, tile_rotation
from device.tile_sim import walkway_devices
from gaitkiosk.cli import main
from gaitkiosk.config import load_config

needs_pty = pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs pseudo-terminals (POSIX)")
ROTATIONS = (0, 180, 90, 270)


@needs_pty
def test_walking_across_shuffled_turned_tiles_gives_their_order_and_rotations(capsys, tmp_path):
    p = VirtualPatient("walk", seed=3, mat=MatGeometry(rows=192, cols=48, pitch_mm=(8.47, 8.47), rate_hz=100))
    devices = walkway_devices(p, 4, rotations=ROTATIONS, insoles=False, seed=3)
    with PtyServer(devices, link_dir=tmp_path / "dev") as server:
        links = server.links()
        shuffled = [links[n] for n in ("mat_3", "mat_1", "mat_4", "mat_2")]
        out = tmp_path / "tiles.toml"
        assert main(["devices", "--json", "--walkway-setup", *shuffled, "--seconds", "10", "--out", str(out)]) == 0
    learned = json.loads(capsys.readouterr().out)["tiles"]
    assert [t["port"] for t in learned] == [links[f"mat_{i + 1}"] for i in range(4)]
    assert [t["rotation"] for t in learned] == list(ROTATIONS)
    lags = [t["lag_s"] for t in learned]
    assert lags == sorted(lags) and lags[0] == 0.0
    # the written tables are the kiosk's config for this walkway
    cfg = tmp_path / "config.toml"
    cfg.write_text('[devices]\ninsoles = []\n\n' + out.read_text())
    tiles = load_config(cfg)["devices"]["tiles"]
    assert [(t["port"], t.get("rotation", 0)) for t in tiles] == [(links[f"mat_{i + 1}"], r)
                                                                   for i, r in enumerate(ROTATIONS)]


def test_a_tile_nobody_walked_on_is_named_not_guessed():
    rng = np.random.default_rng(1)
    quiet = rng.normal(12, 3, (500, 48, 48)).clip(0).astype(np.uint16)
    with pytest.raises(LayoutError, match="nobody walked on it"):
        tile_rotation(quiet)
    t = np.arange(500) / 100.0
    walked = quiet.copy()
    for k in range(100, 300):  # a foot moving along +rows
        r = (k - 100) // 5
        walked[k, r:r + 8, 20:28] += 400
    assert tile_rotation(walked)[0] == 0
    assert tile_rotation(np.rot90(walked, 1, axes=(1, 2)).copy())[0] == 270
    with pytest.raises(LayoutError, match="tile on B: nobody walked on it"):
        learn(["A", "B"], [(t, walked), (t, quiet)], 100.0)
