"""Vendor exports -> the recording interchange format (device/importers, docs/import.md).

The array sizes are those pressuRe's own tests assert for the same files
(Telfer/pressuRe tests/testthat/test_pressuRe.R, commit f847da5): emed 106 pictures x
506 loaded sensels, Tekscan 205 frames x 942 columns. pressuRe keeps only the sensels
ever loaded; its Tekscan loader sizes the matrix with length() of a two-column index
matrix, so its 942 columns are 2 x the 471 loaded sensels.
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from device.errors import ImportFormatError
from device.importers import import_file
from device.importers.amti import cop_from_forces, file_cop_mm
from device.recording import load_recording

DATA = Path(__file__).parent / "data" / "vendor-exports"


def unpack(tmp_path: Path, name: str) -> Path:
    out = tmp_path / name
    with gzip.open(DATA / f"{name}.gz", "rb") as src, open(out, "wb") as dst:
        shutil.copyfileobj(src, dst)
    return out


@pytest.fixture
def fscan(tmp_path):
    return unpack(tmp_path, "fscan_testL.asf")


@pytest.fixture
def emed(tmp_path):
    return unpack(tmp_path, "emed_test.lst")


@pytest.fixture
def amti(tmp_path):
    return unpack(tmp_path, "amti_test_first3000.csv")


def loaded_sensels(kpa: np.ndarray) -> int:
    return int((kpa.max(axis=0) > 0).sum())


# --- what each format carries -----------------------------------------------------------------


def test_fscan_dimensions_pitch_time_base_and_units(fscan):
    rec = import_file(fscan)
    assert rec.mat_kpa.shape == (205, 60, 21)  # ROWS 60, COLS 21, frames 1-205
    assert loaded_sensels(rec.mat_kpa) * 2 == 942  # pressuRe: 205 x 942 (see the module docstring)
    assert rec.mat_pitch_mm.tolist() == [5.08, 5.08]
    assert np.allclose(np.diff(rec.mat_t), 0.032) and rec.mat_t[0] == 0.0
    # the file's first loaded value: frame 1 is empty, later frames carry kPa as printed
    assert float(rec.mat_kpa.max()) > 100.0


def test_fscan_psi_is_converted_to_kpa(fscan):
    kpa = import_file(fscan).mat_kpa
    fscan.write_text(fscan.read_text().replace("UNITS KPa", "UNITS PSI"))
    psi_as_kpa = import_file(fscan).mat_kpa
    assert np.allclose(psi_as_kpa, kpa * 6.894757, rtol=1e-6)


def test_emed_dimensions_pitch_time_base(emed):
    rec = import_file(emed)
    assert rec.mat_kpa.shape == (106, 95, 64)  # "Matrix: 64x95" is columns x rows; 106 pictures
    assert loaded_sensels(rec.mat_kpa) == 506  # pressuRe: 106 x 506
    assert rec.mat_pitch_mm.tolist() == [5.0, 5.0]  # Sensor size: 0.500x0.500 cm
    assert np.allclose(np.diff(rec.mat_t), 0.010)


def test_emed_picture_lands_where_its_row_and_column_numbers_say(emed):
    rec = import_file(emed)
    lines = emed.read_text(encoding="latin-1").splitlines()
    at = next(i for i, line in enumerate(lines) if "Pict-No.: 2 " in line)
    cols = [int(c) for c in lines[at + 2].split("\t")[1:-1]]
    row = next(line for line in lines[at + 3:] if line.split("\t")[0] and float(line.split("\t")[2] or 0) >= 0
               and any(float(v or 0) > 0 for v in line.split("\t")[1:-1]))
    r = int(row.split("\t")[0])
    values = [float(v or 0) for v in row.split("\t")[1:-1]]
    assert rec.mat_kpa[1, r - 1, [c - 1 for c in cols]].tolist() == pytest.approx(values)


def test_emed_values_that_are_not_kpa_are_refused(emed):
    # the Force row proves kPa; doubling every value breaks it
    text = emed.read_text(encoding="latin-1")
    emed.write_text(text.replace("\t35.00\t", "\t70.00\t"), encoding="latin-1")
    with pytest.raises(ImportFormatError, match=r"line \d+: the Force row does not equal"):
        import_file(emed)


def test_amti_cop_matches_the_files_own_columns_within_1_um(amti):
    rec = import_file(amti)
    own = file_cop_mm(amti)
    loaded = ~np.isnan(rec.cop_mm[:, 0])
    assert loaded.sum() == len(own) - 2  # frames 1-2 are the export's all-zero dropouts
    assert np.max(np.abs(rec.cop_mm[loaded] - own[loaded])) < 1e-3  # mm: 1 um
    assert np.allclose(np.diff(rec.cop_t), 0.01)
    assert rec.cop_force_n[loaded].min() > 500  # Fz in N: a person standing


def test_cop_formula_signs_and_top_offset():
    f = np.array([[10.0, -20.0, 500.0]])
    m = np.array([[25.0, -50.0, 0.0]])
    assert cop_from_forces(f, m).tolist() == [[0.1, 0.05]]  # Cx = -My/Fz, Cy = Mx/Fz
    # 40 mm to the origin below the top: Cx = (-My - h Fx)/Fz, Cy = (Mx - h Fy)/Fz
    assert cop_from_forces(f, m, 0.040)[0] == pytest.approx([(50 - 0.4) / 500, (25 + 0.8) / 500])
    assert np.isnan(cop_from_forces(np.zeros((1, 3)), np.zeros((1, 3)))).all()


def test_amti_stated_plate_offset_needs_the_option(amti):
    amti.write_text(amti.read_text().replace("Offset_Z,0.000000", "Offset_Z,0.040000"))
    with pytest.raises(ImportFormatError, match=r"line 32: the file states a plate offset"):
        import_file(amti)
    rec = import_file(amti, plate_top_offset_mm=0.0)
    assert rec.meta["plate_top_offset_mm"] == 0.0


# --- malformed and truncated files: one line naming the line or byte ---------------------------


def truncate(path: Path, keep: float) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])


@pytest.mark.parametrize("name", ["fscan_testL.asf", "emed_test.lst", "amti_test_first3000.csv"])
@pytest.mark.parametrize("keep", [0.002, 0.5, 0.9999])
def test_truncated_files_are_refused_naming_the_line(tmp_path, name, keep):
    path = unpack(tmp_path, name)
    truncate(path, keep)
    with pytest.raises(ImportFormatError) as exc:
        import_file(path)
    message = str(exc.value)
    assert "\n" not in message
    assert " line " in message


def test_fscan_garbled_value_names_its_line(fscan):
    lines = fscan.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line == "Frame 3") + 5
    lines[at] = lines[at].replace("0", "x", 1)
    fscan.write_text("\n".join(lines) + "\n")
    with pytest.raises(ImportFormatError, match=rf"line {at + 1}: value 'x' is neither a number"):
        import_file(fscan)


def test_fscan_missing_frame_and_unknown_unit(fscan):
    text = fscan.read_text()
    fscan.write_text(text.replace("Frame 7\n", "Frame 8\n", 1))
    with pytest.raises(ImportFormatError, match=r"line \d+: expected 'Frame 7', found 'Frame 8'"):
        import_file(fscan)
    fscan.write_text(text.replace("UNITS KPa", "UNITS Raw"))
    with pytest.raises(ImportFormatError, match=r"line 26: pressure unit 'Raw' is not one the importer knows"):
        import_file(fscan)
    fscan.write_text(text.replace("ROW_SPACING 5.08 mm", "ROW_SPACING 5.08 furlongs"))
    with pytest.raises(ImportFormatError, match=r"line 10: ROW_SPACING unit 'furlongs'"):
        import_file(fscan)


def test_emed_garbled_and_short_rows_name_their_line(emed):
    lines = emed.read_text(encoding="latin-1").splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("50\t"))
    bad = list(lines)
    bad[at] = bad[at].replace("0.00", "0.0O", 1)
    emed.write_text("\n".join(bad), encoding="latin-1")
    with pytest.raises(ImportFormatError, match=rf"line {at + 1}: value '0.0O' is not a number"):
        import_file(emed)
    bad = list(lines)
    bad[at] = bad[at].rsplit("\t", 3)[0]
    emed.write_text("\n".join(bad), encoding="latin-1")
    with pytest.raises(ImportFormatError, match=rf"line {at + 1}: row has \d+ values, not"):
        import_file(emed)


def test_amti_garbled_value_and_binary_byte(amti):
    lines = amti.read_text().splitlines()
    lines[100] = lines[100].replace("5", "#", 1)
    amti.write_text("\n".join(lines) + "\n")
    with pytest.raises(ImportFormatError, match=r"line 101: value '.*#.*' is not a number"):
        import_file(amti)
    data = bytearray(amti.read_bytes())
    data[5000] = 0xFF
    amti.write_bytes(bytes(data))
    with pytest.raises(ImportFormatError, match=r"byte 5000 \(line \d+\) is not utf-8"):
        import_file(amti)


# --- the command line ----------------------------------------------------------------------------


def gaitkiosk(*args):
    return subprocess.run([sys.executable, "-m", "gaitkiosk", *args], capture_output=True, text=True, timeout=300)


def test_import_command_writes_a_recording_analyze_reads(fscan, tmp_path):
    out = tmp_path / "walk.npz"
    result = gaitkiosk("import", str(fscan), "--out", str(out))
    assert result.returncode == 0, result.stderr
    rec = load_recording(out)
    assert rec.mat_kpa.shape == (205, 60, 21) and rec.meta["imported_from"] == fscan.name
    assert gaitkiosk("analyze", str(out), "--json").returncode == 0


def test_analyze_reads_a_vendor_export_directly(amti):
    result = gaitkiosk("analyze", str(amti), "--json", "--window", "0.1:")
    assert result.returncode == 0, result.stderr
    assert '"source": "cop"' in result.stdout or '"cop"' in result.stdout


def test_import_command_refuses_a_truncated_file_in_one_line(emed, tmp_path):
    truncate(emed, 0.5)
    result = gaitkiosk("import", str(emed), "--out", str(tmp_path / "x.npz"))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "line" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "x.npz").exists()
