"""Recording upload throughput on loopback (docs/sync.md "Up: recordings").

A kiosk store holds mat recordings (48 x 48 at 100 Hz, the counts of a sensor without on-board
zero: an offset and read noise on every sensel, so the chunks compress about as badly as real
raw counts ever do); ``sync.recordings.upload_recording`` sends each to ``gaitkiosk server``
(a real process) on a real PostgreSQL started in a temporary directory (tests/pg_support.py).

Reported: MB/s of the whole upload (SQLite read + SHA-256 + HTTP + the server's transactions
and its SHA-256 of the whole) for PATCH sizes of 256 KiB, 1 MiB (the kiosk's default) and
4 MiB (the server's limit); against, in the same run, the kiosk's own share alone (building
and hashing the stream from SQLite, no network), so the server's and the wire's cost is the
difference. Run: ``nice -n 5 python bench/run.py sync_recordings``.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

SECONDS = 120  # of mat per recording
RATE = 100
CHUNK_FRAMES = 100  # the kiosk's one-second chunks
PATCH_SIZES = {"256k": 256 * 1024, "1m": 1024 * 1024, "4m": 4 * 1024 * 1024}


def _make_recording(st, session_id: str, seed: int) -> str:
    from store import codec
    from store.codec import Chunk
    from store.recordings import Recording

    rec = st.recordings.create(Recording(session_id=session_id, device_serial="MAT-BENCH", kind="mat",
                                         shape=[48, 48]))
    rng = np.random.default_rng(seed)
    for idx in range(SECONDS * RATE // CHUNK_FRAMES):
        t = (idx * CHUNK_FRAMES + np.arange(CHUNK_FRAMES)) / RATE
        counts = np.clip(rng.normal(180, 6, (CHUNK_FRAMES, 48, 48)), 0, 4095).astype(np.uint16)
        chunk = Chunk(counts=counts, seq=np.arange(idx * CHUNK_FRAMES, (idx + 1) * CHUNK_FRAMES, dtype=np.uint32),
                      t_device=t, t_host=t + 1000.0)
        st.recordings.append(rec.id, idx, chunk, codec.encode(chunk))
    st.recordings.finish(rec.id)
    return rec.id


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (/proc/PID/stat fields 14 and 15)."""
    import os

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> dict:
    from pg_support import bin_dir

    if bin_dir() is None:  # `make bench` on a machine without PostgreSQL: say so, keep going
        print("skipped: no PostgreSQL server binaries (apt-get install postgresql)")
        return {"skipped": "no PostgreSQL"}
    work = Path(tempfile.mkdtemp(prefix="bench-sync-rec-"))
    try:
        return _run(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(work: Path) -> dict:
    import httpx
    from pg_support import Cluster
    from sync_support import running_server

    from store import db as dbmod
    from store import open_store
    from store.patients import Patient
    from sync.recordings import RecordingSource, upload_recording

    with open_store(work / "kiosk") as st:
        session = st.sessions.start(st.patients.add(Patient(code="B-1")).id)
        ids = {name: _make_recording(st, session.id, seed) for seed, name in enumerate(PATCH_SIZES)}
        st.sessions.finish(session.id)
        db_path = st.path

    db = dbmod.connect(db_path, create=False, migrate=False)
    started = time.perf_counter()
    source = RecordingSource(db, ids["1m"])
    source.sha256()
    for offset in range(0, source.length, PATCH_SIZES["1m"]):
        source.read(offset, PATCH_SIZES["1m"])
    local_s = time.perf_counter() - started
    length = source.length
    db.close()
    mb = length / 1e6
    numbers = {"recording_mb": round(mb, 2), "seconds_of_mat": SECONDS,
               "kiosk_read_and_hash_mb_s": round(mb / local_s, 1)}

    cluster = Cluster()
    cluster.start()
    try:
        with running_server(cluster.new_database(), work) as server:
            kiosk = server.enrol("bench")
            with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {kiosk['token']}"},
                              timeout=120) as http:
                for name, size in PATCH_SIZES.items():
                    started, cpu, server_cpu = time.perf_counter(), time.process_time(), _cpu_s(server.process.pid)
                    result = upload_recording(http, db_path, ids[name], chunk_bytes=size)
                    took = time.perf_counter() - started
                    assert result.sent == result.length and not result.already_complete
                    mb_sent = result.length / 1e6
                    numbers[f"upload_mb_s_patch_{name}"] = round(mb_sent / took, 1)
                    numbers[f"kiosk_cpu_ms_per_mb_patch_{name}"] = round(1000 * (time.process_time() - cpu) / mb_sent, 1)
                    numbers[f"server_cpu_ms_per_mb_patch_{name}"] = round(
                        1000 * (_cpu_s(server.process.pid) - server_cpu) / mb_sent, 1)
    finally:
        cluster.stop()
    print(f"recording: {mb:.1f} MB ({SECONDS} s of a 48 x 48 mat at {RATE} Hz, raw noisy counts)")
    print(f"kiosk side alone (SQLite read + SHA-256 + stream pieces): {numbers['kiosk_read_and_hash_mb_s']} MB/s")
    for name in PATCH_SIZES:
        print(f"upload on loopback, PATCH {name:>4}: {numbers[f'upload_mb_s_patch_{name}']} MB/s; CPU per MB: "
              f"kiosk {numbers[f'kiosk_cpu_ms_per_mb_patch_{name}']} ms, "
              f"server process {numbers[f'server_cpu_ms_per_mb_patch_{name}']} ms (PostgreSQL not counted)")
    return numbers


if __name__ == "__main__":
    main()
