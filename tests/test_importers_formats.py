"""More vendor exports -> the recording format: Novel pedar and pliance, XSENSOR, stappone,
RSscan footscan, two force plates (PDS); docs/import.md.

Array sizes are those pressuRe's own tests assert for the same sample files (cran/pressuRe
tests/testthat/test_pressuRe.R, commit e8511653): pedar 1505 x 198, pliance 281 x 179,
footscan 329 x 387, stappone 4575 x 12, and (in a test commented out upstream) XSENSOR
101 x 458. pressuRe keeps only the sensels ever loaded, in one frames x sensels matrix;
where our layout differs, each test says how the numbers map.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from device.errors import ImportFormatError
from device.importers import detect, import_file
from device.importers.plates import file_net_cop_mm, fuse
from device.recording import load_recording
from tests.test_importers import truncate, unpack


def loaded(kpa: np.ndarray) -> int:
    """Sensels (or insole sensors) that are above 0 in at least one frame."""
    return int((kpa.max(axis=0) > 0).sum())


def write_geometry(path: Path, sides=("left", "right"), n=99, area=150.0) -> Path:
    """A made-up insole layout (the vendors' are not public): 7 sensors across, 15 mm apart along."""
    lines = ["side,sensor,x_mm,y_mm,area_mm2"]
    for side in sides:
        lines += [f"{side},{k},{(k - 1) % 7 * 10.0},{(k - 1) // 7 * 15.0},{area}" for k in range(1, n + 1)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def pedar(tmp_path):
    return unpack(tmp_path, "pedar_example.asc")


@pytest.fixture
def pliance(tmp_path):
    return unpack(tmp_path, "pliance_test.asc")


# --- pedar ------------------------------------------------------------------------------------


def test_pedar_dimensions_time_base_and_geometry(pedar, tmp_path):
    geo = write_geometry(tmp_path / "geo.csv")
    rec = import_file(pedar, insole_geometry=geo)
    # pressuRe: 1505 x 198 = 1505 frames x (99 left + 99 right sensors)
    assert rec.insole_left_kpa.shape == (1505, 99) and rec.insole_right_kpa.shape == (1505, 99)
    assert np.allclose(np.diff(rec.insole_t), 0.01) and rec.insole_t[0] == pytest.approx(0.01)
    assert rec.insole_left_sensors_mm[8].tolist() == [10.0, 15.0]  # sensor 9 where the geometry file put it
    assert rec.insole_sensor_area_mm2.tolist() == [150.0] * 99
    # the file's first frame, first left sensor: 32.500 kPa; right sensor 1 is column 101
    assert rec.insole_left_kpa[0, 0] == 32.5
    first = pedar.read_text(encoding="latin-1").splitlines()[10].split()
    assert rec.insole_right_kpa[0, 0] == float(first[100])


def test_pedar_without_geometry_says_which_option(pedar):
    with pytest.raises(ImportFormatError, match="carries no sensor positions: give them with `gaitkiosk import --insole-geometry FILE`"):
        import_file(pedar)


def test_pedar_unit_conversion_and_unknown_unit(pedar, tmp_path):
    geo = write_geometry(tmp_path / "geo.csv")
    kpa = import_file(pedar, insole_geometry=geo).insole_left_kpa
    text = pedar.read_text(encoding="latin-1")
    pedar.write_text(text.replace("pressure values in  kPa", "pressure values in  N/cm2"), encoding="latin-1")
    assert np.allclose(import_file(pedar, insole_geometry=geo).insole_left_kpa, kpa * 10.0)
    pedar.write_text(text.replace("pressure values in  kPa", "pressure values in  digits"), encoding="latin-1")
    with pytest.raises(ImportFormatError, match=r"line 4: pressure unit 'digits' is not one the importer knows"):
        import_file(pedar, insole_geometry=geo)


def test_pedar_garbled_value_and_short_file_name_their_line(pedar, tmp_path):
    geo = write_geometry(tmp_path / "geo.csv")
    lines = pedar.read_text(encoding="latin-1").splitlines()
    bad = list(lines)
    bad[500] = bad[500].replace("0.000", "0.0x0", 1)
    pedar.write_text("\n".join(bad), encoding="latin-1")
    with pytest.raises(ImportFormatError, match=r"line 501: value '[0-9]*0.0x0' is not a number"):
        import_file(pedar, insole_geometry=geo)
    pedar.write_text("\n".join(lines[:1000]) + "\n", encoding="latin-1")  # cut at a line end
    with pytest.raises(ImportFormatError, match=r"line 1000: 990 frames, but total time 15.05 s .* is 1505: truncated"):
        import_file(pedar, insole_geometry=geo)


def test_geometry_file_errors_name_their_line(pedar, tmp_path):
    geo = write_geometry(tmp_path / "geo.csv")
    lines = geo.read_text().splitlines()
    lines[5] = "left,5,1.0,abc,150"
    geo.write_text("\n".join(lines))
    with pytest.raises(ImportFormatError, match=r"geo.csv line 6: y_mm 'abc' is not a number"):
        import_file(pedar, insole_geometry=geo)
    short = write_geometry(tmp_path / "short.csv", n=49)
    with pytest.raises(ImportFormatError, match=r"short.csv line 99: the left insole lacks sensors \[50, 51"):
        import_file(pedar, insole_geometry=short)


# --- pliance ----------------------------------------------------------------------------------


def test_pliance_dimensions_pitch_time_base_and_cop(pliance):
    rec = import_file(pliance)
    # 812 sensors on a 29 x 28 grid of 10.28 x 5.28 mm (the file's centres and 0.5428 cm² areas)
    assert rec.mat_kpa.shape == (281, 29, 28)
    assert loaded(rec.mat_kpa) == 179  # pressuRe: 281 x 179 (frames x sensels ever loaded)
    assert rec.mat_pitch_mm == pytest.approx([10.28, 5.28])
    assert rec.mat_t[0] == pytest.approx(5.79167) and np.allclose(np.diff(rec.mat_t), 1 / 24, atol=2e-5)
    # the software's own force and COP block: 1067 samples over the whole 44.46 s, NaN where unloaded
    assert rec.cop_mm.shape == (1067, 2) and np.isnan(rec.cop_mm[0]).all()
    loaded_rows = ~np.isnan(rec.cop_mm[:, 0])
    assert loaded_rows.any() and np.all(rec.cop_force_n[loaded_rows] > 0)


def test_pliance_sensor_lands_at_its_centre(pliance):
    rec = import_file(pliance)
    lines = pliance.read_text(encoding="latin-1").splitlines()
    head = lines[7].split()
    frames = [line.split() for line in lines[8:289]]
    k, col = next((k, j) for k, f in enumerate(frames) for j, v in enumerate(f[1:], 1) if float(v) > 0)
    geo = {line.split()[0]: line.split()[1:] for line in lines if line.split()[:1] in (["x[c]"], ["y[c]"])}
    x, y = float(geo["x[c]"][col - 1]) * 10, float(geo["y[c]"][col - 1]) * 10
    ys = sorted({float(v) * 10 for v in geo["y[c]"]})
    xs = sorted({float(v) * 10 for v in geo["x[c]"]})
    assert head[col] == lines[1364].split()[col]
    assert rec.mat_kpa[k, ys.index(y), xs.index(x)] == np.float32(frames[k][col])


def test_pliance_unknown_unit_and_garbled_geometry(pliance):
    text = pliance.read_text(encoding="latin-1")
    pliance.write_text(text.replace("pressure values in kPa", "pressure values in volts"), encoding="latin-1")
    with pytest.raises(ImportFormatError, match=r"line 4: pressure unit 'volts'"):
        import_file(pliance)
    lines = text.splitlines()
    lines[1374] = lines[1374].replace("0.2640", "0.2b40", 1)
    pliance.write_text("\n".join(lines), encoding="latin-1")
    with pytest.raises(ImportFormatError, match=r"line 1375: geometry value '0.2b40' is not a number"):
        import_file(pliance)


# --- XSENSOR ---------------------------------------------------------------------------------


@pytest.fixture
def xsensor(tmp_path):
    return unpack(tmp_path, "xsensor_data.csv")


def test_xsensor_dimensions_sensel_size_units_and_time_base(xsensor):
    rec = import_file(xsensor)
    # two 31 x 11 insoles of 8.6 mm sensels, 101 frames; pressuRe's (commented-out) test: 101 x 458,
    # the sensels of both insoles ever loaded: 228 left + 230 right
    assert rec.insole_left_kpa.shape == (101, 341) and rec.insole_right_kpa.shape == (101, 341)
    assert loaded(rec.insole_left_kpa) + loaded(rec.insole_right_kpa) == 458
    assert rec.insole_sensor_area_mm2[0] == pytest.approx(8.6 * 8.6)
    assert rec.insole_left_sensors_mm[11 * 5 + 9].tolist() == pytest.approx([9 * 8.6, 5 * 8.6])
    assert rec.insole_t[1] == pytest.approx(0.013) and rec.insole_t[-1] == pytest.approx(1.331)
    # frame 1464, left foot, row 6 column 10: 2674.44 mmHg (its Peak Pressure line says the same)
    assert rec.insole_left_kpa[0, 5 * 11 + 9] == np.float32(2674.44 * 0.1333224)


def test_xsensor_est_load_agrees_with_sum_times_area(xsensor):
    """The file's own Est. Load (N) per sensor equals sum(kPa) x sensel area: the units are read right."""
    rec = import_file(xsensor)
    lines = xsensor.read_text(encoding="utf-8-sig").splitlines()
    loads = [float(line.split(",")[1]) for line in lines if line.startswith("Est. Load (N),")]
    # per frame: left sensor, right sensor, then 8 groups
    left = np.array(loads[0::10])
    force = rec.insole_left_kpa.sum(axis=1, dtype=np.float64) * rec.insole_sensor_area_mm2[0] / 1000.0
    assert np.allclose(force, left, atol=0.6, rtol=0.01)


def test_xsensor_unknown_unit_missing_frame_and_short_row(xsensor):
    text = xsensor.read_text(encoding="utf-8-sig")
    xsensor.write_text(text.replace("Units:,mmHg", "Units:,Raw"), encoding="utf-8-sig")
    with pytest.raises(ImportFormatError, match=r"line 3: pressure unit 'Raw'"):
        import_file(xsensor)
    xsensor.write_text(text.replace("FRAME,1470,", "FRAME,1471,", 1), encoding="utf-8-sig")
    with pytest.raises(ImportFormatError, match=r"line \d+: FRAME '1471' is not the expected 1470: a frame is missing"):
        import_file(xsensor)
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("SENSELS")) + 6
    lines[at] = lines[at].rsplit(",", 12)[0]
    xsensor.write_text("\n".join(lines), encoding="utf-8-sig")
    with pytest.raises(ImportFormatError, match=rf"line {at + 1}: sensel row has \d+ values, not Columns 11"):
        import_file(xsensor)


# --- stappone --------------------------------------------------------------------------------


@pytest.fixture
def stappone(tmp_path):
    return unpack(tmp_path, "stappone_example.csv")


def stappone_options(tmp: Path) -> dict:
    return {"insole_geometry": write_geometry(tmp / "stappone.csv", sides=("left",), n=12, area=200.0),
            "side": "left", "kpa_per_count": 0.25}


def test_stappone_dimensions_time_base_and_calibration(stappone, tmp_path):
    rec = import_file(stappone, **stappone_options(tmp_path))
    assert rec.insole_left_kpa.shape == (4575, 12) and rec.insole_right_kpa is None  # pressuRe: 4575 x 12
    assert np.allclose(np.diff(rec.insole_t), 0.016) and rec.insole_t[0] == 0.0  # ms time stamps
    assert rec.insole_left_kpa[0, 0] == 357 * 0.25  # first sample, pressure_01: 357 counts
    assert rec.meta["device"]["sole_id"] == 1 and rec.meta["start_unix_ms"] == 1768494979568


@pytest.mark.parametrize("missing", ["side", "kpa_per_count", "insole_geometry"])
def test_stappone_refuses_what_it_would_have_to_guess(stappone, tmp_path, missing):
    options = stappone_options(tmp_path)
    del options[missing]
    flag = "--" + missing.replace("_", "-")
    with pytest.raises(ImportFormatError, match=flag):
        import_file(stappone, **options)


def test_stappone_corrupt_sample_and_garbled_value_name_their_line(stappone, tmp_path):
    lines = stappone.read_text().splitlines()
    bad = list(lines)
    bad[40] = bad[40][:-1] + "1"
    stappone.write_text("\n".join(bad) + "\n")
    with pytest.raises(ImportFormatError, match=r"line 41: 1 samples are flagged corrupt"):
        import_file(stappone, **stappone_options(tmp_path))
    bad = list(lines)
    bad[40] = bad[40].replace(",", ",?", 13)
    stappone.write_text("\n".join(bad) + "\n")
    with pytest.raises(ImportFormatError, match=r"line 41: value '\?\S*' is not a number"):
        import_file(stappone, **stappone_options(tmp_path))


# --- RSscan footscan -------------------------------------------------------------------------


@pytest.fixture
def footscan(tmp_path):
    return unpack(tmp_path, "footscan_test.xls")


def test_footscan_is_a_biff_workbook_read_with_its_rectangle_and_frame_times(footscan):
    assert footscan.read_bytes()[:8] == bytes.fromhex("d0cf11e0a1b11ae1")  # OLE2 compound document: real .xls
    rec = import_file(footscan, pressure_unit="N/cm2", pitch_mm=(7.62, 5.08))
    # one foot (right, 500 Hz): 329 frames of its 38 x 20 rectangle; pressuRe: 329 x 387 loaded sensels
    assert rec.mat_kpa.shape == (329, 38, 20) and loaded(rec.mat_kpa) == 387
    assert np.allclose(np.diff(rec.mat_t), 0.002) and rec.mat_pitch_mm.tolist() == [7.62, 5.08]
    assert rec.mat_kpa[0, 1, 9] == np.float32(0.8 * 10.0)  # 0.8 N/cm2 in the sheet = 8 kPa
    assert rec.meta["rectangle_on_plate"] == {"bottom": 6, "left": 40, "width": 20, "height": 38}


def test_footscan_needs_unit_and_pitch_and_knows_its_units(footscan):
    with pytest.raises(ImportFormatError, match="gaitkiosk import --pressure-unit UNIT --pitch-mm ROW,COL"):
        import_file(footscan)
    with pytest.raises(ImportFormatError, match="--pressure-unit 'bar' is not one the importer knows"):
        import_file(footscan, pressure_unit="bar", pitch_mm=(7.62, 5.08))


def test_footscan_cut_at_a_sector_boundary_names_the_byte(footscan):
    data = footscan.read_bytes()
    footscan.write_bytes(data[:512 * 3000])  # whole sectors: only the file's sector table shows the cut
    with pytest.raises(ImportFormatError, match=r"byte 1536000: the workbook ends here, but its own sector table "
                                                r"reaches byte \d+: truncated"):
        import_file(footscan, pressure_unit="kPa", pitch_mm=(7.62, 5.08))


def test_footscan_garbled_file_is_refused_naming_the_byte(footscan):
    data = bytearray(footscan.read_bytes())
    data[600000:600016] = b"\xff" * 16
    footscan.write_bytes(bytes(data))
    with pytest.raises(ImportFormatError, match="structure does not read"):
        import_file(footscan, pressure_unit="kPa", pitch_mm=(7.62, 5.08))
    footscan.write_bytes(b"not a workbook" + bytes(data[14:]))
    with pytest.raises(ImportFormatError, match="byte 0 does not start an Excel"):
        import_file(footscan, pressure_unit="kPa", pitch_mm=(7.62, 5.08))


# --- two force plates, one per foot (PDS) ------------------------------------------------------


@pytest.fixture
def plates(tmp_path):
    return unpack(tmp_path, "PDS13OR1grf_first1000.txt")


def test_fusion_formula_on_known_inputs():
    """COP = sum(COP_k x Fz_k) / sum(Fz_k), each plate's COP moved by its origin in the room."""
    right = np.array([[100.0, 20.0], [100.0, 20.0], [0.0, 0.0], [np.nan, np.nan]])
    left = np.array([[-100.0, 0.0], [-100.0, 40.0], [0.0, 0.0], [-90.0, 10.0]])
    fr = np.array([300.0, 100.0, 0.0, 0.0])
    fl = np.array([100.0, 300.0, 0.0, 400.0])
    net, total = fuse([right, left], [fr, fl])
    assert net[0].tolist() == [50.0, 15.0]  # (100·300 − 100·100) / 400, (20·300 + 0) / 400
    assert net[1].tolist() == [-50.0, 35.0]
    assert np.isnan(net[2]).all()  # nobody on either plate
    assert net[3].tolist() == [-90.0, 10.0]  # the unloaded plate's NaN COP adds nothing
    assert total.tolist() == [400.0, 400.0, 0.0, 400.0]
    moved, _ = fuse([right[:2], left[:2]], [fr[:2], fl[:2]], origins_mm=[(250.0, 0.0), (-250.0, 10.0)])
    assert moved[0].tolist() == [50.0 + (250 * 300 - 250 * 100) / 400, 15.0 + 10 * 100 / 400]


def test_pds_two_plates_fused_as_the_data_set(plates):
    rec = import_file(plates)
    assert rec.cop_mm.shape == (1000, 2) and np.allclose(np.diff(rec.cop_t), 0.01)
    # the feet stand apart medio-laterally (x = the file's Z): right foot at +86 mm, left at −87 mm
    assert rec.cop_right_mm[0, 0] == pytest.approx(85.780) and rec.cop_left_mm[0, 0] == pytest.approx(-87.160)
    assert np.allclose(rec.cop_force_n, rec.force_left_n + rec.force_right_n)
    share = float(np.mean(rec.force_right_n / rec.cop_force_n))
    assert 0.4 < share < 0.5
    # the file's own COPNET columns: printed to 1 µm, computed by the authors from unrounded data;
    # the fusion of the printed per-plate columns agrees within 10 µm (all 12 trials of subject 13
    # in the data set: ≤ 9.6 µm), not 1 µm: the inputs themselves are rounded to 1 µm and the
    # difference is noise-like (std 1.8 µm, not explained by horizontal forces or a lag)
    error = np.abs(rec.cop_mm - file_net_cop_mm(plates))
    assert error.max() < 0.010
    assert np.median(error) < 0.002


def test_pds_garbled_and_short_sample_name_their_line(plates):
    lines = plates.read_text().splitlines()
    bad = list(lines)
    bad[300] = bad[300].replace("\t", "\t#", 1)
    plates.write_text("\n".join(bad) + "\n")
    with pytest.raises(ImportFormatError, match=r"line 301: value '#\S*' is not a number"):
        import_file(plates)
    bad = list(lines)
    bad[300] = bad[300].rsplit("\t", 2)[0]
    plates.write_text("\n".join(bad) + "\n")
    with pytest.raises(ImportFormatError, match=r"line 301: sample has 19 fields, not 21"):
        import_file(plates)


# --- malformed and truncated: one line naming the line (or the byte / sheet row) --------------

OPTIONS = {
    "pedar_example.asc": lambda tmp: {"insole_geometry": write_geometry(tmp / "geo.csv")},
    "pliance_test.asc": lambda tmp: {},
    "xsensor_data.csv": lambda tmp: {},
    "stappone_example.csv": stappone_options,
    "footscan_test.xls": lambda tmp: {"pressure_unit": "N/cm2", "pitch_mm": (7.62, 5.08)},
    "PDS13OR1grf_first1000.txt": lambda tmp: {},
}


@pytest.mark.parametrize("name", sorted(OPTIONS))
@pytest.mark.parametrize("keep", [0.002, 0.3, 0.7, 0.9999])
def test_truncated_files_are_refused_in_one_line(tmp_path, name, keep):
    path = unpack(tmp_path, name)
    fmt = detect(path)
    truncate(path, keep)
    with pytest.raises(ImportFormatError) as exc:
        import_file(path, fmt, **OPTIONS[name](tmp_path))
    message = str(exc.value)
    assert "\n" not in message
    assert " line " in message or " byte " in message or " row " in message


def gaitkiosk(*args):
    return subprocess.run([sys.executable, "-m", "gaitkiosk", *args], capture_output=True, text=True, timeout=300)


def test_import_command_reads_pedar_with_its_geometry_and_leaves_nothing_when_refused(pedar, tmp_path):
    out = tmp_path / "walk.npz"
    result = gaitkiosk("import", str(pedar), "--out", str(out))
    assert result.returncode == 1 and "--insole-geometry" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr and not out.exists()
    geo = write_geometry(tmp_path / "geo.csv")
    result = gaitkiosk("import", str(pedar), "--insole-geometry", str(geo), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert load_recording(out).insole_left_kpa.shape == (1505, 99)
