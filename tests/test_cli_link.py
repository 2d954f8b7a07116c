"""``gaitkiosk devices``, ``record`` and ``demo``, and port discovery by USB ids."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from serial.tools.list_ports_common import ListPortInfo
from waiting import wait_until

from device import ports
from device.recording import Recording, load_recording, save_recording
from gaitkiosk.cli import main


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# -- discovery -----------------------------------------------------------------------------


def usb_port(device, vid, pid, serial_number, description="Pico"):
    info = ListPortInfo(device, skip_link_detection=True)
    info.vid, info.pid, info.serial_number, info.description = vid, pid, serial_number, description
    info.location = "1-1.2:1.0"
    return info


FAKE_PORTS = [
    usb_port("/dev/ttyACM1", 0x2E8A, 0x000A, "E6614C311B4F2A2B"),
    usb_port("/dev/ttyACM0", 0x2E8A, 0x000A, "E66118604B1F2A2C"),
    usb_port("/dev/ttyUSB0", 0x067B, 0x2303, "PL2303-OTHER"),  # a USB-serial cable that is not a sensor
    ListPortInfo("/dev/ttyS0"),  # a built-in UART: no USB ids at all
]


def test_sensor_ports_are_matched_by_vid_pid(tmp_path):
    (tmp_path / "mat").symlink_to("/dev/ttyACM1")
    found = ports.list_sensor_ports(["2e8a:000a"], comports=lambda: FAKE_PORTS, stable_dir=str(tmp_path))
    assert [p.device for p in found] == ["/dev/ttyACM0", "/dev/ttyACM1"]
    assert found[1].serial_number == "E6614C311B4F2A2B" and found[1].usb_id == "2e8a:000a"
    assert found[1].stable_names == (str(tmp_path / "mat"),)
    assert ports.find_port("E66118604B1F2A2C", ["2e8a:000a"], comports=lambda: FAKE_PORTS) == "/dev/ttyACM0"
    assert ports.find_port("NOT-THERE", ["2e8a:000a"], comports=lambda: FAKE_PORTS) is None
    assert ports.find_port("PL2303-OTHER", ["2e8a:000a"], comports=lambda: FAKE_PORTS) is None


def test_bad_usb_id_is_named():
    with pytest.raises(ports.UsbIdError, match="'2e8a-000a' is not VID:PID"):
        ports.parse_usb_ids(["2e8a-000a"])
    with pytest.raises(ports.UsbIdError, match="'zzzz:0001'"):
        ports.parse_usb_ids(["zzzz:0001"])


def test_udev_rule_line_matches_the_shipped_rules():
    port = ports.SensorPort("/dev/ttyACM0", 0x2E8A, 0x000A, "E66118604B1F2A2C")
    line = ports.udev_rule("insole_left", port)
    assert 'ATTRS{serial}=="E66118604B1F2A2C"' in line and 'SYMLINK+="gaitkiosk/insole-left"' in line
    shipped = (Path(__file__).parent.parent / "deploy" / "99-gaitkiosk.rules").read_text()
    template = line.replace("E66118604B1F2A2C", "LEFT-INSOLE-SERIAL-HERE")
    assert template in shipped
    for usb_id in ("2e8a:000a", "0403:6001", "10c4:ea60", "1a86:7523"):
        vid, pid = usb_id.split(":")
        assert f'ATTRS{{idVendor}}=="{vid}", ATTRS{{idProduct}}=="{pid}"' in shipped


def test_reader_refinds_a_moved_sensor_by_usb_serial():
    from device.reader import DeviceReader

    reader = DeviceReader("/dev/ttyACM7", usb_ids=["2e8a:000a"], comports=lambda: FAKE_PORTS)
    reader._usb_serial = "E6614C311B4F2A2B"  # learnt when it was first opened
    assert reader._relocate() == "/dev/ttyACM1"


# -- gaitkiosk devices -----------------------------------------------------------------------


def test_devices_lists_configured_virtual_sensors_with_their_hello(capsys):
    code, out, _ = run_cli(capsys, "devices", "--json")
    assert code == 0
    data = json.loads(out)
    roles = {e["role"]: e for e in data["configured"]}
    assert set(roles) == {"mat", "insole_left", "insole_right"}
    assert roles["mat"]["probe"]["hello"]["kind"] == "mat"
    assert roles["insole_right"]["probe"]["hello"]["rows"] == 16
    assert all(e["virtual"] for e in data["configured"])
    code, out, _ = run_cli(capsys, "devices", "--no-probe")
    assert code == 0 and "Attached sensors" in out and "sim://mat" in out and "virtual" in out


def test_devices_reports_a_missing_configured_port(capsys, tmp_path):
    cfg = tmp_path / "k.toml"
    cfg.write_text('[devices]\nmat = "/dev/ttyGAITKIOSK7"\ninsoles = []\n')
    code, out, _ = run_cli(capsys, "devices", "--config", str(cfg), "--json", "--timeout", "0.3")
    assert code == 0
    entry = json.loads(out)["configured"][0]
    assert entry["probe"]["state"] == "missing" and "/dev/ttyGAITKIOSK7 does not exist" in entry["probe"]["reason"]


# -- gaitkiosk record ---------------------------------------------------------------------------


def test_record_sim_mat_and_insoles(capsys, tmp_path):
    out_file = tmp_path / "rec.npz"
    code, out, err = run_cli(capsys, "record", "sim://mat?patient=rec1", "sim://insole?side=left&patient=rec1",
                             "sim://insole?side=right&patient=rec1", "--seconds", "1", "--out", str(out_file))
    assert code == 0, err
    assert "wrote" in out and "faults: none" in out
    rec = load_recording(out_file)
    assert 90 <= len(rec.mat_t) <= 104 and rec.mat_kpa.shape[1:] == (48, 48)
    assert np.min(np.diff(rec.mat_t)) >= 0.0049  # never less than half the 10 ms period
    assert 85 <= len(rec.insole_t) <= 104 and rec.insole_left_kpa.shape[1] == 16
    assert rec.mat_t[0] >= 0 and rec.mat_t[-1] < 1.0 and np.all(np.diff(rec.mat_t) > 0)
    # mat and insoles on one time base (alignment itself is checked against the truth in test_reader.py)
    assert abs(rec.mat_t[0] - rec.insole_t[0]) < 0.1 and abs(rec.mat_t[-1] - rec.insole_t[-1]) < 0.1
    devices = {d["kind"]: d for d in rec.meta["devices"]}
    assert devices["mat"]["serial"] == "sim-mat-48x48-seed1" and devices["mat"]["firmware"].startswith("gaitkiosk-sim")
    assert "uncalibrated" in devices["mat"]["pressure"]
    assert "counters" in devices["insole_left"] and rec.meta["insole_pairing"]["time_base"] == "insole_left"


def test_record_replay_round_trip(capsys, tmp_path):
    rng = np.random.default_rng(1)
    src = Recording(meta={}, mat_kpa=(rng.random((50, 4, 4)) * 300).astype(np.float32),
                    mat_t=np.arange(50) / 100.0, mat_pitch_mm=np.array([10.0, 10.0]))
    save_recording(tmp_path / "src.npz", src)
    out_file = tmp_path / "copy.npz"
    code, out, err = run_cli(capsys, "record", f"replay://{tmp_path / 'src.npz'}?speed=0", "--seconds", "10",
                             "--out", str(out_file))
    assert code == 0, err
    rec = load_recording(out_file)
    assert rec.mat_kpa.shape == src.mat_kpa.shape
    assert np.max(np.abs(rec.mat_kpa - src.mat_kpa)) <= 0.0251
    np.testing.assert_allclose(rec.mat_t, src.mat_t, atol=1e-6)
    assert rec.meta["devices"][0]["pressure"] == "kPa (device-calibrated)"


def test_record_errors(capsys, tmp_path):
    code, _, err = run_cli(capsys, "record", "/dev/ttyGAITKIOSK8", "--seconds", "1", "--out", str(tmp_path / "x.npz"))
    assert code == 1 and "/dev/ttyGAITKIOSK8 does not exist" in err
    code, _, err = run_cli(capsys, "record", "sim://mat?patient=a", "sim://mat?patient=b&pattern=1", "--seconds", "1",
                           "--out", str(tmp_path / "x.npz"))
    assert code == 1 and "both a mat" in err
    code, _, err = run_cli(capsys, "record", "sim://mat", "--seconds", "1", "--out", str(tmp_path / "no" / "x.npz"))
    assert code == 1 and "does not exist" in err
    assert not (tmp_path / "x.npz").exists()


# -- gaitkiosk demo -------------------------------------------------------------------------------


def test_demo_prints_a_live_summary_without_a_tty(capsys):
    code, out, _ = run_cli(capsys, "demo", "--seconds", "1.3", "--interval", "0.4")
    assert code == 0
    blocks = [b for b in out.split("\n\n") if b.strip()]
    assert len(blocks) >= 3  # refreshed, not printed once
    last = blocks[-1]
    for name in ("mat", "insole_left", "insole_right"):
        assert name in last
    assert "mat COP" in last and "left" in last and "right" in last
    assert "\x1b[" not in out  # no terminal codes when piped


def test_demo_json_lines(capsys):
    code, out, _ = run_cli(capsys, "demo", "--json", "--seconds", "1.0", "sim://mat?patient=demo2",
                           "sim://insole?side=left&patient=demo2", "sim://insole?side=right&patient=demo2")
    assert code == 0
    snaps = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert len(snaps) >= 2
    last = snaps[-1]
    assert [d["name"] for d in last["devices"]] == ["mat", "insole_left", "insole_right"]
    assert all(d["frames"] > 50 for d in last["devices"])
    body = last["body"]
    assert body["cop_mm"] is not None and 30 < body["mat_left_pct"] < 70 and 30 < body["insole_left_pct"] < 70


def test_plain_cop_fallback_on_two_feet():
    from gaitkiosk.commands.demo import plain_cop

    frame = np.zeros((10, 12), dtype=np.float32)
    frame[2:8, 2:4] = 100.0  # left foot, columns 2-3
    frame[2:8, 8:10] = 300.0  # right foot, columns 8-9: three times the load
    frame[0, 11] = 4095.0  # a hot sensel alone in its column
    force, cop, left, right = plain_cop(frame, (10.0, 10.0), threshold=50.0)
    assert left / (left + right) < 0.25
    assert cop is not None and 5.0 * 10 < cop[0] < 11 * 10
    assert plain_cop(np.zeros((4, 4), np.float32), (10.0, 10.0), 1.0)[1] is None


def test_devices_probes_usb_sensors_and_prints_udev_lines(capsys, monkeypatch):
    """USB descriptions of three sensors whose ports are real ptys served by virtual firmware."""
    from serial.tools import list_ports

    from device.framing import DeviceKind
    from device.pty import PtyServer
    from device.virtual import TestPattern, VirtualDevice

    devices = {
        "mat": VirtualDevice(TestPattern(DeviceKind.MAT, 8, 8), serial="MAT-000123", powered=False),
        "left": VirtualDevice(TestPattern(DeviceKind.INSOLE_LEFT, 16, 1), serial="INS-L-7", powered=False),
        "right": VirtualDevice(TestPattern(DeviceKind.INSOLE_RIGHT, 16, 1), serial="INS-R-7", powered=False),
    }
    with PtyServer(devices) as server:
        paths = server.paths()
        usb = [usb_port(paths["mat"], 0x2E8A, 0x000A, "E661000000000001"),
               usb_port(paths["left"], 0x2E8A, 0x000A, "E661000000000002"),
               usb_port(paths["right"], 0x10C4, 0xEA60, "CP2102-0003")]
        monkeypatch.setattr(list_ports, "comports", lambda: usb)
        code, out, _ = run_cli(capsys, "devices", "--json", "--udev")
    assert code == 0
    data = json.loads(out)
    kinds = {e["serial_number"]: e["probe"]["hello"]["kind"] for e in data["attached"]}
    assert kinds == {"E661000000000001": "mat", "E661000000000002": "insole_left", "CP2102-0003": "insole_right"}
    assert {e["probe"]["hello"]["serial"] for e in data["attached"]} == {"MAT-000123", "INS-L-7", "INS-R-7"}
    rules = data["udev_rules"]
    assert any('ATTRS{serial}=="E661000000000001"' in r and 'SYMLINK+="gaitkiosk/mat"' in r for r in rules)
    assert any('ATTRS{idVendor}=="10c4"' in r and 'SYMLINK+="gaitkiosk/insole-right"' in r for r in rules)
    # Probing never starts a device streaming.
    assert all(d.frames_sent == 0 for d in devices.values())


def test_record_ctrl_c_keeps_what_was_recorded(capsys, tmp_path, monkeypatch):
    """Ctrl-C while frames are being recorded: the file keeps every one of them and says so."""
    import _thread
    import threading

    from gaitkiosk.commands import record

    collectors = []

    class WatchedCollector(record._Collector):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            collectors.append(self)

    monkeypatch.setattr(record, "_Collector", WatchedCollector)
    held = []  # mat frames the recording held when Ctrl-C came

    def ctrl_c_once_recording():
        # The event, not a delay: the recording has 50 mat frames (start-up takes long on a busy machine).
        if wait_until(lambda: collectors and len(collectors[0].frames[0]) >= 50, timeout=60):
            held.append(len(collectors[0].frames[0]))
        _thread.interrupt_main()  # also when it never got there: the asserts below say so

    out_file = tmp_path / "cut.npz"
    watcher = threading.Thread(target=ctrl_c_once_recording, daemon=True)
    watcher.start()
    code, out, err = run_cli(capsys, "record", "sim://mat?pattern=1", "--seconds", "600", "--out", str(out_file))
    watcher.join()
    assert held, "the recording never held 50 mat frames"
    assert code == 0, err
    assert "interrupted, kept what was recorded" in out
    rec = load_recording(out_file)
    # Everything recorded before Ctrl-C is in the file, and the recording stopped there, not after 600 s.
    assert rec.meta["interrupted"] is True and held[0] <= len(rec.mat_t) < held[0] + 1000


def test_record_refuses_what_would_not_fit_in_memory(capsys, tmp_path):
    code, _, err = run_cli(capsys, "record", "sim://mat?pattern=1&rows=256&cols=256&rate=400", "--seconds", "3600",
                           "--out", str(tmp_path / "huge.npz"))
    assert code == 1 and "GiB of memory" in err and "record at most" in err
