"""Store benchmark: recording size per codec, writer throughput, session list speed.

1. Bytes per minute of a 48 x 48 mat at 100 Hz plus two 16-sensor insoles
   (virtual patient, quiet standing and walking), for every codec method,
   against the raw size and against ``numpy.savez_compressed`` of the same
   frames (counts, seq and both clocks), measured in the same run. Two
   streams: "zeroed" is what the kiosk stores (it sends ZERO to each sensor
   while nobody stands on it: the controller subtracts each sensel's baseline
   and sends 0 below its noise gate, 3 sigma of its own noise; reference
   ``device.sim.zero_gate``, docs/protocol.md section 9), "raw" the ungated
   counts of a sensor without on-board zero: an offset and Gaussian read noise
   on every sensel, an entropy floor no lossless codec can beat.
2. Sustained write rate: frames/s the recording writer absorbs (encode +
   durable commit with synchronous=FULL on this machine's disk), against the
   300 frames/s a mat and two insoles produce.
3. A database holding 20,000 sessions: time to open the session list (first
   page, filtered by patient, drill and date) and one session, with the
   schema's indices against the same queries with them dropped.
4. The kiosk's start-up check (``PRAGMA quick_check`` of every table but the
   raw-frame chunks, store/db.py) on a database of 20,000 sessions and
   CHUNK_MB of raw chunks, against a quick_check and an integrity_check of
   the whole file, in the same run.
"""

from __future__ import annotations

import io
import json
import random
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

RATE = 100
SECONDS = 20  # per scenario; scaled to a minute


def _frames(scenario: str, seconds: int, *, zeroed: bool = False):
    """Counts of the three sensors; ``zeroed``: as sent after a default ZERO made with nobody on them."""
    from device.sim import VirtualPatient

    p = VirtualPatient(scenario=scenario, seed=1)
    mat, left, right = [], [], []
    for i in range(seconds * RATE):
        s = p.sample(i / RATE)
        mat.append(p.mat_counts(s))
        left.append(p.insole_counts(s, "left"))
        right.append(p.insole_counts(s, "right"))
    devices = {"mat": np.array(mat), "insole_left": np.array(left), "insole_right": np.array(right)}
    if zeroed:
        sensors = {"mat": p.mat_sensor, "insole_left": p.insole_sensor_for("left"),
                   "insole_right": p.insole_sensor_for("right")}
        for name, sensor in sensors.items():
            devices[name] = _zero_gated(sensor, devices[name])
    return devices


def _zero_gated(sensor, counts: np.ndarray) -> np.ndarray:
    """What the device sends after ZERO 0, measured over an unloaded window before the recording."""
    from device.sim.zero_gate import ZERO_WINDOW_SCANS, ZeroGate

    unloaded = np.zeros(sensor.shape)
    window = np.stack([sensor.counts(unloaded, key=10**12 + k) for k in range(ZERO_WINDOW_SCANS)])
    gate = ZeroGate.measure(window, 0)
    return np.stack([gate.apply(c) for c in counts])


def _chunks(counts: np.ndarray):
    from store.codec import Chunk

    n = len(counts)
    t = np.arange(n) / RATE
    for k in range(0, n, RATE):  # one-second chunks, as the writer makes them
        sl = slice(k, k + RATE)
        yield Chunk(counts=counts[sl], seq=np.arange(k, min(k + RATE, n), dtype=np.uint32), t_device=t[sl],
                    t_host=t[sl] + 1234.5)


def _savez_bytes(devices: dict) -> int:
    buf = io.BytesIO()
    arrays = {}
    for name, counts in devices.items():
        n = len(counts)
        arrays.update({f"{name}_counts": counts, f"{name}_seq": np.arange(n, dtype=np.uint32),
                       f"{name}_t_device": np.arange(n) / RATE, f"{name}_t_host": np.arange(n) / RATE + 1234.5})
    np.savez_compressed(buf, **arrays)
    return buf.tell()


def bench_size() -> dict:
    from store import codec

    methods = [*codec.METHOD_IDS, codec.AUTO]
    out = {}
    for scenario in ("quiet", "walk"):
        raw_devices = _frames(scenario, SECONDS)
        zeroed = _frames(scenario, SECONDS, zeroed=True)
        for label, devices in (("zeroed", zeroed), ("raw", raw_devices)):
            per_min = 60 / SECONDS
            raw = sum(v.nbytes + len(v) * (4 + 8 + 8) for v in devices.values()) * per_min
            savez = _savez_bytes(devices) * per_min
            row = {"raw_bytes_min": raw, "savez_bytes_min": savez}
            for m in methods:
                size = sum(len(codec.encode(c, m)) for v in devices.values() for c in _chunks(v)) * per_min
                row[m] = {"bytes_min": size, "x_raw": raw / size, "x_savez": savez / size}
            out[f"{scenario}_{label}"] = row
        # The entropy floor of the raw mat: read noise around each sensel's own median,
        # over the background (sensels whose median is below 40 counts).
        mat = raw_devices["mat"].astype(np.int32)
        median = np.median(mat, axis=0)
        residual = (mat - median)[:, median < 40]
        _, n = np.unique(residual, return_counts=True)
        p = n / n.sum()
        bits = float(-(p * np.log2(p)).sum())
        out[f"{scenario}_raw"]["background_share"] = float((median < 40).mean())
        out[f"{scenario}_raw"]["noise_bits_per_sensel"] = bits
        out[f"{scenario}_raw"]["lossless_floor_x"] = 16 / bits
    return out


