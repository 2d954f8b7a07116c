"""Fault drill: what a clinic does to a kiosk, and what is lost (`bench/run.py faults`).

Each scenario runs the real kiosk as its own process (``gaitkiosk run
--simulate --headless``: real readers on the virtual devices, the analysis and
worker threads, the recording writer, a real SQLite file) and does to it what
happens on a unit:

* **beside**: visits during which ``sessions list``, ``db check`` and
  ``db backup`` run at random moments, each in its own process, as a
  technician would;
* **kill -9**: visits killed at a random moment, then the next start
  (recovery) as after a power cut;
* **full disk**: the data directory on a real small tmpfs filled to a few
  hundred kB (where this machine allows ``mount``; else ``store.max_db_mb``,
  i.e. SQLite's ``max_page_count``);
* **read-only**: the card remounted read-only after a visit (the kernel does
  this after I/O errors): the kiosk's start, a reader and a backup off it.
  (A tmpfs cannot be remounted read-only while a process writes to it, so the
  remount comes between visits.)

Figures per visit: frames the virtual devices handed to the recording while
it recorded (``sent`` = stored + dropped + not stored after a storage stop +
lost on the link) against frames stored; for a kill, the seconds between the
last stored frame and the kill (at most one chunk, ``store.chunk_s``, plus a
commit); sessions left in a non-final state after the next start (must be 0);
tracebacks in any process's output (must be 0).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# GAITKIOSK_FAULTS_ROOT: run the same drill against another checkout (built in place), e.g. the
# code before a fix, for before/after figures from one machine state.
ROOT = Path(os.environ.get("GAITKIOSK_FAULTS_ROOT") or Path(__file__).resolve().parent.parent)
CODE = "4821"
DRILLS = 3
SECONDS = "3"  # each drill's running time (demo option): a visit is ~20 s
BESIDE_VISITS = 4
KILLS = 4
RANDOM_SEED = 20261204


def _env() -> dict:
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy", "PYTHONPATH": str(ROOT)}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    return env


def gaitkiosk(*argv: str, timeout: float = 120.0) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gaitkiosk", *argv], capture_output=True, text=True,
                          timeout=timeout, env=_env(), cwd=ROOT)


def kiosk(data: Path, config: Path | None = None) -> subprocess.Popen:
    argv = [sys.executable, "-m", "gaitkiosk", "run", "--simulate", "--headless", "--no-seed", "--code", CODE,
            "--seconds", SECONDS, "--countdown", "0.3", "--timeout", "300", "--data-dir", str(data), "--json"]
    if config is not None:
        argv += ["--config", str(config)]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=ROOT)


def query(db: Path, sql: str, args=()) -> list:
    """Read through SQLite only (never open the database file any other way)."""
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(sql, args).fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()


SEED = ("import sys; from gaitkiosk.config import load_config; from gaitkiosk.demo_seed import seed_demo; "
        "seed_demo(sys.argv[1], load_config(None), sys.argv[2])")


def prescribe(data: Path) -> list[str]:
    """A demo patient (the scripted visit never checks in as a real one) with three short drills."""
    errs = []
    seeded = subprocess.run([sys.executable, "-c", SEED, str(data), CODE], capture_output=True, text=True,
                            env=_env(), cwd=ROOT)
    if seeded.returncode != 0:  # a checkout from before demo patients were marked
        seeded = gaitkiosk("patients", "add", CODE, "--data-dir", str(data))
    errs.append(seeded.stderr)
    for argv in (["program", "set", CODE, *["quiet_standing"] * DRILLS],):
        done = gaitkiosk(*argv, "--data-dir", str(data))
        errs.append(done.stderr)
        if done.returncode != 0:
            raise RuntimeError(f"{argv}: {done.stderr.strip()}")
    return errs


def recorded_seconds(db: Path) -> float:
    rows = query(db, "SELECT coalesce(sum(frames), 0) FROM recordings")
    return rows[0][0] / 300.0 if rows else 0.0  # a mat and two insoles at 100 Hz


def trial_figures(db: Path) -> dict:
    """Sent and stored frames over the visit's trials (from the results the kiosk stored)."""
    sent = stored = lost_link = lost_store = 0
    states = []
    rows = query(db, "SELECT results, recording, status FROM trials ORDER BY started_at") or [
        (results, "", status) for results, status in  # a checkout from before trials.recording
        query(db, "SELECT results, status FROM trials ORDER BY started_at")]
    for results, recording, status in rows:
        r = json.loads(results).get("recording") or {}
        stored += r.get("frames", 0)
        lost_store += r.get("dropped", 0) + r.get("lost_on_stop", 0)
        lost_link += r.get("seq_gaps", 0)
        states.append(f"{status}/{recording or '-'}")
    sent = stored + lost_store + lost_link
    db_frames = query(db, "SELECT coalesce(sum(frames), 0) FROM recordings")
    return {"sent": sent, "stored": stored, "stored_in_db": db_frames[0][0] if db_frames else 0,
            "lost_storage": lost_store, "lost_link": lost_link, "trials": states}


