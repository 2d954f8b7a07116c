"""Tiled mats: the layout in the config, and the tiles stitched into one mat through real ptys.

Each virtual tile sends a pattern that names the tile, its sample index and its true
sample instant (host monotonic), so a stitched frame can be checked bit for bit
against what every tile sent, and its tiles' samples against the one sample period
they must share.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from waiting import wait_until

from device.frames import MAT, RawFrame
from device.framing import DeviceKind, Hello
from device.pty import PtyServer
from device.reader import DeviceReader
from device.tiles import (
    Stitcher,
    TiledMat,
    TileError,
    TileSpec,
    parse_tiles,
    place_tiles,
    walkway_hello,
)
from device.virtual import FrameSource, VirtualDevice
from gaitkiosk.config import load_config
from gaitkiosk.errors import ConfigError

needs_pty = pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs pseudo-terminals (POSIX)")


def mat_hello(serial="T", rows=8, cols=12, pitch=(10.0, 10.0), rate=100.0, **kw):
    return Hello(DeviceKind.MAT, serial, "fw", rate, rows, cols, pitch, 16, **kw)


# -- the layout ---------------------------------------------------------------------------------


def write(tmp_path, text):
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_config_lists_tiles_in_order_with_offsets_and_rotation(tmp_path):
    config = load_config(write(tmp_path, """