def bench_write_rate(tmp: Path) -> dict:
    from device.frames import RawFrame
    from store import open_store
    from store.patients import Patient

    devices = _frames("walk", 10)
    frames = []
    for i in range(len(devices["mat"])):
        for kind, serial in (("mat", "MAT"), ("insole_left", "L"), ("insole_right", "R")):
            frames.append(RawFrame(serial, kind, i, i / RATE, i / RATE, devices[kind][i]))
    frames = frames * 3  # 30 s of recording
    for n, f in enumerate(frames):  # keep the clocks increasing across repeats
        frames[n] = RawFrame(f.device, f.kind, n // 3, n / 3 / RATE, n / 3 / RATE, f.counts)
    st = open_store(tmp / "rate")
    session = st.sessions.start(st.patients.add(Patient(code="bench")).id)
    writer = st.recording_writer(session.id, queue_frames=len(frames) + 1, min_free_bytes=0).start()
    t0 = time.perf_counter()
    for f in frames:
        writer.put(f)
    stats = writer.stop(timeout=600)
    elapsed = time.perf_counter() - t0
    st.sessions.finish(session.id)
    st.close()
    rate = stats.committed_frames / elapsed
    return {"frames": stats.committed_frames, "seconds": elapsed, "frames_per_s": rate,
            "needed_frames_per_s": 3 * RATE, "x_needed": rate / (3 * RATE), "dropped": stats.dropped}


def _fill(st, n_sessions: int) -> dict:
    from store import rows

    rnd = random.Random(3)
    patients = [(rows.new_id(), f"P{i:04d}", "2024-01-01T00:00:00.000000Z") for i in range(400)]
    drills = ["quiet_stance", "tandem", "weight_shift", "heel_to_toe", "walk", "reach"]
    sessions, trials, recordings = [], [], []
    start = 1.7e9
    for i in range(n_sessions):
        sid = rows.new_id()
        when = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(start + i * 3600 * 3))
        sessions.append((sid, rnd.choice(patients)[0], when, "complete"))
        for pos in range(3):
            tid = rows.new_id()
            trials.append((tid, sid, pos, rnd.choice(drills), when, json.dumps({"metrics_version": 1})))
            recordings.append((rows.new_id(), sid, tid, "MAT", "mat", "[48,48]", when))
    with st.db.atomic():
        st.db.conn.executemany("INSERT INTO patients (id, code, created_at) VALUES (?, ?, ?)", patients)
        st.db.conn.executemany("INSERT INTO sessions (id, patient_id, started_at, status) VALUES (?, ?, ?, ?)", sessions)
        st.db.conn.executemany("INSERT INTO trials (id, session_id, position, drill, started_at, report) "
                               "VALUES (?, ?, ?, ?, ?, ?)", trials)
        st.db.conn.executemany("INSERT INTO recordings (id, session_id, trial_id, device_serial, kind, shape, "
                               "started_at) VALUES (?, ?, ?, ?, ?, ?, ?)", recordings)
    st.db.execute("ANALYZE")
    return {"patient": patients[7][0], "session": sessions[n_sessions // 2][0],
            "since": sessions[n_sessions - 500][2], "before": sessions[n_sessions - 100][2]}


def _time(fn, repeat=20) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def bench_list(tmp: Path, n_sessions: int = 20_000) -> dict:
    from store import open_store

    st = open_store(tmp / "list")
    keys = _fill(st, n_sessions)
    queries = {
        "list_first_page": lambda: st.sessions.list(limit=50),
        "list_by_patient": lambda: st.sessions.list(patient_id=keys["patient"], limit=50),
        "list_by_drill": lambda: st.sessions.list(drill="reach", limit=50),
        "list_by_rare_drill": lambda: st.sessions.list(drill="never_prescribed", limit=50),
        "list_by_date": lambda: st.sessions.list(since=keys["since"], before=keys["before"], limit=50),
        "count_by_patient": lambda: st.sessions.count(patient_id=keys["patient"]),
        "open_one_session": lambda: (st.sessions.get(keys["session"]), st.trials.for_session(keys["session"]),
                                     st.recordings.for_session(keys["session"])),
    }
    indexed = {name: _time(q) for name, q in queries.items()}
    for (name,) in st.db.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                                 "AND name NOT LIKE 'sqlite_%' AND tbl_name IN ('sessions', 'trials', 'recordings')").fetchall():
        st.db.execute(f"DROP INDEX {name}")
    bare = {name: _time(q, repeat=3) for name, q in queries.items()}
    st.close()
    return {"sessions": n_sessions, **{name: {"ms": indexed[name] * 1e3, "ms_without_indices": bare[name] * 1e3,
                                              "x_faster": bare[name] / indexed[name]} for name in queries}}


