"""A/B the compiled per-frame kernel against another revision's, in one process.

    .venv/bin/python bench/frame_ab.py [REV] [--rounds N]     (REV: default HEAD)

Builds REV's compiled frame kernel (its ``kernels/_frame*.pyx`` / ``.pxd`` /
``.pxi``) aside, as the package ``kernels_ab`` in a temporary directory, with
the compiler options of setup.py, and times it against this tree's build
(``make build`` first) on the same frames in the same process. The frames and
the timing are bench_frame.py's (virtual patient, a ring of 32 frames, CPU time
of the thread, best of 3 passes of 0.1 s); the two kernels take turns (A B B A)
for ``--rounds`` rounds, so a busy moment on this shared machine costs both
sides alike. Printed: each side's best time, the ratio of the bests, and the
median and quartiles of the per-round ratios (the spread says how much of a
difference is noise). Both must give the same results on every frame, else this
stops. Numbers go to bench/results/frame_ab.json. Not part of ``make bench``:
it answers one question, "did this change make the kernel slower?".
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import io
import json
import math
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# setup.py's compiler settings (setup.py itself cannot be imported: it runs setup()).
BUILD = """
import glob, numpy
from Cython.Build import cythonize
from setuptools import Extension, setup
exts = [Extension(p[:-4].replace("/", "."), [p], include_dirs=[numpy.get_include()],
                  define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
                  extra_compile_args=["-O3"]) for p in sorted(glob.glob("kernels_ab/_frame*.pyx"))]
setup(script_args=["build_ext", "--inplace", "--quiet"], ext_modules=cythonize(
    exts, language_level=3, quiet=True,
    compiler_directives={"boundscheck": False, "wraparound": False, "cdivision": True}))
"""


def build_revision(rev: str, where: Path):
    """REV's compiled frame kernel as the module kernels_ab._frame."""
    tar = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "kernels"], check=True,
                         capture_output=True).stdout
    pkg = where / "kernels_ab"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        for member in archive.getmembers():
            name = Path(member.name).name
            if member.isfile() and name.startswith("_frame") and name.endswith((".pyx", ".pxd", ".pxi")):
                text = archive.extractfile(member).read().decode()
                # its own compiled modules under the new package; everything else stays kernels.*
                (pkg / name).write_text(text.replace("kernels._frame", "kernels_ab._frame"))
    built = subprocess.run([sys.executable, "-c", BUILD], cwd=where, capture_output=True, text=True)
    if built.returncode:
        raise SystemExit(f"building {rev}'s kernel failed:\n{built.stdout}{built.stderr}")
    sys.path.insert(0, str(where))
    return importlib.import_module("kernels_ab._frame")


def load_bench_frame():
    spec = importlib.util.spec_from_file_location("bench_frame", HERE / "bench_frame.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _close(x, y) -> bool:
    if isinstance(x, dict):
        return x.keys() == y.keys() and all(_close(x[k], y[k]) for k in x)
    if isinstance(x, (list, tuple)):
        return type(x) is type(y) and len(x) == len(y) and all(map(_close, x, y))
    if isinstance(x, float) and isinstance(y, float):
        return math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-9)  # FMA contraction may differ per build
    return x == y


def same_results(a, b, frames) -> bool:
    return all(_close(x.as_dict(), y.as_dict()) for x, y in zip(map(a.analyze, frames), map(b.analyze, frames), strict=True))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rev", nargs="?", default="HEAD", help="git revision to compare with (default HEAD)")
    parser.add_argument("--rounds", type=int, default=15, help="ABBA rounds per mat and scenario (default 15)")
    args = parser.parse_args(argv)
    bf = load_bench_frame()
    from kernels import _frame as tree
    from kernels.frame import FrameParams

    with tempfile.TemporaryDirectory(prefix="frame_ab_") as tmp:
        rev = build_revision(args.rev, Path(tmp))
        label = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", args.rev], check=True,
                               capture_output=True, text=True).stdout.strip()
        rows = []
        print(f"tree / {label}: ratio of the best times; median and quartiles of the paired ratios")
        print(f"{'mat':>6} {'scenario':>8} {label + ' µs':>12} {'tree µs':>9} {'best':>8} {'median':>8} {'quartiles':>13}")
        for n in bf.SIZES:
            for scenario in ("quiet", "walk"):
                frames, pitch = bf.sim_frames(n, scenario)
                ring = frames[100:132]
                params = FrameParams(n, n, pitch[0], pitch[1], bf.THRESHOLD_KPA)
                a, b = rev.FrameKernel(params), tree.FrameKernel(params)
                if not same_results(a, b, frames):
                    raise SystemExit(f"{n}x{n} {scenario}: {label} and the tree disagree")
                # ABBA turns of short passes: a slow moment (this machine is shared) costs
                # both sides; the paired ratios show how far apart two runs of one code land.
                ta, tb, paired = [], [], []
                for _ in range(args.rounds):
                    a1 = bf.time_per_frame(a.analyze, ring, min_seconds=0.1)
                    b1 = bf.time_per_frame(b.analyze, ring, min_seconds=0.1)
                    b2 = bf.time_per_frame(b.analyze, ring, min_seconds=0.1)
                    a2 = bf.time_per_frame(a.analyze, ring, min_seconds=0.1)
                    ta += [a1, a2]
                    tb += [b1, b2]
                    paired.append((b1 + b2) / (a1 + a2))
                q1, med, q3 = statistics.quantiles(paired, n=4)
                rows.append({"size": f"{n}x{n}", "scenario": scenario, "rev_us": round(min(ta), 3),
                             "tree_us": round(min(tb), 3), "ratio_of_best": round(min(tb) / min(ta), 3),
                             "ratio_median": round(med, 3), "ratio_q1": round(q1, 3), "ratio_q3": round(q3, 3)})
                r = rows[-1]
                print(f"{r['size']:>6} {scenario:>8} {r['rev_us']:>12} {r['tree_us']:>9} {r['ratio_of_best']:>8} "
                      f"{r['ratio_median']:>8} {r['ratio_q1']:>6}-{r['ratio_q3']:<6}", flush=True)
    out = {"rev": label, "rounds": args.rounds, "when": time.strftime("%Y-%m-%dT%H:%M:%S"), "mat": rows}
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "frame_ab.json").write_text(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
