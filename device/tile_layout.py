"""The guided "walk across" set-up: learn the tiles' order and rotation from a person walking.

A technician plugs the tiles in (in any order, each turned however its cable demands),
starts ``gaitkiosk devices --walkway-setup PORT PORT ...`` and walks the walkway from the
rear end to the screen a few times. From each tile's own frames:

* **rotation**: the centre of pressure moves forward on every tile (heel to toe within a
  step, one footfall ahead of the other). Summed over consecutive loaded frames, its
  displacement in the tile's own rows and columns says which way the tile lies: the
  rotation (0, 90, 180, 270 clockwise, ``np.rot90`` turns as in :mod:`device.tiles`) that
  turns that displacement into +rows (toward the screen) is the tile's;
* **order**: a tile nearer the screen is loaded later in every pass. The lag of each
  pair's load curves at their best cross-correlation (within ``max_lag_s``) says which of
  the two comes first; a tile's rank is how many others come before it.

The result is the ``[[devices.tiles]]`` of the config, end to end, rearmost first (lateral
offsets, a grid, are not learned: give those by hand, docs/walkway.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LOAD_COUNTS = 20  # counts above a sensel's baseline that mean load (the noise is ~3 counts)
MIN_LOADED_FRAMES = 20


class LayoutError(ValueError):
    """The walk did not show the layout (a tile never loaded, no clear direction)."""


@dataclass(frozen=True)
class LearnedTile:
    port: str
    rotation: int  # degrees clockwise seen from above
    forward: float  # how clearly the COP moved forward when turned so (0..1)
    lag_s: float  # when it is loaded in a pass, against the rearmost tile


def _loads(counts: np.ndarray) -> np.ndarray:
    """Per-sensel load above each sensel's baseline (its median over the walk: mostly unloaded)."""
    c = counts.astype(np.float32)
    over = c - np.median(c, axis=0)
    return np.where(over > LOAD_COUNTS, over, 0.0)


def _displacement(load: np.ndarray) -> tuple[float, float, float]:
    """Summed COP displacement (rows, cols) over consecutive loaded frames, and the path length."""
    total = load.sum(axis=(1, 2))
    loaded = total > 0
    rows = np.arange(load.shape[1], dtype=np.float64)
    cols = np.arange(load.shape[2], dtype=np.float64)
    safe = np.where(loaded, total, 1.0)
    r = (load.sum(axis=2) @ rows) / safe
    c = (load.sum(axis=1) @ cols) / safe
    both = loaded[1:] & loaded[:-1]
    dr, dc = np.diff(r)[both], np.diff(c)[both]
    return float(dr.sum()), float(dc.sum()), float(np.hypot(dr, dc).sum())


def tile_rotation(counts: np.ndarray) -> tuple[int, float]:
    """(rotation, clarity) of one tile from its frames of a walk toward +rows of the walkway."""
    load = _loads(counts)
    if int((load.sum(axis=(1, 2)) > 0).sum()) < MIN_LOADED_FRAMES:
        raise LayoutError("nobody walked on it")
    dr, dc, path = _displacement(load)
    # laid = np.rot90(tile, k): a displacement (dr, dc) becomes (dr, dc), (-dc, dr), (-dr, -dc), (dc, -dr)
    forward = [dr, -dc, -dr, dc]
    k = int(np.argmax(forward))
    return 90 * k, (forward[k] / path if path > 0 else 0.0)


def _lag(a: np.ndarray, b: np.ndarray, period_s: float, max_lag_s: float) -> float:
    """Seconds by which load curve ``b`` follows ``a`` (their best cross-correlation)."""
    n = min(len(a), len(b))
    a, b = a[:n] - a[:n].mean(), b[:n] - b[:n].mean()
    most = int(max_lag_s / period_s)
    lags = range(-most, most + 1)
    scores = [float(np.dot(a[max(0, -k):n - max(0, k)], b[max(0, k):n - max(0, -k)])) for k in lags]
    return lags[int(np.argmax(scores))] * period_s


def learn(ports: list[str], frames: list[tuple[np.ndarray, np.ndarray]], rate_hz: float,
          max_lag_s: float = 1.5) -> list[LearnedTile]:
    """The tiles rearmost first, each with its rotation, from each port's (host times, counts) of a walk.

    Frames are resampled on one grid of host times (the tiles' clocks are aligned by their readers),
    so the load curves of different tiles can be compared.
    """
    if len(ports) < 2:
        raise LayoutError("a walkway needs at least 2 tiles")
    t0 = max(float(t[0]) for t, _ in frames)
    t1 = min(float(t[-1]) for t, _ in frames)
    if t1 - t0 < 2.0:
        raise LayoutError("the tiles' frames overlap for less than 2 s: walk longer")
    grid = np.arange(t0, t1, 1.0 / rate_hz)
    rotations, curves = [], []
    for port, (t, counts) in zip(ports, frames, strict=True):
        try:
            rotation, clarity = tile_rotation(counts)
        except LayoutError as exc:
            raise LayoutError(f"tile on {port}: {exc}; walk across the whole walkway, over every tile") from None
        rotations.append((rotation, clarity))
        load = _loads(counts).sum(axis=(1, 2))
        curves.append(np.interp(grid, t, load))
    n = len(ports)
    lag = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            lag[i, j] = _lag(curves[i], curves[j], 1.0 / rate_hz, max_lag_s)
            lag[j, i] = -lag[i, j]
    rank = [int((lag[:, j] > 0).sum()) for j in range(n)]  # lag[i, j] > 0: tile j is loaded after tile i
    if len(set(rank)) != n:
        raise LayoutError("the walk does not order the tiles (two are loaded at the same time): walk across "
                          "at an even pace, from the rear end to the screen")
    order = sorted(range(n), key=lambda j: rank[j])
    first = order[0]
    return [LearnedTile(ports[j], rotations[j][0], rotations[j][1], float(lag[first, j])) for j in order]


def tiles_toml(tiles: list[LearnedTile]) -> str:
    """The ``[[devices.tiles]]`` tables of the learned layout (end to end, rearmost first)."""
    out = []
    for k, tile in enumerate(tiles):
        where = "  # rearmost: the patient starts here" if k == 0 else (
            "  # nearest the screen" if k == len(tiles) - 1 else "")
        out.append("[[devices.tiles]]" + where)
        out.append(f'port = "{tile.port}"')
        if tile.rotation:
            out.append(f"rotation = {tile.rotation}")
        out.append("")
    return "\n".join(out)
