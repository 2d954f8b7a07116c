"""Kill -9 of a recording process at 20 random moments: nothing committed is lost.

The child (this file run as a script) records a session through the real
writer and prints one JSON line per durable chunk commit: recording id,
chunk index and the SHA-256 of the frames it handed in. The parent kills it
at a random moment, then checks what a kiosk would see at its next start:
the file passes ``PRAGMA integrity_check``, every reported chunk reads back
bit-exact, and the interrupted session is flagged incomplete.
"""

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
KILLS = 20


def child(data_dir: str, seed: int) -> None:
    from device.frames import RawFrame
    from store import open_store
    from store.patients import Patient

    st = open_store(data_dir)
    patient = st.patients.add(Patient(code=f"crash-{seed}"))
    session = st.sessions.start(patient.id)
    trial = st.trials.start(session.id, "quiet_stance")

    def report(c):
        print(json.dumps({"rec": c.recording_id, "idx": c.idx, "digest": c.digest}), flush=True)

    writer = st.recording_writer(session.id, trial_id=trial.id, chunk_s=0.05, min_free_bytes=0,
                                 on_commit=report).start()
    print(json.dumps({"session": session.id}), flush=True)
    rng = np.random.default_rng(seed)
    i = 0
    while True:
        mat = rng.integers(0, 1024, (48, 48)).astype(np.uint16)
        mat[mat < 700] = 0
        writer.put(RawFrame("MAT", "mat", i, i / 100, i / 100, mat))
        writer.put(RawFrame("INS-L", "insole_left", i, i / 100, i / 100, rng.integers(0, 4096, 16).astype(np.uint16)))
        i += 1
        if i % 10 == 0:
            time.sleep(0.002)  # roughly 5x real time: commits every ~10 ms


def test_kill_9_at_random_moments_loses_nothing_committed(tmp_path):
    from store import open_store

    rnd = random.Random(1234)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for n in range(KILLS):
        proc = subprocess.Popen([sys.executable, __file__, str(tmp_path), str(n)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
        lines: list[dict] = []
        reader = threading.Thread(target=lambda p=proc, out=lines: out.extend(json.loads(x) for x in p.stdout))
        reader.start()
        deadline = time.monotonic() + 30
        while not any("rec" in x for x in lines) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.005)
        assert proc.poll() is None, f"child exited early: {proc.stderr.read()}"
        time.sleep(rnd.uniform(0.0, 0.3))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        reader.join()
        proc.stderr.close()
        session_id = next(x["session"] for x in lines if "session" in x)
        commits = [x for x in lines if "rec" in x]
        assert commits

        st = open_store(tmp_path)  # the next start of the kiosk
        try:
            assert [r[0] for r in st.db.execute("PRAGMA integrity_check")] == ["ok"]
            assert session_id in st.recovered
            session = st.sessions.get(session_id)
            assert session.status == "incomplete" and "interrupted" in session.status_reason
            for c in commits:
                assert st.recordings.read_chunk(c["rec"], c["idx"]).digest() == c["digest"], (n, c)
            for rec in st.recordings.for_session(session_id):
                assert rec.status == "incomplete"
                whole = st.recordings.read(rec.id)  # every stored chunk decodes and passes its CRC
                assert whole.frames == rec.frames and len(st.recordings.chunk_index(rec.id)) == rec.chunks
                assert np.all(np.diff(whole.seq.astype(np.int64)) >= 1)
            assert all(t.status == "incomplete" for t in st.trials.for_session(session_id))
        finally:
            st.close()
    with open_store(tmp_path) as st:
        assert st.sessions.count(status="incomplete") == KILLS


if __name__ == "__main__":
    child(sys.argv[1], int(sys.argv[2]))