[devices]
mat = ""
[[devices.tiles]]
port = "/dev/gaitkiosk/mat-1"
offset = [0, 0]
[[devices.tiles]]
port = "/dev/gaitkiosk/mat-2"
offset_mm = [406.56, 0]
rotation = 180
"""))
    tiles = parse_tiles(config["devices"]["tiles"])
    assert tiles == [TileSpec("/dev/gaitkiosk/mat-1", (0, 0), None, 0),
                     TileSpec("/dev/gaitkiosk/mat-2", None, (406.56, 0.0), 180)]


def test_a_config_without_tiles_is_one_mat_as_before(tmp_path):
    from gaitkiosk.sensors import config_urls

    config = load_config(write(tmp_path, '[devices]\nmat = "/dev/gaitkiosk/mat"\n'))
    assert config["devices"]["tiles"] == []
    assert config_urls(config)[0] == "/dev/gaitkiosk/mat"


@pytest.mark.parametrize("text, words", [
    ('[[devices.tiles]]\nport = "a"\nrotation = 45\n[[devices.tiles]]\nport = "b"\n',
     "devices.tiles[0].rotation must be one of 0, 90, 180, 270"),
    ('[[devices.tiles]]\nport = "a"\n', "must list 2 to 16 tiles"),
    ('[[devices.tiles]]\nport = "a"\noffset = [0, 0]\n[[devices.tiles]]\nport = "b"\n',
     "give every tile an offset or none (end to end); devices.tiles[1] has none"),
    ('[[devices.tiles]]\nport = "a"\noffset = [0, -1]\n[[devices.tiles]]\nport = "b"\noffset = [48, 0]\n',
     "devices.tiles[0].offset must be [row, col]"),
    ('[[devices.tiles]]\nport = "a"\nofset = [0, 0]\n[[devices.tiles]]\nport = "b"\n',
     "devices.tiles[0] has unknown key 'ofset'"),
    ('[[devices.tiles]]\nport = "a"\n[[devices.tiles]]\nport = "a"\n', "is already tile 0's"),
    ('[[devices.tiles]]\nport = "a"\noffset = [0, 0]\noffset_mm = [0, 0]\n[[devices.tiles]]\nport = "b"\n',
     "offset (sensels) or offset_mm, not both"),
    ('[[devices.tiles]]\nport = "a"\noffset_mm = [nan, 0]\n[[devices.tiles]]\nport = "b"\noffset_mm = [0, 0]\n',
     "offset_mm must be [y, x]"),
])
def test_a_bad_tile_layout_is_refused_in_one_line_naming_the_tile(tmp_path, text, words):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, '[devices]\nmat = ""\n' + text))
    message = str(err.value)
    assert words in message and "\n" not in message


def test_mat_and_tiles_together_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="both mat and tiles"):
        load_config(write(tmp_path, '[devices]\nmat = "/dev/x"\n[[devices.tiles]]\nport = "a"\n'
                                    '[[devices.tiles]]\nport = "b"\n'))


def test_tiles_end_to_end_make_one_long_mat_in_tile_order():
    specs = parse_tiles([{"port": p} for p in "abcd"])
    walkway = place_tiles(specs, [mat_hello(s, 48, 48, (8.47, 8.47)) for s in "abcd"])
    assert (walkway.rows, walkway.cols, walkway.pitch_mm) == (192, 48, (8.47, 8.47))
    assert [p.row for p in walkway.places] == [0, 48, 96, 144]
    hello = walkway_hello(walkway, [mat_hello(s, 48, 48, (8.47, 8.47)) for s in "abcd"])
    assert hello.shape == (192, 48) and hello.serial == "tiles:a+b+c+d" and hello.kind == DeviceKind.MAT


def test_rotated_tiles_in_a_grid_are_placed_bit_for_bit():
    # Two 8 x 12 tiles side by side turned 90 (12 x 8 as laid), a third behind them, upside down.
    specs = parse_tiles([{"port": "a", "offset": [0, 0], "rotation": 90},
                         {"port": "b", "offset_mm": [0, 80], "rotation": 270},
                         {"port": "c", "offset": [12, 0], "rotation": 180}])
    hellos = [mat_hello(s) for s in "abc"]
    walkway = place_tiles(specs, hellos)
    assert (walkway.rows, walkway.cols) == (20, 16)
    tiles = [np.arange(96, dtype=np.uint16).reshape(8, 12) + 1000 * i for i in range(3)]
    frame = walkway.stitch(tiles)
    for i, t in enumerate(tiles):
        assert np.array_equal(walkway.tile_view(frame, i), t)
    # 90 clockwise seen from above (row 0 rearmost): the tile's rear row becomes its left column
    assert np.array_equal(frame[0:12, 0], tiles[0][0, ::-1])
    assert frame[11, 0] == tiles[0][0, 0] and frame[0, 0] == tiles[0][0, 11]  # rear-left corner went front-left
    assert np.array_equal(frame[12:20, 0:12], np.rot90(tiles[2], 2))
    assert not frame[12:20, 12:16].any()  # floor the layout leaves uncovered: no sensor, 0


def test_tiles_that_overlap_or_differ_in_pitch_or_rate_are_refused():
    specs = parse_tiles([{"port": "a", "offset": [0, 0]}, {"port": "b", "offset": [4, 0]}])
    with pytest.raises(TileError, match="tile 1 .* overlaps tile 0"):
        place_tiles(specs, [mat_hello("A"), mat_hello("B")])
    ends = parse_tiles([{"port": "a"}, {"port": "b"}])
    with pytest.raises(TileError, match="one walkway needs one pitch"):
        place_tiles(ends, [mat_hello("A"), mat_hello("B", pitch=(5.0, 5.0))])
    with pytest.raises(TileError, match="set one rate for all"):
        place_tiles(ends, [mat_hello("A"), mat_hello("B", rate=50.0)])
    with pytest.raises(TileError, match="start on the walkway's sensel grid"):
        place_tiles(parse_tiles([{"port": "a", "offset_mm": [0, 0]}, {"port": "b", "offset_mm": [85, 0]}]),
                    [mat_hello("A"), mat_hello("B")])


# -- one clock, pure ------------------------------------------------------------------------------


def test_a_period_a_tile_lacks_is_a_gap_carried_by_the_next_frame_never_filled():
    walkway = place_tiles(parse_tiles([{"port": "a"}, {"port": "b"}]), [mat_hello("A"), mat_hello("B")])
    st = Stitcher(walkway, "W", 2)
    for k in range(10):
        st.add(0, RawFrame("A", MAT, k, k * 0.01, 5.0 + k * 0.01, np.full((8, 12), k, np.uint16)))
        if k not in (3, 4):  # tile 1 lost two frames; its phase is 4 ms behind tile 0's
            st.add(1, RawFrame("B", MAT, k, 50 + k * 0.01, 5.004 + k * 0.01, np.full((8, 12), 100 + k, np.uint16)))
    out = st.take()
    assert [int(f.counts[0, 0]) for f in out] == [0, 1, 2, 5, 6, 7, 8, 9]
    assert all(int(f.counts[8, 0]) == 100 + int(f.counts[0, 0]) for f in out)  # same period, both tiles
    assert [f.lost_before for f in out] == [0, 0, 0, 2, 0, 0, 0, 0]
    assert st.gaps == 2 and st.missing == [0, 2]


# -- through real pseudo-terminals -------------------------------------------------------------------


class InstantPattern(FrameSource):
    """Counts that name the tile, the sample index and the true sample instant (0.01 ms units)."""

    def __init__(self, tile: int, rows: int = 8, cols: int = 12, pitch_mm=(10.0, 10.0)):
        self.tile, self.rows, self.cols, self.bits, self.pitch_mm = tile, rows, cols, 16, pitch_mm

    def counts(self, t_host: float, index: int) -> np.ndarray:
        return self.expected(self.tile, index, int(round(t_host * 1e5)), (self.rows, self.cols))

    @staticmethod
    def expected(tile, index, code, shape):
        n = shape[0] * shape[1]
        out = (np.arange(n, dtype=np.int64) * 3 + index + 4000 * tile) % 65536
        out[:4] = [(code >> s) & 0xFFFF for s in (0, 16, 32, 48)]
        out[4], out[5] = index & 0xFFFF, tile
        return out.astype(np.uint16).reshape(shape)

    @staticmethod
    def decode(counts):
        flat = counts.ravel().astype(np.int64)
        code = sum(int(flat[j]) << (16 * j) for j in range(4))
        return int(flat[5]), int(flat[4]), code * 1e-5  # tile, index (mod 2**16), true instant


def tile_devices(n, drift=(0.0, 0.0, 0.0, 0.0), **kw):
    return {f"tile{i}": VirtualDevice(InstantPattern(i), serial=f"TILE-{i}", rate_hz=100.0,
                                      boot_clock_s=37.0 * (i + 1), drift_ppm=drift[i], seed=i, powered=False,
                                      **kw.get(f"tile{i}", {}))
            for i in range(n)}


def open_walkway(server, specs_kw, **options):
    links = server.links()
    specs = parse_tiles([{"port": links[f"tile{i}"], **kw} for i, kw in enumerate(specs_kw)])
    readers = [DeviceReader(s.port, queue_frames=20000, reconnect_interval_s=0.1, silence_timeout_s=0.3)
               for s in specs]
    return TiledMat(specs, readers=readers, queue_frames=20000, **options).open()


def check_frames(mat, frames, n_tiles):
    """Every stitched frame: each tile's part bit for bit as sent, all from one sample period."""
    period = 1.0 / mat.walkway.rate_hz
    for f in frames:
        assert f.counts.shape == (mat.walkway.rows, mat.walkway.cols)
        instants = []
        for i in range(n_tiles):
            part = mat.walkway.tile_view(f.counts, i)
            tile, index, instant = InstantPattern.decode(part)
            assert tile == i
            assert np.array_equal(part, InstantPattern.expected(i, index, int(round(instant * 1e5)), part.shape))
            instants.append(instant)
        # one period: the tiles' true sample instants lie within half a period (plus the aligner's error)
        assert max(instants) - min(instants) <= 0.5 * period + 0.002, instants


