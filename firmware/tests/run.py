"""A tiny test runner for the firmware: the same files under CPython and the MicroPython unix port.

    python firmware/tests/run.py          (CPython)
    micropython firmware/tests/run.py     (the real MicroPython; it has no unittest or pytest)

Every ``test_*`` function of the modules in MODULES runs; a failure prints its name and
error, and the exit status is 1 if anything failed. No os.path (the port lacks it): paths
are worked out from this file's own path with string operations.
"""

import gc
import sys

MODULES = ("test_cobs_crc", "test_golden", "test_config", "test_scanner", "test_zero", "test_insole", "test_health", "test_simboard",
           "test_imports")


def _repo_root():
    here = __file__.replace("\\", "/")
    parts = here.split("/")
    root = "/".join(parts[:-3])  # .../firmware/tests/run.py -> the repository
    return root or "."


ROOT = _repo_root()
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


def main(names=MODULES):
    failed, ran = [], 0
    for name in names:
        module = __import__("firmware.tests." + name, None, None, ["_"])
        for attr in sorted(dir(module)):
            if not attr.startswith("test_"):
                continue
            ran += 1
            try:
                getattr(module, attr)()
            except Exception as exc:  # a failing test, reported and counted, never hidden
                failed.append(name + "." + attr)
                print("FAIL", name + "." + attr, "-", type(exc).__name__, exc)
        # Forget the test module (and what it cached, e.g. the golden vectors) before the next:
        # the heap is an RP2040's, and the firmware's own modules must fit beside the tests.
        module = None
        sys.modules.pop("firmware.tests." + name, None)
        package = sys.modules.get("firmware.tests")
        if package is not None and hasattr(package, name):
            delattr(package, name)  # the import left it on the package too
        gc.collect()
    impl = sys.implementation.name
    print(f"{impl}: {ran} tests, {len(failed)} failed")
    return 1 if failed or not ran else 0


if __name__ == "__main__":
    sys.exit(main(tuple(sys.argv[1:]) or MODULES))