def tracebacks(*texts: str) -> int:
    return sum(t.count("Traceback") for t in texts)


def non_final_after_restart(data: Path) -> tuple[int, list[str]]:
    """Open the store as the next kiosk start does (recovery), then count sessions still open."""
    done = gaitkiosk("db", "check", "--data-dir", str(data), "--json")
    open_ = query(data / "gaitkiosk.db", "SELECT count(*) FROM sessions WHERE status = 'open'")
    return (open_[0][0] if open_ else 0), [done.stderr]


def beside_visit(rng: random.Random, base: Path, n: int) -> dict:
    data = base / f"beside-{n}"
    errs = prescribe(data)
    db = data / "gaitkiosk.db"
    proc = kiosk(data)
    commands = [["sessions", "list"], ["db", "check"], ["db", "backup", "--out", str(base / f"backup-{n}.db")]]
    rng.shuffle(commands)
    moments = sorted(rng.uniform(1.0, DRILLS * float(SECONDS) * 1.6) for _ in commands)
    results = []
    for when, argv in zip(moments, commands, strict=True):
        while recorded_seconds(db) < when and proc.poll() is None:
            time.sleep(0.05)
        done = gaitkiosk(*argv, "--data-dir", str(data))
        results.append((argv[1] if argv[0] == "db" else argv[0] + " " + argv[1], done.returncode, round(when, 1)))
        errs.append(done.stderr)
    out, err = proc.communicate(timeout=300)
    errs.append(err)
    figures = trial_figures(db)
    summary = json.loads(out) if out.strip() else {}
    non_final, more = non_final_after_restart(data)
    return {"scenario": "beside", "visit": n, "exit": proc.returncode,
            "session": (summary.get("session") or {}).get("status"), **figures,
            "commands": [f"{name}@{t}s:{rc}" for name, rc, t in results],
            "disk_io_errors": sum(e.count("disk I/O error") for e in errs),
            "non_final_after_restart": non_final, "tracebacks": tracebacks(*errs, *more)}


def kill_visit(rng: random.Random, base: Path, n: int) -> dict:
    data = base / f"kill-{n}"
    errs = prescribe(data)
    db = data / "gaitkiosk.db"
    proc = kiosk(data)
    at = rng.uniform(0.5, DRILLS * float(SECONDS) * 0.9)
    while recorded_seconds(db) < at and proc.poll() is None:
        time.sleep(0.02)
    # ...then a random moment between commits (a commit is what moved recorded_seconds on)
    time.sleep(rng.uniform(0.0, 1.5))
    killed_at = time.monotonic()  # CLOCK_MONOTONIC is the host clock the frames' t_host is on
    proc.send_signal(signal.SIGKILL)
    _out, err = proc.communicate(timeout=60)
    errs.append(err)
    # Per device of the trial that was recording: its last stored frame against the kill.
    last = query(db, "SELECT max(c.t_last) FROM recording_chunks c JOIN recordings r ON r.id = c.recording_id "
                     "WHERE r.trial_id = (SELECT trial_id FROM recordings ORDER BY started_at DESC LIMIT 1) "
                     "GROUP BY r.id")
    gap_s = round(max(killed_at - t for (t,) in last), 3) if last else None
    open_before = query(db, "SELECT count(*) FROM sessions WHERE status = 'open'")[0][0]
    non_final, more = non_final_after_restart(data)
    status = query(db, "SELECT status, status_reason FROM sessions")
    check = query(db, "PRAGMA integrity_check")
    return {"scenario": "kill -9", "visit": n, "killed_after_recorded_s": round(at, 1),
            "stored_in_db": query(db, "SELECT coalesce(sum(frames), 0) FROM recordings")[0][0],
            "seconds_lost_at_kill": gap_s, "open_before_restart": open_before,
            "session_after_restart": status[0][0] if status else None,
            "integrity": check[0][0] if check else None,
            "non_final_after_restart": non_final, "tracebacks": tracebacks(*errs, *more)}


def _mount_tmpfs(path: Path, size: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True).returncode == 0


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True)