CHUNK_MB = 200


def bench_startup_check(tmp: Path, n_sessions: int = 20_000) -> dict:
    from store import db as dbmod
    from store import open_store

    st = open_store(tmp / "check")
    _fill(st, n_sessions)
    rec_ids = [r[0] for r in st.db.execute("SELECT id FROM recordings LIMIT 2000")]
    rng = np.random.default_rng(5)
    blob = 16 * 1024  # about one second of a walking mat, compressed
    n_chunks = CHUNK_MB * 1024 * 1024 // blob
    with st.db.atomic():
        st.db.conn.executemany(
            "INSERT INTO recording_chunks (recording_id, idx, n_frames, t_first, t_last, data) VALUES (?, ?, 100, 0, 1, ?)",
            ((rec_ids[i % len(rec_ids)], i // len(rec_ids), rng.bytes(blob)) for i in range(n_chunks)))
    size_mb = (st.db.execute("PRAGMA page_count").fetchone()[0] * st.db.execute("PRAGMA page_size").fetchone()[0]) / 1e6
    conn = st.db.conn
    startup = _time(lambda: dbmod.structure_problems(conn), repeat=3)
    quick = _time(lambda: conn.execute("PRAGMA quick_check").fetchall(), repeat=3)
    integrity = _time(lambda: conn.execute("PRAGMA integrity_check").fetchall(), repeat=1)
    st.close()
    return {"sessions": n_sessions, "file_mb": size_mb, "startup_check_ms": startup * 1e3,
            "whole_quick_check_ms": quick * 1e3, "whole_integrity_check_ms": integrity * 1e3,
            "x_faster_than_quick_check": quick / startup, "x_faster_than_integrity_check": integrity / startup}


def main() -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="bench_store_"))
    try:
        size = bench_size()
        rate = bench_write_rate(tmp)
        listing = bench_list(tmp)
        check = bench_startup_check(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("\nRecording size per minute (48x48 mat @100 Hz + 2 x 16-sensor insoles), x = times smaller")
    methods = [k for k, v in size["quiet_raw"].items() if isinstance(v, dict)]
    print("zeroed = device ZERO (baseline subtracted, 3-sigma noise gate), as the kiosk stores; raw = ungated")
    print(f"{'method':<22}" + "".join(f"{k:>24}" for k in size))
    print(f"{'raw':<22}" + "".join(f"{v['raw_bytes_min'] / 1e6:>21.2f} MB" for v in size.values()))
    print(f"{'np.savez_compressed':<22}" + "".join(
        f"{v['savez_bytes_min'] / 1e6:>13.2f} MB {v['raw_bytes_min'] / v['savez_bytes_min']:>5.1f}x" for v in size.values()))
    for m in methods:
        print(f"{m:<22}" + "".join(
            f"{v[m]['bytes_min'] / 1e6:>8.2f} MB {v[m]['x_raw']:>5.1f}x {v[m]['x_savez']:>4.2f}xS" for v in size.values()))
    for scenario in ("quiet", "walk"):
        v = size[f"{scenario}_raw"]
        print(f"{scenario}: background {v['background_share']:.0%} of the mat, read noise "
              f"{v['noise_bits_per_sensel']:.2f} bits/sensel -> lossless floor ~{v['lossless_floor_x']:.1f}x on raw counts")
    print(f"\nwriter: {rate['frames_per_s']:.0f} frames/s sustained ({rate['x_needed']:.1f}x the "
          f"{rate['needed_frames_per_s']} needed), {rate['frames']} frames, dropped {rate['dropped']}")
    print(f"\n{listing['sessions']} sessions:")
    for name, v in listing.items():
        if isinstance(v, dict):
            print(f"  {name:<18} {v['ms']:8.2f} ms   (without indices {v['ms_without_indices']:8.2f} ms, {v['x_faster']:.0f}x)")
    print(f"\nstart-up check on {check['file_mb']:.0f} MB ({check['sessions']} sessions): "
          f"{check['startup_check_ms']:.0f} ms; whole quick_check {check['whole_quick_check_ms']:.0f} ms "
          f"({check['x_faster_than_quick_check']:.1f}x), integrity_check {check['whole_integrity_check_ms']:.0f} ms "
          f"({check['x_faster_than_integrity_check']:.1f}x)")
    return {"size": size, "write_rate": rate, "listing": listing, "startup_check": check}


if __name__ == "__main__":
    main()
