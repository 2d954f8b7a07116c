"""The sway set against the values its authors published (Santos & Duarte 2016;
dos Santos et al. 2017), to 1e-9 relative, for every trial in the shared data.

Units: the published COParea is cm², COPvelo cm/s, COPmfreq Hz on COP in cm;
ours are mm², mm/s and Hz on COP in mm. BDS columns: COPx = antero-posterior,
COPy = medio-lateral (cm). PDS: COPNET_X = AP, COPNET_Z = ML (m).
"""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import numpy as np
import pytest

from kernels.series import check_cop_series
from kernels.sway import sway_metrics
from kernels.weight import fuse_cop, left_right

REL = 1e-9


def read_info(path: Path) -> dict[str, dict[str, float]]:
    with open(path, newline="") as f:
        rows = csv.DictReader((line.rstrip("\r\n") for line in f), delimiter="\t")
        return {r["Trial"]: {k: float(r[k]) for k in ("COParea", "COPvelo", "COPmfreq")} for r in rows}


def read_table(path: Path) -> tuple[list[str], np.ndarray]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as f:
        header = f.readline().strip().split("\t")
        data = np.loadtxt(f, delimiter="\t", ndmin=2)
    return header, data


def bds_series(path: Path):
    header, d = read_table(path)
    t = d[:, header.index("Time[s]")]
    ap = d[:, header.index("COPx[cm]")] * 10.0
    ml = d[:, header.index("COPy[cm]")] * 10.0
    return check_cop_series(t, np.column_stack([ml, ap]))


def pds_columns(path: Path) -> dict[str, np.ndarray]:
    header, d = read_table(path)
    return {name: d[:, i] for i, name in enumerate(header)}


def pds_series(cols: dict[str, np.ndarray]):
    cop = np.column_stack([cols["COPNET_Z"], cols["COPNET_X"]]) * 1000.0  # (ML, AP) mm
    return check_cop_series(cols["Time"], cop)


def assert_matches_published(series, ref: dict[str, float], trial: str) -> None:
    values, reasons = sway_metrics(series.cop_mm, series.rate_hz)
    assert reasons == {}, (trial, reasons)
    got = {
        "COParea": values["ellipse95_area_mm2"] / 100.0,  # mm² -> cm²
        "COPvelo": values["mean_velocity_mm_s"] / 10.0,  # mm/s -> cm/s
        "COPmfreq": values["mean_power_frequency_hz"],
    }
    for key, want in ref.items():
        assert got[key] == pytest.approx(want, rel=REL), f"{trial} {key}: ours {got[key]!r}, published {want!r}"


# -- the subsets kept in tests/data (run everywhere) -------------------------------------------


def test_bds_trial_in_test_data_matches_published(test_data):
    info = read_info(test_data / "santos-duarte-2016" / "BDSinfoCOP_subset.txt")
    series = bds_series(test_data / "santos-duarte-2016" / "BDS00001_cop.txt.gz")
    assert len(series) == 6000 and series.rate_hz == pytest.approx(100.0, rel=1e-12)
    assert_matches_published(series, info["BDS00001"], "BDS00001")


def test_pds_trial_in_test_data_matches_published(test_data):
    info = read_info(test_data / "dos-santos-2017" / "PDSinfoCOP_subset.txt")
    cols = pds_columns(test_data / "dos-santos-2017" / "PDS13OR1grf_subset.txt.gz")
    assert_matches_published(pds_series(cols), info["PDS13OR1"], "PDS13OR1")


def test_pds_two_foot_fusion_and_shares(test_data):
    """Net COP = force-weighted mean of the two plates' COPs; shares add to 100 %."""
    c = pds_columns(test_data / "dos-santos-2017" / "PDS13OR1grf_subset.txt.gz")
    left = np.column_stack([c["LCOP_Z"], c["LCOP_X"]]) * 1000.0
    right = np.column_stack([c["RCOP_Z"], c["RCOP_X"]]) * 1000.0
    net = fuse_cop(left, c["LGRF_Y"], right, c["RGRF_Y"])
    published = np.column_stack([c["COPNET_Z"], c["COPNET_X"]]) * 1000.0
    # The authors' net COP agrees with force-weighting to < 10 µm (their rounding to 1 µm).
    assert np.max(np.abs(net - published)) < 0.012
    shares, reasons = left_right(c["LGRF_Y"], c["RGRF_Y"])
    assert reasons == {}
    assert shares["left_pct"] + shares["right_pct"] == pytest.approx(100.0)
    independent = 100.0 * c["RGRF_Y"].mean() / (c["RGRF_Y"].mean() + c["LGRF_Y"].mean())
    assert shares["right_pct"] == pytest.approx(independent, rel=1e-12)
    # The left plate carries more than the right here (subject 13, dominant leg left)
    assert 50.0 < shares["left_pct"] < 60.0


def test_fusion_drops_an_unloaded_foot():
    left = np.array([[10.0, 20.0], [np.nan, np.nan], [np.nan, np.nan]])
    right = np.array([[30.0, 40.0], [50.0, 60.0], [np.nan, np.nan]])
    net = fuse_cop(left, [100.0, 0.0, 0.0], right, [300.0, 200.0, 0.0])
    assert net[0] == pytest.approx([25.0, 35.0])
    assert net[1] == pytest.approx([50.0, 60.0])
    assert np.all(np.isnan(net[2]))


# -- every trial in the shared validation data ---------------------------------------------------


def bds_trials(shared: Path):
    folder = shared / "bds-santos-duarte-2016"
    return sorted((folder / "data").glob("BDS*.txt")), read_info(folder / "BDSinfoCOP.txt")


def test_every_bds_trial_matches_published(shared_data):
    files, info = bds_trials(shared_data)
    assert len(files) >= 24, "the shared BDS subset should hold 24 trials"
    for path in files:
        assert_matches_published(bds_series(path), info[path.stem], path.stem)


def test_every_pds_trial_matches_published_and_fuses(shared_data):
    folder = shared_data / "pds-dos-santos-2017"
    info = read_info(folder / "PDSinfoCOP.txt")
    files = sorted((folder / "data").glob("PDS*grf.txt"))
    assert len(files) >= 12
    for path in files:
        trial = path.stem.removesuffix("grf")
        c = pds_columns(path)
        assert_matches_published(pds_series(c), info[trial], trial)
        left = np.column_stack([c["LCOP_Z"], c["LCOP_X"]]) * 1000.0
        right = np.column_stack([c["RCOP_Z"], c["RCOP_X"]]) * 1000.0
        net = fuse_cop(left, c["LGRF_Y"], right, c["RGRF_Y"])
        published = np.column_stack([c["COPNET_Z"], c["COPNET_X"]]) * 1000.0
        assert np.max(np.abs(net - published)) < 0.012, trial
        shares, _ = left_right(c["LGRF_Y"], c["RGRF_Y"])
        assert 45.0 < shares["right_pct"] < 52.0, trial  # README: 0.456-0.514
