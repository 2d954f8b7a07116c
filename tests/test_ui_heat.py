"""The live heat map's colour indices: the compiled kernel (ui/_heat.pyx) is its numpy reference
(ui.heat.indices_reference) exactly, on random and real frames, at every map size the kiosk draws."""

from __future__ import annotations

import numpy as np
import pytest
import ui_support

from ui import heat
from ui.heat import HeatIndexer, indices_reference
from ui.pressure import PressureScale, Upsampler, steps_per_sensel

compiled = pytest.mark.skipif(heat.IMPLEMENTATION != "compiled",
                              reason="ui._heat not in use (GAITKIOSK_PURE=1, or not built: make build)")

dummy_video = ui_support.dummy_video

# (rows, cols, output px along the rows, along the columns): the mat on both panels, the walkways
SHAPES = [(48, 48, 437, 437), (48, 48, 716, 716), (96, 48, 438, 219), (192, 48, 438, 110), (256, 64, 438, 110),
          (48, 48, 100, 100)]


def _frames(rows, cols, rng):
    feet = np.zeros((rows, cols), np.float32)
    feet[rows // 6:rows * 3 // 4, cols // 5:cols * 2 // 5] = 120.0
    feet[rows // 6:rows * 3 // 4, cols * 3 // 5:cols * 4 // 5] = 300.0
    noisy = np.clip(feet + rng.normal(0, 8, (rows, cols)).astype(np.float32), 0, None)
    specks = np.zeros((rows, cols), np.float32)
    specks[rng.integers(0, rows, 20), rng.integers(0, cols, 20)] = 50.0  # lone loaded sensels
    specks[0, 0] = specks[-1, -1] = specks[0, -1] = 40.0  # corners: neighbours off the mat
    wild = rng.uniform(-20, 900, (rows, cols)).astype(np.float32)  # below zero, above the scale's top
    steps = np.round(rng.uniform(0, 300, (rows, cols)) / (300 / 4096)).astype(np.float32) * np.float32(300 / 4096)
    near = rng.uniform(0, 14, (rows, cols)).astype(np.float32)  # around the floor: the kernel's "too faint" bound
    near[:, : cols // 2] *= 0.6
    return [feet, noisy, specks, wild, steps, near, np.zeros((rows, cols), np.float32)]


@compiled
@pytest.mark.parametrize("rows,cols,h,w", SHAPES)
@pytest.mark.parametrize("despeckle", [True, False])
def test_the_compiled_indices_are_the_reference_exactly(rows, cols, h, w, despeckle):
    rng = np.random.default_rng(rows * 1000 + cols + h)
    scale = PressureScale(floor_kpa=10.3)  # a floor float32 cannot hold exactly
    k_r, k_c = steps_per_sensel(h / rows), steps_per_sensel(w / cols)
    up = Upsampler(rows, cols, k_r, k_c) if k_r > 1 or k_c > 1 else None
    fast = HeatIndexer(rows, cols, scale, up, despeckle, implementation="compiled")
    for frame in _frames(rows, cols, rng):
        want = indices_reference(frame, scale, up, despeckle).T
        got = fast.xmajor(frame)
        assert got.shape == want.shape and np.array_equal(got, want)
    assert fast.implementation == "compiled"


@compiled
def test_a_frame_of_the_virtual_patient_is_coloured_as_the_reference_colours_it():
    from device.sim import VirtualPatient

    p = VirtualPatient("quiet", seed=3)
    scale = PressureScale()
    up = Upsampler(48, 48, 3, 3)
    fast = HeatIndexer(48, 48, scale, up, True, implementation="compiled")
    for t in (0.5, 1.0, 1.5):
        kpa = p.sample(t, mat=True, insoles=False).mat_kpa
        assert np.array_equal(fast.xmajor(kpa), indices_reference(kpa, scale, up, True).T)


def test_the_live_map_uses_the_compiled_kernel_when_it_is_built(dummy_video):
    """Issue 16 "CPU budget": the numpy pipeline was a third of the live screen's CPU."""
    import pygame

    from ui.heatmap import MatView

    v = MatView(48, 48, (8.47, 8.47), pygame.Rect(0, 0, 437, 437))
    assert v._indexer.implementation == heat.IMPLEMENTATION
    if heat.IMPLEMENTATION == "reference":
        pytest.skip("ui._heat not in use")


def test_the_indexer_refuses_an_unknown_implementation():
    with pytest.raises(ValueError, match="compiled' or 'reference'"):
        HeatIndexer(48, 48, PressureScale(), None, implementation="fast")


@compiled
@pytest.mark.parametrize("trail_mm", [1.6, 3.0])
def test_the_compiled_trail_points_are_the_reference(dummy_video, trail_mm):
    """The COP trail's screen points in one compiled pass (ui._heat.trail_points) are what the
    reference makes (MatView.trail_px thinned by marks.thin_out): quiet sway, fast moves, a trail that
    comes back to a pixel it left, points off the mat, one point, none."""
    import pygame

    from ui import heatmap, marks
    from ui.heatmap import MatView

    v = MatView(48, 48, (8.47, 8.47), pygame.Rect(20, 20, 437, 437), px_per_mm=5.25 * trail_mm / 1.6)
    assert marks.trail_min_px(v.marks) >= 2.0
    rng = np.random.default_rng(7)
    trails = [[tuple(p) for p in (200.0, 180.0) + np.cumsum(rng.normal(0.0, s, (200, 2)), axis=0)]
              for s in (0.05, 0.3, 2.0, 20.0)]
    trails += [[(100.0, 100.0), (101.0, 100.0), (100.0, 100.0)], [(10.0, 10.0)] * 5, [(-30.0, 500.0), (1.0, 2.0)],
               [(50.0, 50.0)], [], [(np.float64(3.5), np.float64(7.25)), (40.0, 41.0)]]
    for trail in trails:
        assert v.trail_points(trail) == heatmap.trail_points_reference(v, trail)
