"""`make bench`: run every bench/bench_*.py and collect their numbers.

Each benchmark is a script with a ``main() -> dict`` that prints its own
table and returns its numbers; they are written to bench/results/NAME.json
so a closing note or docs/performance.md can quote the exact run. Benchmarks
compare against a baseline measured in the same process, because this
machine is shared and noisy: ratios travel, absolute numbers do not.
"""

from __future__ import annotations

import importlib.util
import json
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    only = set(argv)
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    failed = []
    for path in sorted(HERE.glob("bench_*.py")):
        name = path.stem.removeprefix("bench_")
        if only and name not in only:
            continue
        print(f"\n=== {name} ===", flush=True)
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        started = time.time()
        try:
            numbers = module.main()
        except Exception as exc:  # keep going: one broken bench must not hide the others
            print(f"bench {name} failed: {type(exc).__name__}: {exc}")
            failed.append(name)
            continue
        record = {
            "bench": name,
            "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "machine": platform.machine(),
            "python": platform.python_version(),
            "seconds": round(time.time() - started, 2),
            "numbers": numbers,
        }
        (out_dir / f"{name}.json").write_text(json.dumps(record, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
