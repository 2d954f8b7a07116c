"""A recording's stored per-frame analysis (format 2, ``kernels.stored``) gives the very report
that analysing its frames gives, and is used only when its stamp says it may be (issue 16)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from device.recording import FORMAT, load_recording
from gaitkiosk.cli import main
from gaitkiosk.stored_analysis import load_for_analysis, save_with_analysis
from kernels import stored
from kernels.report import analyze_recording, stream_options

GOLDEN = Path(__file__).resolve().parent / "data" / "golden_mat_walk.npz"  # format 1, written before the stamp


def exact(report: dict) -> str:
    """The report as text with every float's shortest repr: equal text is equal to the bit."""
    return json.dumps(report, sort_keys=True)


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    """Format 2 files: the golden walk re-saved, and virtual-patient visits with mat and insoles."""
    root = tmp_path_factory.mktemp("stored")
    save_with_analysis(root / "golden.npz", load_recording(GOLDEN))
    for scenario, seconds in (("walk", 12), ("tandem", 12), ("quiet", 10)):
        assert main(["simulate", "--out", str(root / f"{scenario}.npz"), "--seconds", str(seconds),
                     "--scenario", scenario, "--seed", "3"]) == 0
    return root


NAMES = ("golden.npz", "walk.npz", "tandem.npz", "quiet.npz")
DEFAULT = stream_options()[1]


# Every source each file has (the golden walk is mat only).
CASES = [("golden.npz", "auto"), ("golden.npz", "mat")] + [(n, s) for n in NAMES[1:] for s in ("auto", "mat", "insoles")]


@pytest.mark.parametrize(("name", "source"), CASES)
def test_the_stored_analysis_gives_the_report_of_the_frames_to_the_bit(recordings, name, source):
    path = recordings / name
    fast = load_for_analysis(path, DEFAULT)
    assert fast.stored_analysis is not None and "mat_kpa" in fast.frames_not_read  # the frames were not read
    full = load_recording(path)
    for extended in (None, "gaitkiosk"):
        assert exact(analyze_recording(fast, source=source, extended=extended)) == \
            exact(analyze_recording(full, source=source, extended=extended))


def test_the_walks_have_steps_so_the_stored_events_are_compared(recordings):
    report = analyze_recording(load_for_analysis(recordings / "walk.npz", DEFAULT))
    assert len(report["steps"]) >= 6 and report["gait"]["cadence_steps_min"] is not None
    golden = analyze_recording(load_for_analysis(recordings / "golden.npz", DEFAULT))
    assert len(golden["steps"]) == 5


def test_the_cli_gives_the_same_json_with_and_without_recompute(recordings, capsys):
    path = str(recordings / "walk.npz")
    assert main(["analyze", path, "--json"]) == 0
    stored_json = capsys.readouterr().out
    assert main(["analyze", path, "--json", "--recompute"]) == 0
    assert capsys.readouterr().out == stored_json


def test_other_options_or_a_window_read_the_frames(recordings, capsys):
    path = recordings / "walk.npz"
    other = stream_options(contact_on_n=40.0)[1]
    assert load_for_analysis(path, other).stored_analysis is None  # frames read, analysed with the new options
    assert load_for_analysis(path, other).mat_kpa is not None
    # The CLI with a window analyses the frames (the foot tracking restarts at the window's edge).
    assert main(["analyze", str(path), "--json", "--window", "2:9"]) == 0
    windowed = json.loads(capsys.readouterr().out)
    want = analyze_recording(load_recording(path), window=(2.0, 9.0))
    want["file"] = path.name
    assert exact(windowed) == exact(want)
    # A recording read without its frames refuses a window rather than invent an answer.
    with pytest.raises(ValueError, match="without its frames"):
        analyze_recording(load_for_analysis(path, DEFAULT), window=(2.0, 9.0))


