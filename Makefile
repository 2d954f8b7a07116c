# One obvious command per job. Each creates .venv if missing and installs the
# package (with its Cython extensions built in place) before doing its work.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.gaitkiosk-installed
PYX    := $(wildcard device/*.pyx kernels/*.pyx calibration/*.pyx ui/*.pyx)

.PHONY: demo test test-fast lint bench build clean screenshots test-arm64 release

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "gaitkiosk needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml setup.py
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Rebuild changed .pyx in place (the editable install imports from the tree), and build
# matplotlib's font cache where the reports look for it (gaitkiosk/mplcache.py; a no-op once built).
# Then byte-compile the tree as pip does for an installed wheel: an editable install never does, and
# with PYTHONDONTWRITEBYTECODE set every command compiled its modules on each start (~20 ms of a
# 60 ms `--help`; docs/performance.md "Command start-up"). Python ignores a stale .pyc.
build: $(STAMP)
	$(BIN)/python setup.py --quiet build_ext --inplace
	$(BIN)/python -m gaitkiosk.mplcache
	$(BIN)/python -m compileall -q -j 0 gaitkiosk store kernels device calibration drills sync ui > /dev/null

# The kiosk on the virtual patient: in a window where there is a display; without one
# (CI, ssh) the scripted visit, with a screenshot of every screen in demo-screens/. Its
# sessions go to the demo's own folder (~/.local/share/gaitkiosk-demo), never a clinic's.
DEMO_HEADLESS := $(if $(DISPLAY)$(WAYLAND_DISPLAY),,--headless --seconds 8 --screenshots demo-screens)
demo: build
	$(BIN)/gaitkiosk run --simulate $(DEMO_HEADLESS)

# Every patient screen in every state worth a picture, at 800 x 480 and 1280 x 800 (docs/kiosk.md).
screenshots: build
	rm -f docs/screenshots/states/*.png
	SDL_VIDEODRIVER=dummy $(BIN)/python -m gaitkiosk.gallery docs/screenshots/states

test: build
	$(BIN)/python -m pytest
	# The kernel, codec and calibration tests once more on the numpy/pure-Python reference
	# that runs when an extension is missing (STYLE item 5).
	GAITKIOSK_PURE=1 $(BIN)/python -m pytest -q tests/test_fallback.py tests/test_frame.py tests/test_frame_sim.py \
		tests/test_insole_analyzer.py tests/test_protocol_packets.py tests/test_protocol_deframer.py \
		tests/test_protocol_cobs.py tests/test_calibration_apply.py tests/test_sway.py tests/test_detectors.py tests/test_iir.py

test-fast: build
	$(BIN)/python -m pytest -q -x -m "not slow"

# A signed release bundle in dist/ (gaitkiosk release build; docs/install.md, "Making a release"):
# make release KEY=path/to/gaitkiosk-release.key. Its wheels are for this machine: build Pi bundles on arm64.
release: build
	$(BIN)/gaitkiosk release build --key $(KEY) --out dist

# The kernel, codec and calibration tests on arm64 (the Pi) in a Debian root under qemu-user:
# root, network, ~15-40 min, so not part of `make test`; run before each release (docs/install.md).
test-arm64:
	.ci/test-arm64


# MicroPython's stubs for the insole boards, each family in its own folder (they define the
# same modules: machine, time, ...); make lint type-checks firmware/ against both (docs/firmware.md).
MP_STUBS_rp2   := micropython-rp2-rpi-pico-stubs==1.29.0.post1
MP_STUBS_esp32 := micropython-esp32-stubs==1.29.0.post1

$(VENV)/stubs/%/.installed: $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade --target $(VENV)/stubs/$* $(MP_STUBS_$*)
	touch $@

lint: $(STAMP) $(VENV)/stubs/rp2/.installed $(VENV)/stubs/esp32/.installed
	$(BIN)/ruff check .
	$(BIN)/pyright -p firmware/pyright-rp2.json
	$(BIN)/pyright -p firmware/pyright-esp32.json
	$(BIN)/python -m gaitkiosk.firmware_bundle

bench: build
	$(BIN)/python bench/run.py

clean:
	rm -rf build $(VENV) *.egg-info
	find . -name '*.so' -path './device/*' -o -name '*.so' -path './kernels/*' -o -name '*.so' -path './calibration/*' | xargs rm -f
