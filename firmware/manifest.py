# ruff: noqa: F821 - metadata, include, package and module are given by MicroPython's manifest loader
# The insole firmware as MicroPython freezes it into a board image (MicroPython's manifest format):
#   make -C ports/rp2 BOARD=RPI_PICO FROZEN_MANIFEST=/path/to/gaitkiosk/firmware/manifest.py
# and the list of files `gaitkiosk firmware flash` compiles with mpy-cross and copies to a board.
# The version must equal firmware/version.py's VERSION (tests/test_firmware_build.py checks it).
metadata(description="gaitkiosk insole firmware", version="0.2.0")
include("$(PORT_DIR)/boards/manifest.py")
package(
    "firmware",
    files=(
        "__init__.py", "board.py", "cobs.py", "config.py", "crc32.py", "health.py", "insole.py",
        "link.py", "scanner.py", "version.py", "wire.py", "zero.py",
    ),
    base_path="..",
)
module("main.py")