def rewrite(src: Path, dst: Path, change: dict) -> None:
    """Copy the zip ``src`` to ``dst`` with some members' arrays replaced (the stamp left as it was)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            name = info.filename.removesuffix(".npy")
            if name in change:
                with zout.open(info.filename, "w") as f:
                    np.lib.format.write_array(f, change[name], allow_pickle=False)
            else:
                zout.writestr(info.filename, zin.read(info.filename))


def test_frames_changed_after_the_stamp_are_analysed_not_trusted(recordings, tmp_path):
    src = recordings / "walk.npz"
    kpa = load_recording(src).mat_kpa.copy()
    kpa[:, :, : kpa.shape[2] // 2] = 0.0  # a rewritten file (one side blanked): the stored numbers no longer fit
    changed = tmp_path / "changed.npz"
    rewrite(src, changed, {"mat_kpa": kpa})
    rec = load_for_analysis(changed, DEFAULT)
    assert rec.stored_analysis is None and rec.mat_kpa is not None
    assert exact(analyze_recording(rec, source="mat")) == exact(analyze_recording(load_recording(changed), source="mat"))
    assert exact(analyze_recording(rec, source="mat")) != exact(analyze_recording(load_recording(src), source="mat"))
    meta_changed = tmp_path / "meta.npz"
    rewrite(src, meta_changed, {"meta": np.array(json.dumps({"foot_length_mm": 250.0, "heel_edge_y_mm": 5.0}))})
    assert load_for_analysis(meta_changed, DEFAULT).stored_analysis is None  # the insoles' outline is in meta


def test_other_analysis_code_recomputes(recordings, monkeypatch):
    monkeypatch.setattr(stored, "_digest", "another kernel build")
    rec = load_for_analysis(recordings / "golden.npz", DEFAULT)
    assert rec.stored_analysis is None and rec.mat_kpa is not None


def test_format_1_files_are_read_and_analysed_from_their_frames(recordings):
    rec = load_for_analysis(GOLDEN, DEFAULT)
    assert rec.stored_analysis is None and rec.mat_kpa is not None
    assert exact(analyze_recording(rec)) == exact(analyze_recording(load_for_analysis(recordings / "golden.npz", DEFAULT)))


def test_a_format_2_file_reads_as_before_for_every_other_reader(recordings):
    again = load_recording(recordings / "golden.npz")
    first = load_recording(GOLDEN)
    assert np.array_equal(again.mat_kpa, first.mat_kpa) and again.meta == first.meta
    with zipfile.ZipFile(recordings / "golden.npz") as z:
        names = {i.filename for i in z.infolist()}
    assert "analysis_json.npy" in names and str(np.load(recordings / "golden.npz")["format"]) == FORMAT
    # Re-saving a loaded recording writes a fresh stamp, never a copied one.
    assert save_with_analysis(recordings / "again.npz", again) and \
        load_for_analysis(recordings / "again.npz", DEFAULT).stored_analysis is not None


def test_a_folder_table_is_the_same_with_stored_analysis_and_recompute(recordings, tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    folder = [str(recordings / n) for n in NAMES]
    assert main(["analyze", *folder, "--csv", str(a), "--jobs", "2"]) == 0
    assert main(["analyze", *folder, "--csv", str(b), "--jobs", "2", "--recompute"]) == 0
    assert a.read_text() == b.read_text() and a.read_text().count("\n") == len(NAMES) + 1


def test_the_median_without_numpy_ma_is_np_median_to_the_bit():
    from kernels.series import median

    rng = np.random.default_rng(16)
    for n in [*range(1, 30), 999, 1000, 6000]:
        for scale in (1e-3, 1.0, 1e6):
            values = rng.normal(size=n) * scale
            assert median(values) == float(np.median(values))
            assert median(np.round(values, 1)) == float(np.median(np.round(values, 1)))  # ties


def test_a_failing_stored_analysis_never_loses_the_recording(tmp_path, caplog):
    from device.recording import save_recording

    def broken(rec, crcs):
        raise RuntimeError("a bug in the analysis")

    rec = load_recording(GOLDEN)
    save_recording(tmp_path / "kept.npz", rec, derived=broken)
    again = load_recording(tmp_path / "kept.npz")
    assert np.array_equal(again.mat_kpa, rec.mat_kpa)
    assert load_for_analysis(tmp_path / "kept.npz", DEFAULT).stored_analysis is None  # analysed from its frames
    assert "written without its derived members" in caplog.text