@needs_pty
def test_three_tiles_with_drifting_clocks_stitch_into_one_mat_on_one_clock(tmp_path):
    devices = tile_devices(3, drift=(-50.0, 45.0, 20.0), jitter_s=0.001)
    with PtyServer(devices, link_dir=tmp_path) as server:
        mat = open_walkway(server, [{"rotation": 0}, {"rotation": 180}, {"rotation": 0}])
        try:
            hello = mat.wait_ready(30)
            assert hello.shape == (24, 12) and hello.serial == "tiles:TILE-0+TILE-1+TILE-2"
            assert wait_until(lambda: len(mat.frames) >= 300, timeout=60)
            frames = mat.frames.drain()
        finally:
            mat.close()
    check_frames(mat, frames, 3)
    t = np.array([f.t_host for f in frames])
    assert np.all(np.diff(t) > 0)
    # one frame per period of tile 0, except the marked gaps (while the clock fits settle at the start)
    spans = np.round(np.diff(t) * 100).astype(int)
    lost = np.array([f.lost_before for f in frames[1:]])
    assert np.array_equal(spans, 1 + lost)
    assert sum(f.lost_before for f in frames[len(frames) // 2:]) == 0  # settled: nothing missing


@needs_pty
def test_a_tile_that_drops_frames_gives_marked_gaps_never_invented_frames(tmp_path):
    devices = tile_devices(2, tile1={"drop_rate": 0.1})
    with PtyServer(devices, link_dir=tmp_path) as server:
        mat = open_walkway(server, [{}, {}])
        try:
            mat.wait_ready(30)
            assert wait_until(lambda: len(mat.frames) >= 300, timeout=60)
            frames = mat.frames.drain()
            counters = mat.status().counters
        finally:
            mat.close()
    check_frames(mat, frames, 2)
    gaps_seen = sum(f.lost_before for f in frames[1:])
    assert gaps_seen >= 10  # ~10 % of tile 1's frames lost on its line
    t = np.array([f.t_host for f in frames])
    assert np.array_equal(np.round(np.diff(t) * 100).astype(int), 1 + np.array([f.lost_before for f in frames[1:]]))
    assert counters["tile1_missing"] >= gaps_seen and counters["gaps"] >= gaps_seen


@needs_pty
def test_an_unplugged_tile_gives_a_gap_and_stitching_resumes_when_it_is_back(tmp_path):
    devices = tile_devices(2)
    with PtyServer(devices, link_dir=tmp_path) as server:
        mat = open_walkway(server, [{}, {}])
        try:
            mat.wait_ready(30)
            assert wait_until(lambda: len(mat.frames) >= 50, timeout=60)
            before = mat.frames.drain()
            server.unplug("tile1")
            assert wait_until(lambda: mat.stitcher.missing[1] >= 30, timeout=30)
            server.plug("tile1")
            assert wait_until(lambda: len(mat.frames) >= 100, timeout=60)
            after = mat.frames.drain()
        finally:
            mat.close()
    check_frames(mat, before + after, 2)
    assert max(f.lost_before for f in after) >= 30  # the time it was away, marked on the first frame back
    t = np.array([f.t_host for f in before + after])
    assert np.all(np.diff(t) > 0)


@needs_pty
def test_the_kiosks_sensors_open_the_configured_tiles_as_its_one_mat(tmp_path):
    from gaitkiosk.sensors import Sensors, config_urls

    devices = tile_devices(2)
    with PtyServer(devices, link_dir=tmp_path / "dev") as server:
        links = server.links()
        config = load_config(write(tmp_path, f"""
[devices]
mat = ""
insoles = []
zero_when_idle = false
[[devices.tiles]]
port = "{links['tile0']}"
[[devices.tiles]]
port = "{links['tile1']}"
rotation = 180
"""))
        sensors = Sensors(config)
        try:
            sensors.open(config_urls(config), ready_timeout_s=30)
            mat = sensors.by_kind("mat")
            assert mat.hello.shape == (16, 12) and mat.hello.serial == "tiles:TILE-0+TILE-1"
            assert wait_until(lambda: len(mat.frames) >= 20, timeout=60)
            assert mat.get(1).counts.shape == (16, 12)
            assert mat.status().state == "streaming" and not sensors.open_errors
        finally:
            sensors.close()


def test_a_tile_whose_clock_runs_slow_slips_one_period_as_a_gap_never_a_frame_used_twice():
    # Tile 1 samples every 10.004 ms in host time (a 400 ppm slower crystal, exaggerated to slip
    # within 300 frames): now and then a period of tile 0 has no tile-1 frame within half a period.
    walkway = place_tiles(parse_tiles([{"port": "a"}, {"port": "b"}]), [mat_hello("A"), mat_hello("B")])
    st = Stitcher(walkway, "W", 2)
    for k in range(300):
        st.add(0, RawFrame("A", MAT, k, k * 0.01, k * 0.01, np.full((8, 12), k % 4096, np.uint16)))
        st.add(1, RawFrame("B", MAT, k, k * 0.01, 0.0049 + k * 0.01004, np.full((8, 12), k % 4096, np.uint16)))
    out = st.take()
    used = [int(f.counts[8, 0]) for f in out]
    assert len(used) == len(set(used))  # no tile frame stitched twice
    for f in out:  # each pair from one period: the two samples within 3/4 of a period (its phase's window)
        k, j = int(f.counts[0, 0]), int(f.counts[8, 0])
        assert abs((0.0049 + j * 0.01004) - k * 0.01) <= 0.0075
    assert st.gaps >= 1 and len(out) + st.gaps + len(st.pending[0]) == 300
    assert sum(f.lost_before for f in out) <= st.gaps


def test_a_tile_sampling_near_half_a_period_off_is_not_flipped_between_periods_by_clock_wobble():
    # Tile 1 samples 4.9 ms after tile 0 at 100 Hz, and its mapped host times wobble by +-0.3 ms
    # (its clock fit on a busy host). Centred on tile 0's instant, every wobble past 5 ms lost a period.
    walkway = place_tiles(parse_tiles([{"port": "a"}, {"port": "b"}]), [mat_hello("A"), mat_hello("B")])
    st = Stitcher(walkway, "W", 2)
    wobble = np.random.default_rng(5).uniform(-0.0003, 0.0003, 400)
    for k in range(400):
        st.add(0, RawFrame("A", MAT, k, k * 0.01, k * 0.01, np.full((8, 12), k % 4096, np.uint16)))
        st.add(1, RawFrame("B", MAT, k, k * 0.01, 0.0049 + k * 0.01 + wobble[k], np.full((8, 12), k, np.uint16)))
    out = st.take()
    # at most the first period, whose tile-1 frame may lie just past half a period, is a gap
    assert st.gaps <= 1 and st.unmatched[1] <= 1
    assert len({int(f.counts[0, 0]) - int(f.counts[8, 0]) for f in out}) == 1  # one pairing throughout
    assert len(out) + st.gaps + len(st.pending[0]) == 400


@needs_pty
def test_a_tile_swapped_for_another_size_gives_the_new_walkway_and_a_swap_count(tmp_path):
    devices = tile_devices(2)
    with PtyServer(devices, link_dir=tmp_path) as server:
        mat = open_walkway(server, [{}, {}])
        try:
            assert mat.wait_ready(30).shape == (16, 12)
            assert wait_until(lambda: len(mat.frames) >= 20, timeout=60)
            server.swap("tile1", VirtualDevice(InstantPattern(1, rows=10, cols=8), serial="TILE-1B", rate_hz=100.0,
                                               boot_clock_s=5.0, powered=False))
            assert wait_until(lambda: mat.hello.serial == "tiles:TILE-0+TILE-1B", timeout=30)
            assert mat.hello.shape == (18, 12)
            assert wait_until(lambda: any(f.swaps for f in list(mat.frames.drain())), timeout=60)
            assert wait_until(lambda: len(mat.frames) >= 50, timeout=60)
            after = mat.frames.drain()
        finally:
            mat.close()
    assert all(f.swaps == 1 and f.counts.shape == (18, 12) for f in after)
    check_frames(mat, after, 2)
    assert not after[0].counts[8:18, 8:12].any()  # beside the smaller tile: no sensor


@needs_pty
def test_tiles_that_stream_while_nothing_can_be_stitched_are_a_silent_mat_to_the_kiosk(tmp_path):
    # Before: the walkway's watched silence was only its tiles' readers'. A tile back from a
    # reconnect streams at once, but its clock fit needs ~3 s before its frames can be paired:
    # no walkway frame for 3 s, yet every reader "saw frames", so the kiosk never confirmed the
    # silence and a running drill got nothing without being paused.
    from device.reader import STREAMING

    devices = tile_devices(2)
    with PtyServer(devices, link_dir=tmp_path) as server:
        mat = open_walkway(server, [{}, {}])
        try:
            mat.wait_ready(30)
            assert wait_until(lambda: len(mat.frames) >= 50, timeout=60)
            assert mat.watched_silence_s() < 0.3
            server.unplug("tile1")
            assert wait_until(lambda: mat.readers[1].status().state != STREAMING, timeout=30)
            server.plug("tile1")
            mat.frames.drain()

            def streaming_but_silent():
                both = all(r.status().state == STREAMING and r.watched_silence_s() is not None
                           and r.watched_silence_s() < 0.2 for r in mat.readers)
                silence = mat.watched_silence_s()
                return both and silence is not None and silence > 0.3 and not mat.readers[1].aligner.fitted

            assert wait_until(streaming_but_silent, timeout=30)
            assert wait_until(lambda: len(mat.frames) >= 10, timeout=60)  # back once its clock settled
            assert wait_until(lambda: mat.watched_silence_s() < 0.3, timeout=30)
        finally:
            mat.close()


@needs_pty
def test_the_store_and_its_export_see_one_mat_of_the_walkways_geometry_and_its_gaps(tmp_path):
    from store import open_store
    from store.devices import device_from_hello
    from store.export import export_session
    from store.patients import Patient

    devices = tile_devices(2, tile1={"drop_rate": 0.05})
    for d in devices.values():
        d.source.kpa_per_count = 0.05  # tiles that send calibrated pressure (export needs kPa)
    with PtyServer(devices, link_dir=tmp_path / "dev") as server:
        mat = open_walkway(server, [{}, {"rotation": 180}])
        try:
            mat.wait_ready(30)
            assert wait_until(lambda: len(mat.frames) >= 200, timeout=60)
            frames = mat.frames.drain()
        finally:
            mat.close()
    st = open_store(tmp_path / "data")
    try:
        st.devices.seen(device_from_hello(mat.hello, "mat"))
        session = st.sessions.start(st.patients.add(Patient(code="1234")).id)
        trial = st.trials.start(session.id, "walk", {}, {})
        writer = st.recording_writer(session.id, trial_id=trial.id, min_free_bytes=0).start()
        for f in frames:
            writer.put(f)
        writer.stop()
        st.trials.finish(trial.id, results={}, report=None)
        st.sessions.finish(session.id)
        path = export_session(st, session.id, tmp_path / "walk.npz")[0]
    finally:
        st.close()
    data = np.load(path, allow_pickle=False)
    assert data["mat_kpa"].shape == (len(frames), 16, 12)
    assert np.allclose(data["mat_pitch_mm"], [10.0, 10.0])
    # what each tile sent, in its place: the exported kPa are the stitched counts x 0.05
    counts = np.stack([f.counts for f in frames])
    assert np.array_equal(data["mat_kpa"], counts.astype(np.float32) * np.float32(0.05))
    import json

    meta = json.loads(str(data["meta"]))
    assert meta["devices"]["mat"]["serial"] == "tiles:TILE-0+TILE-1"
    assert meta["devices"]["mat"]["seq_gaps"] == sum(f.lost_before for f in frames[1:]) > 0  # the gaps, counted


def test_gaitkiosk_devices_probes_each_configured_tile(capsys, tmp_path):
    import json

    from gaitkiosk.cli import main

    cfg = write(tmp_path, '[devices]\nmat = ""\ninsoles = []\n[[devices.tiles]]\nport = "/dev/ttyGAITKIOSKT1"\n'
                          '[[devices.tiles]]\nport = "/dev/ttyGAITKIOSKT2"\n')
    assert main(["devices", "--config", str(cfg), "--json", "--timeout", "0.3"]) == 0
    configured = json.loads(capsys.readouterr().out)["configured"]
    assert [(e["role"], e["url"], e["probe"]["state"]) for e in configured] == [
        ("mat tile 1", "/dev/ttyGAITKIOSKT1", "missing"), ("mat tile 2", "/dev/ttyGAITKIOSKT2", "missing")]


@needs_pty
def test_gaitkiosk_devices_udev_names_several_mats_as_numbered_tiles(capsys, monkeypatch):
    import json

    from serial.tools import list_ports
    from serial.tools.list_ports_common import ListPortInfo

    from gaitkiosk.cli import main

    def usb_port(path, serial_number):
        info = ListPortInfo(path, skip_link_detection=True)
        info.vid, info.pid, info.serial_number = 0x2E8A, 0x000A, serial_number
        info.description, info.location = "Pico", "1-1.2:1.0"
        return info

    with PtyServer(tile_devices(2)) as server:
        paths = server.paths()
        monkeypatch.setattr(list_ports, "comports",
                            lambda: [usb_port(paths["tile1"], "E66B"), usb_port(paths["tile0"], "E66A")])
        assert main(["devices", "--json", "--udev"]) == 0
    rules = json.loads(capsys.readouterr().out)["udev_rules"]
    assert any('ATTRS{serial}=="E66A"' in r and 'SYMLINK+="gaitkiosk/mat-1"' in r for r in rules)
    assert any('ATTRS{serial}=="E66B"' in r and 'SYMLINK+="gaitkiosk/mat-2"' in r for r in rules)


@needs_pty
def test_tiles_whose_hellos_cannot_make_a_walkway_leave_it_incompatible_with_the_reason(tmp_path):
    from device.errors import DeviceError

    devices = tile_devices(2)
    devices["tile1"].source.pitch_mm = (5.0, 5.0)  # a finer tile among 10 mm ones
    with PtyServer(devices, link_dir=tmp_path) as server:
        mat = open_walkway(server, [{}, {}])
        try:
            with pytest.raises(DeviceError, match="incompatible .*tile 1 .*one walkway needs one pitch"):
                mat.wait_ready(3)
            st = mat.status()
            assert st.state == "incompatible" and "TILE-1" in st.reason and mat.hello is None
            assert len(mat.frames) == 0  # nothing stitched from tiles that do not fit together
        finally:
            mat.close()


@needs_pty
def test_gaitkiosk_demo_shows_the_configured_walkway_as_its_mat(capsys, tmp_path):
    import json

    from gaitkiosk.cli import main

    with PtyServer(tile_devices(2), link_dir=tmp_path / "dev") as server:
        links = server.links()
        cfg = write(tmp_path, f'[devices]\nmat = ""\ninsoles = []\nhello_timeout_s = 5.0\n'
                              f'[[devices.tiles]]\nport = "{links["tile0"]}"\n[[devices.tiles]]\nport = "{links["tile1"]}"\n')
        assert main(["demo", "--config", str(cfg), "--json", "--seconds", "5"]) == 0
    final = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert "tiles:TILE-0+TILE-1" in json.dumps(final)


@needs_pty
def test_gaitkiosk_record_records_the_configured_walkway_as_one_mat(capsys, tmp_path):
    import json

    from gaitkiosk.cli import main

    with PtyServer(tile_devices(2), link_dir=tmp_path / "dev") as server:
        links = server.links()
        cfg = write(tmp_path, f'[devices]\nmat = ""\ninsoles = []\n[[devices.tiles]]\nport = "{links["tile0"]}"\n'
                              f'[[devices.tiles]]\nport = "{links["tile1"]}"\nrotation = 180\n')
        out = tmp_path / "walkway.npz"
        assert main(["record", "--config", str(cfg), "tiles://devices", "--seconds", "2", "--out", str(out)]) == 0
    data = np.load(out, allow_pickle=False)
    meta = json.loads(str(data["meta"]))
    (mat,) = meta["devices"]
    assert mat["serial"] == "tiles:TILE-0+TILE-1" and "gaps" in mat["counters"]
    kpa = data["mat_kpa"]
    # from the first stitched frame on (its tiles' clocks settled): 2 s of the walkway
    assert kpa.shape[1:] == (16, 12) and kpa.shape[0] >= 180
    walkway = place_tiles(parse_tiles([{"port": "a"}, {"port": "b", "rotation": 180}]),
                          [mat_hello("TILE-0"), mat_hello("TILE-1")])
    for frame in kpa.astype(np.uint16):  # each tile's part, bit for bit its own, from one sample period
        (tile0, _, t0), (tile1, _, t1) = (InstantPattern.decode(walkway.tile_view(frame, i)) for i in range(2))
        assert (tile0, tile1) == (0, 1) and abs(t1 - t0) <= 0.0075


def test_gaitkiosk_record_of_tiles_without_configured_tiles_is_one_line(capsys, tmp_path):
    from gaitkiosk.cli import main

    cfg = write(tmp_path, '[devices]\nmat = ""\ninsoles = []\n')
    assert main(["record", "--config", str(cfg), "tiles://devices", "--seconds", "1",
                 "--out", str(tmp_path / "x.npz")]) != 0
    err = capsys.readouterr().err
    assert "lists no [[devices.tiles]]" in err and "Traceback" not in err


def test_the_demo_walkway_is_virtual_tiles_stitched_as_real_ones(tmp_path):
    """``gaitkiosk run --simulate --tiles 4`` (``sim.tiles``): the demo's mat is 4 virtual tiles, each its own
    device, serial and clock, read through the kiosk's Sensors as one stitched mat of the virtual sensor."""
    from gaitkiosk.config import default_config
    from gaitkiosk.sensors import Sensors, sim_urls

    config = default_config()
    config["sim"]["tiles"] = 4
    urls = sim_urls(config, patient="tiles-demo", scenario="walk")
    sensors = Sensors(config)
    try:
        sensors.open(urls, ready_timeout_s=30)
        mat = sensors.by_kind("mat")
        assert mat.hello.shape == (192, 48)
        assert [r.hello.serial for r in mat.readers] == [f"sim-mat-192x48-seed1-tile{i}" for i in range(1, 5)]
        assert len({r.hello.serial for r in mat.readers}) == 4 and mat.hello.zeroed  # each zeroed at power-up
        pressure = sensors.identify()[mat.hello.serial]
        assert pressure.usable and pressure.source == "factory-nominal (uncalibrated)"
        assert wait_until(lambda: len(mat.frames) >= 50, timeout=60)
        frames = mat.frames.drain()
        assert all(f.counts.shape == (192, 48) for f in frames)
    finally:
        sensors.close()


def test_run_tiles_is_for_the_demo_only(capsys):
    from gaitkiosk.cli import main

    assert main(["run", "--tiles", "4"]) != 0
    err = capsys.readouterr().err
    assert "--tiles is for the demo on the virtual patient: add --simulate" in err and "Traceback" not in err


# -- each tile its own calibration -----------------------------------------------------------------


def _calibrate_tile(st, serial, a):
    """An active calibration of one 8 x 12 tile: kPa = a x counts (its own curve)."""
    from calibration.curves import PowerLawCurve
    from calibration.model import CalibrationModel
    from calibration.storage import save

    model = CalibrationModel.for_device(serial, "mat", (8, 12), sensel_area_mm2=100.0, pitch_mm=(10.0, 10.0))
    model.curve = PowerLawCurve(a, 1.0)
    cal = save(st, model, [], operator="test")
    assert cal.active
    return cal


@needs_pty
def test_each_tile_converts_by_its_own_calibration_live_in_the_store_and_in_the_export(tmp_path):
    import json

    from calibration.storage import install_export_converter
    from gaitkiosk.sensors import Sensors, config_urls
    from store import open_store
    from store.devices import device_from_hello
    from store.export import export_session
    from store.patients import Patient

    st = open_store(tmp_path / "data")
    try:
        cals = {"TILE-0": _calibrate_tile(st, "TILE-0", 0.01), "TILE-1": _calibrate_tile(st, "TILE-1", 0.03)}
        with PtyServer(tile_devices(2), link_dir=tmp_path / "dev") as server:
            links = server.links()
            config = load_config(write(tmp_path, f'[devices]\nmat = ""\ninsoles = []\nzero_when_idle = false\n'
                                                  f'[[devices.tiles]]\nport = "{links["tile0"]}"\n'
                                                  f'[[devices.tiles]]\nport = "{links["tile1"]}"\nrotation = 180\n'))
            sensors = Sensors(config)
            try:
                sensors.open(config_urls(config), ready_timeout_s=30)
                mat = sensors.by_kind("mat")
                pressure = sensors.identify(st.calibrations.active_for)
                assert wait_until(lambda: len(mat.frames) >= 50, timeout=60)
                frames = mat.frames.drain()
            finally:
                sensors.close()
        walkway = pressure["tiles:TILE-0+TILE-1"]
        # the walkway's number carries its source: calibrated, by each tile's own calibration
        assert walkway.source == "calibrated"
        assert walkway.calibration_id == f"tiles:{cals['TILE-0'].id}@0.0.0+{cals['TILE-1'].id}@8.0.2"
        assert {s: p.calibration_id for s, p in pressure.items() if s.startswith("TILE")} == {
            "TILE-0": cals["TILE-0"].id, "TILE-1": cals["TILE-1"].id}
        place = place_tiles(parse_tiles([{"port": "a"}, {"port": "b", "rotation": 180}]),
                            [mat_hello("TILE-0"), mat_hello("TILE-1")])
        from calibration.model import CalibrationModel

        own = [CalibrationModel.from_json(cals[s].record).converter() for s in ("TILE-0", "TILE-1")]
        probe = np.full((8, 12), 300, np.uint16)
        assert np.allclose(own[1](probe), 3 * own[0](probe))  # two different curves
        for f in frames[:10]:  # each tile's area through its own curve, nothing across the seam mixed
            kpa = walkway.kpa(f.counts)
            for i in range(2):
                assert np.array_equal(place.tile_view(kpa, i), own[i](np.ascontiguousarray(place.tile_view(f.counts, i))))
        # the store keeps the composite id per recording, each tile's id in the trial; the export remakes the kPa
        install_export_converter()
        st.devices.seen(device_from_hello(mat.hello, "mat"))
        session = st.sessions.start(st.patients.add(Patient(code="1234")).id)
        ids = {s: p.calibration_id for s, p in pressure.items()}
        trial = st.trials.start(session.id, "walk", {}, ids)
        writer = st.recording_writer(session.id, trial_id=trial.id, calibration_ids=ids, min_free_bytes=0).start()
        for f in frames:
            writer.put(f)
        writer.stop()
        st.trials.finish(trial.id, results={}, report=None)
        st.sessions.finish(session.id)
        assert st.trials.get(trial.id).calibration_ids["TILE-1"] == cals["TILE-1"].id
        path = export_session(st, session.id, tmp_path / "walk.npz")[0]
    finally:
        st.close()
    data = np.load(path, allow_pickle=False)
    expected = np.stack([walkway.kpa(f.counts) for f in frames])
    assert np.allclose(data["mat_kpa"], expected, rtol=1e-5)
    meta = json.loads(str(data["meta"]))
    tiles = meta["calibration"]["mat"]["tiles"]
    assert [(t["serial"], t["calibration_id"]) for t in tiles] == [("TILE-0", cals["TILE-0"].id),
                                                                  ("TILE-1", cals["TILE-1"].id)]


@needs_pty
def test_a_walkway_with_one_tile_uncalibrated_names_that_tile(tmp_path):
    from gaitkiosk.sensors import Sensors, config_urls
    from store import open_store

    st = open_store(tmp_path / "data")
    try:
        _calibrate_tile(st, "TILE-0", 0.01)
        with PtyServer(tile_devices(2), link_dir=tmp_path / "dev") as server:
            links = server.links()
            config = load_config(write(tmp_path, f'[devices]\nmat = ""\ninsoles = []\nzero_when_idle = false\n'
                                                  f'[[devices.tiles]]\nport = "{links["tile0"]}"\n'
                                                  f'[[devices.tiles]]\nport = "{links["tile1"]}"\n'))
            sensors = Sensors(config)
            try:
                sensors.open(config_urls(config), ready_timeout_s=30)
                pressure = sensors.identify(st.calibrations.active_for)
            finally:
                sensors.close()
    finally:
        st.close()
    walkway = pressure["tiles:TILE-0+TILE-1"]
    assert not walkway.usable and "tile 2 (TILE-1) of the walkway not calibrated yet" in walkway.problem