def full_disk_visit(base: Path) -> dict:
    card = base / "full-card"
    real = _mount_tmpfs(card, "24m")
    data = card / "kiosk"
    config = base / "full.toml"
    try:
        errs = prescribe(data)
        if real:
            config.write_text("[store]\nmin_free_mb = 0\n[devices]\nzero_when_idle = false\n")
        else:
            config.write_text("[store]\nmax_db_mb = 1\nmin_free_mb = 0\n[devices]\nzero_when_idle = false\n")
        proc = kiosk(data, config)
        if real:
            # Something else fills the card once the visit runs (the kiosk holds its closing reserve):
            # a few hundred kB are left, a couple of seconds of ungated frames.
            db = data / "gaitkiosk.db"
            while recorded_seconds(db) < 0.5 and proc.poll() is None:
                time.sleep(0.02)
            free = shutil.disk_usage(card).free
            subprocess.run(["fallocate", "-l", str(free - 600 * 1024), str(card / "filler")], check=True)
        out, err = proc.communicate(timeout=300)
        errs.append(err)
        db = data / "gaitkiosk.db"
        figures = trial_figures(db)
        session = query(db, "SELECT status, status_reason FROM sessions")
        last_line = err.strip().splitlines()[-1] if err.strip() else ""
        non_final, more = non_final_after_restart(data)
        return {"scenario": "full disk (tmpfs)" if real else "full disk (max_db_mb)", "exit": proc.returncode,
                "session": session[0][0] if session else None,
                "session_reason": (session[0][1][:90] + "...") if session else None, **figures,
                "told": last_line[:120], "non_final_after_restart": non_final,
                "tracebacks": tracebacks(*errs, *more)}
    finally:
        if real:
            _umount(card)


def read_only_visit(base: Path) -> dict:
    card = base / "ro-card"
    if not _mount_tmpfs(card, "64m"):
        return {"scenario": "read-only", "skipped": "mount is not allowed here"}
    data = card / "kiosk"
    try:
        errs = prescribe(data)
        config = base / "ro.toml"
        config.write_text("[store]\nmin_free_mb = 0\n")  # a 64 MB card
        proc = kiosk(data, config)
        out, err = proc.communicate(timeout=300)
        errs.append(err)
        before = trial_figures(data / "gaitkiosk.db")
        subprocess.run(["mount", "-o", "remount,ro", str(card)], check=True)
        start = kiosk(data, config)
        _o, start_err = start.communicate(timeout=120)
        listing = gaitkiosk("sessions", "list", "--data-dir", str(data))
        stick = base / "ro-stick"
        stick.mkdir()
        backup = gaitkiosk("db", "backup", "--out", str(stick / "rescue.db"), "--data-dir", str(data))
        rescued = query(stick / "rescue.db", "SELECT coalesce(sum(frames), 0) FROM recordings")
        errs += [start_err, listing.stderr, backup.stderr]
        subprocess.run(["mount", "-o", "remount,rw", str(card)], check=True)
        non_final, more = non_final_after_restart(data)
        said = start_err.strip().splitlines()[-1] if start_err.strip() else ""
        return {"scenario": "read-only", "visit_exit": proc.returncode, "stored": before["stored"],
                "kiosk_start_exit": start.returncode, "kiosk_said": said[:110],
                "called_damaged": ("damaged" in said.replace("not damaged", "")),
                "sessions_list_exit": listing.returncode, "backup_exit": backup.returncode,
                "frames_in_backup": rescued[0][0] if rescued else 0,
                "non_final_after_restart": non_final, "tracebacks": tracebacks(*errs, *more)}
    finally:
        _umount(card)


def main() -> dict:
    rng = random.Random(RANDOM_SEED)
    base = Path(tempfile.mkdtemp(prefix="gaitkiosk-faults-"))
    rows = []
    try:
        for n in range(BESIDE_VISITS):
            rows.append(beside_visit(rng, base, n))
            print(json.dumps(rows[-1]), flush=True)
        for n in range(KILLS):
            rows.append(kill_visit(rng, base, n))
            print(json.dumps(rows[-1]), flush=True)
        rows.append(full_disk_visit(base))
        print(json.dumps(rows[-1]), flush=True)
        rows.append(read_only_visit(base))
        print(json.dumps(rows[-1]), flush=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    beside = [r for r in rows if r["scenario"] == "beside"]
    kills = [r for r in rows if r["scenario"] == "kill -9"]
    totals = {
        "beside_frames_sent": sum(r["sent"] for r in beside),
        "beside_frames_stored": sum(r["stored"] for r in beside),
        "beside_disk_io_errors": sum(r["disk_io_errors"] for r in beside),
        "kill_max_seconds_lost": max((r["seconds_lost_at_kill"] or 0) for r in kills) if kills else None,
        "sessions_non_final": sum(r.get("non_final_after_restart", 0) for r in rows),
        "tracebacks": sum(r.get("tracebacks", 0) for r in rows),
    }
    print("\n" + "\n".join(f"{k:<28} {v}" for k, v in totals.items()))
    return {"totals": totals, "visits": rows}


if __name__ == "__main__":
    main()
