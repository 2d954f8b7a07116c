"""Optional tones: a start chime, a metronome tick, an alert.

Audio is a help, never a requirement: with no sound card, no mixer, or
``[ui] sound = false``, every call is a silent no-op and nothing fails.
Tones are synthesised (no sound files to ship or lose).

Without a sound card, ALSA (inside SDL) writes a dozen "ALSA lib ..." lines
straight to the process's stderr while the mixer tries to open; they say
nothing a technician can act on beyond "no sound device". The mixer is
opened with stderr held (:func:`held_stderr`), and the kiosk says it once, in
one log line; anything else written meanwhile is passed on unchanged.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from contextlib import contextmanager

import numpy as np

log = logging.getLogger(__name__)

RATE = 22050
TONES = {
    # name: list of (frequency Hz, seconds); 0 Hz is a rest
    "start": [(660, 0.12), (0, 0.04), (880, 0.18)],
    "tick": [(1000, 0.04)],
    "tock": [(700, 0.04)],
    "done": [(880, 0.12), (0, 0.04), (660, 0.12), (0, 0.04), (990, 0.25)],
    "alert": [(440, 0.25), (0, 0.08), (440, 0.25), (0, 0.08), (440, 0.25)],
}
# The drills' cue names (drills.base.Cue) -> the tone that plays for them.
ALIASES = {"countdown": "tick", "go": "start", "target": "tock", "hit": "tock", "step_ok": "tock",
           "step_bad": "tick", "alarm": "alert"}


def tone_samples(parts, rate: int = RATE) -> np.ndarray:
    """int16 mono samples of a tone sequence, with 5 ms fades so nothing clicks."""
    chunks = []
    for freq, seconds in parts:
        n = int(rate * seconds)
        t = np.arange(n) / rate
        wave = np.zeros(n) if freq <= 0 else 0.35 * np.sin(2 * np.pi * freq * t)
        fade = min(n // 2, int(0.005 * rate))
        if fade:
            ramp = np.linspace(0.0, 1.0, fade)
            wave[:fade] *= ramp
            wave[-fade:] *= ramp[::-1]
        chunks.append(wave)
    return (np.concatenate(chunks) * 32767).astype(np.int16) if chunks else np.zeros(0, np.int16)


class Sound:
    """Tones through the pygame mixer and, where ``espeak-ng`` is installed, spoken cues."""

    def __init__(self, enabled: bool = True, speech: bool = True):
        import shutil

        self.enabled = False
        self._sounds = {}
        self.played: list[str] = []  # what was asked for (tests, and a log of cues)
        self.said: list[str] = []
        self._speaker = shutil.which("espeak-ng") or shutil.which("espeak") if (enabled and speech) else None
        self._speaking = None
        if not enabled:
            return
        failure = None
        with held_stderr() as held:
            try:
                self._open()
            except Exception as exc:  # noqa: BLE001 - no audio device is normal on many kiosks
                failure = exc
        alsa = [line for line in held.lines if line.startswith("ALSA lib")]
        passed_on = [line for line in held.lines if not line.startswith("ALSA lib")]
        if passed_on:  # not ours to hide
            sys.stderr.write("\n".join(passed_on) + "\n")
            sys.stderr.flush()
        if failure is not None:
            log.warning("sound off: no sound device could be opened (%s)%s; the kiosk runs silently", failure,
                        f" [ALSA: {_after_colon(alsa[0])}]" if alsa else "")
        elif alsa:
            log.info("sound on; ALSA said while opening: %s", _after_colon(alsa[0]))

    def _open(self) -> None:
        import pygame

        if not pygame.mixer.get_init():
            pygame.mixer.init(frequency=RATE, size=-16, channels=1)
        freq, _, channels = pygame.mixer.get_init()
        for name, parts in TONES.items():
            samples = tone_samples(parts, freq)
            if channels > 1:
                samples = np.repeat(samples[:, None], channels, axis=1)
            self._sounds[name] = pygame.sndarray.make_sound(np.ascontiguousarray(samples))
        self.enabled = True

    def play(self, name: str) -> None:
        name = ALIASES.get(name, name)
        self.played.append(name)
        if len(self.played) > 1000:
            del self.played[:500]
        sound = self._sounds.get(name)
        if sound is not None:
            try:
                sound.play()
            except Exception as exc:  # noqa: BLE001
                log.info("could not play %s: %s", name, exc)

    def say(self, text: str | None) -> None:
        """Speak a short cue without waiting; skipped while the previous one still speaks."""
        if not text:
            return
        self.said.append(text)
        if len(self.said) > 1000:
            del self.said[:500]
        if self._speaker is None or (self._speaking is not None and self._speaking.poll() is None):
            return
        import subprocess

        try:
            self._speaking = subprocess.Popen([self._speaker, "-s", "140", text], stdout=subprocess.DEVNULL,
                                              stderr=subprocess.DEVNULL)
        except OSError as exc:
            log.info("cannot speak: %s", exc)
            self._speaker = None


class _Held:
    lines: list[str] = []


@contextmanager
def held_stderr():
    """Hold what anything in the process writes to file descriptor 2 (C libraries included) until
    the block ends; the lines are then in ``.lines`` of what this yields. Only for short blocks
    on the main thread before other threads start: their stderr is held meanwhile too."""
    held = _Held()
    held.lines = []
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield held
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            held.lines = tmp.read().decode("utf-8", "replace").splitlines()


def _after_colon(line: str) -> str:
    """ALSA's own words in one of its lines ("ALSA lib confmisc.c:855:(parse_card) cannot find card '0'")."""
    return line.split(")", 1)[1].strip() if ")" in line else line
