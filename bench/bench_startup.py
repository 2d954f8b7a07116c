"""Whole-process wall time of commands against ``python -c "import numpy"`` (issue 16), and the
folder analysis's throughput on all cores against one core.

Every command is a fresh process, timed from spawn to exit, interleaved with the baseline
(round-robin, best of N each) so load on this shared machine hits both alike; the ratio is
command / baseline. Targets: every ``--help`` ≤ 1.2x, ``analyze`` of a 60 s recording ≤ 2x,
``sessions list`` (a store of 60 closed sessions) ≤ 1.5x. Folder throughput: recordings/s with ``--jobs CORES`` over ``--jobs 1``
(target ≥ 0.8 x cores).

Run: ``.venv/bin/python bench/run.py startup`` (``GAITKIOSK_BENCH_REPEAT`` sets N, default 7).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PY = sys.executable
GAITKIOSK = [PY, "-m", "gaitkiosk"]
PACKAGES = ("gaitkiosk", "store", "kernels", "device", "calibration", "drills", "sync", "ui")


CPU: dict[str, float] = {}  # least CPU time (user + sys, the process and its workers) seen per command


def wall(argv: list[str], name: str = "") -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    CPU[name] = min(CPU.get(name, float("inf")), cpu)
    return seconds


def best_interleaved(commands: dict[str, list[str]], repeat: int, timed_by_child: bool = False) -> dict[str, float]:
    """Best of ``repeat`` for each command, round-robin; ``timed_by_child``: the seconds the command
    prints last (its own measure of a phase), else the wall time of the whole process."""
    best = dict.fromkeys(commands, float("inf"))
    for _ in range(repeat):
        for name, argv in commands.items():
            if timed_by_child:
                out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
                best[name] = min(best[name], float(out.split()[-1]))
            else:
                best[name] = min(best[name], wall(argv, name))
    return best


# The folder analysis's batch phase in a fresh process: argv = folder, out.csv, jobs, stored|recompute.
BATCH_PHASE = """
import sys, time
from pathlib import Path
from gaitkiosk.batch_analyze import run_batch
from kernels.report import stream_options
folder, out, jobs, mode = sys.argv[1:]
stored_for = stream_options()[1] if mode == "stored" else None
t0 = time.perf_counter()
run_batch([Path(folder)], Path(out), {}, int(jobs), progress=False, stored_for=stored_for)
print(time.perf_counter() - t0)
"""


def _seed(data_dir: Path, sessions: int) -> None:
    """A store with one patient's closed sessions of two trials each, written as the kiosk writes them
    (``sessions list`` then lists a real page of 50, not an empty table)."""
    from store import open_store
    from store.patients import Patient

    with open_store(data_dir) as st:
        patient = st.patients.add(Patient(code="BENCH-1"))
        for _ in range(sessions):
            session = st.sessions.start(patient.id)
            for drill in ("quiet_stance", "tandem_walk"):
                trial = st.trials.start(session.id, drill, {"duration_s": 30})
                st.trials.finish(trial.id, results={"score": 1.0}, report={"metrics_version": 3})
            st.sessions.finish(session.id)


def main() -> dict:
    repeat = int(os.environ.get("GAITKIOSK_BENCH_REPEAT", "7"))
    # As `make build` and an installed wheel: the tree's bytecode is compiled, so a command does not
    # pay compiling its modules on every start (numpy's are compiled by pip).
    root_dir = Path(__file__).resolve().parent.parent
    subprocess.run([PY, "-m", "compileall", "-q", "-j", "0", *PACKAGES], cwd=root_dir, check=True,
                   stdout=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        rec = root / "quiet60.npz"
        subprocess.run([*GAITKIOSK, "simulate", "--out", str(rec), "--seconds", "60", "--scenario", "quiet"],
                       check=True, stdout=subprocess.DEVNULL)
        data = root / "data"
        commands = {
            "import numpy": [PY, "-c", "import numpy"],
            "--help": [*GAITKIOSK, "--help"],
            "analyze --help": [*GAITKIOSK, "analyze", "--help"],
            "run --help": [*GAITKIOSK, "run", "--help"],
            "sessions list": [*GAITKIOSK, "sessions", "list", "--data-dir", str(data)],
            "analyze 60 s": [*GAITKIOSK, "analyze", str(rec)],
            # Information, no target: the same file from its frames (a format 1 file, another kernel build).
            "analyze --recompute": [*GAITKIOSK, "analyze", str(rec), "--recompute"],
        }
        _seed(data, sessions=60)
        best = best_interleaved(commands, repeat)
        base = best["import numpy"]
        print(f"{'command':<22}{'best wall s':>12}{'x numpy':>9}")
        ratios = {}
        for name, seconds in best.items():
            ratios[name] = seconds / base
            print(f"{name:<22}{seconds:>12.3f}{ratios[name]:>9.2f}")

        folder = root / "folder"
        folder.mkdir()
        cores = os.cpu_count() or 1
        count = 4 * cores
        for i in range(count):
            subprocess.run([*GAITKIOSK, "simulate", "--out", str(folder / f"r{i:02d}.npz"), "--seconds", "30",
                            "--scenario", "quiet", "--seed", str(i + 1)], check=True, stdout=subprocess.DEVNULL)
        # Both ways a folder is analysed: recordings that carry their stored analysis (~10 ms of
        # work each: the process start dominates) and --recompute (the frames: CPU-bound work, what
        # the cores are for, and what a folder of format 1 recordings costs).
        folder_runs = {}
        for mode, extra in (("stored", []), ("recompute", ["--recompute"])):
            for jobs in (1, cores):
                folder_runs[f"{mode} jobs {jobs}"] = [*GAITKIOSK, "analyze", str(folder), "--csv",
                                                      str(root / f"{mode}{jobs}.csv"), "--jobs", str(jobs), *extra]
        folder_best = best_interleaved(folder_runs, max(2, repeat // 3))
        # The batch alone (run_batch, from its first file to the table written; the workers forked
        # from that process): the throughput without the interpreter's start, which is the same
        # for one job or many and is measured above.
        phase_runs = {}
        for mode in ("stored", "recompute"):
            for jobs in (1, cores):
                phase_runs[f"{mode} jobs {jobs}"] = [PY, "-c", BATCH_PHASE, str(folder), str(root / "phase.csv"),
                                                     str(jobs), mode]
        phase_best = best_interleaved(phase_runs, max(2, repeat // 3), timed_by_child=True)
        folder_out = {}
        for mode in ("stored", "recompute"):
            one, all_ = folder_best[f"{mode} jobs 1"], folder_best[f"{mode} jobs {cores}"]
            p_one, p_all = phase_best[f"{mode} jobs 1"], phase_best[f"{mode} jobs {cores}"]
            speedup, p_speedup = one / all_, p_one / p_all
            folder_out[mode] = {"wall_s": {"jobs 1": round(one, 3), f"jobs {cores}": round(all_, 3)},
                                "speedup": round(speedup, 3), "per_core_efficiency": round(speedup / cores, 3),
                                "batch_s": {"jobs 1": round(p_one, 3), f"jobs {cores}": round(p_all, 3)},
                                "batch_speedup": round(p_speedup, 3),
                                "batch_per_core_efficiency": round(p_speedup / cores, 3)}
            cpu_one, cpu_all = CPU[f"{mode} jobs 1"], CPU[f"{mode} jobs {cores}"]
            # Work done: the parallel run's CPU time over the serial run's (1.0: the workers waste nothing;
            # the wall-clock gain then depends only on how free the cores are).
            folder_out[mode]["cpu_s"] = {"jobs 1": round(cpu_one, 3), f"jobs {cores}": round(cpu_all, 3)}
            print(f"  {mode}: CPU time jobs {cores} / jobs 1 = {cpu_all / cpu_one:.2f}")
            print(f"folder of {count} x 30 s, {mode}: whole command jobs 1 {one:.2f} s, jobs {cores} {all_:.2f} s: "
                  f"{speedup:.2f}x on {cores} cores ({speedup / cores:.2f} x cores); batch alone {p_one:.3f} s "
                  f"against {p_all:.3f} s: {p_speedup / cores:.2f} x cores (target 0.8)")
    return {
        "wall_s": {k: round(v, 4) for k, v in best.items()},
        "x_import_numpy": {k: round(v, 3) for k, v in ratios.items()},
        "folder": {"recordings": count, "seconds_each": 30, "cores": cores, **folder_out},
        "repeat": repeat,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
