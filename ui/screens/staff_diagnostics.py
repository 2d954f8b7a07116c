"""The diagnostics room's screens, for technicians (docs/technician.md "Diagnostics").

``staff_diagnostics``: one button per sensor (link state and fault count; tap for its details) with
its firmware, rate, clock offset and drift under it; the unit's CPU load and temperature, disk,
database, sync queue, calibration due dates, installed and rollback versions, the update the sync
server offers (staged or not) and the panel's light;
"Include patient data" and one "Export to ..." button per place that can take the archive now.
Refresh asks the worker again.

``staff_diagnostics_sensor``: one sensor's every link counter, its firmware and clock, the raw
sensel map live (the runtime's snapshot, each frame as the device sent it, no calibration) and the
dead/hot sensel map of its active calibration.

The screens only show what the worker's views sent (gaitkiosk/staff_rooms/diagnostics.py) and the
live snapshot; they never read the database or the system themselves.
"""

from __future__ import annotations

import numpy as np
import pygame

from ui.screens.common import fit_in_rect, margin
from ui.screens.staff import StaffScreen, do, staff_screen, view
from ui.text import blit_text
from ui.widgets import Button, ButtonSet

NOT_AVAILABLE = "not available"
MAP_EVERY_S = 0.1  # the live map is redrawn at most this often (10 Hz reads well; 100 Hz costs a Pi for nothing)
MASK_COLOURS = {0: (58, 62, 70), 1: (86, 160, 255), 2: (240, 80, 50)}  # ok, dead (blue), hot (red)
def _num(v, fmt: str, unit: str = "") -> str:
    return NOT_AVAILABLE if v is None else f"{v:{fmt}}{unit}"


def _mb(n) -> str:
    if n is None:
        return NOT_AVAILABLE
    return f"{n / 1e6:.1f} MB" if n < 10e9 else f"{n / 1e9:.1f} GB"


def sensor_state(s: dict) -> str:
    faults = s.get("faults", 0)
    rate = f", {s.get('rate_hz', 0):.0f} Hz" if s.get("state") == "streaming" else ""
    return f"{s['state']}, {faults} fault{'s' if faults != 1 else ''}{rate}"


def _offset(ms) -> str:
    """The device clock's offset from the host's: seconds (a device counts from its power-up)."""
    return NOT_AVAILABLE if ms is None else f"{ms / 1000.0:+.3f} s"


def sensor_lines(s: dict) -> list[str]:
    """Firmware and clock drift of one sensor, a short line each (its reason when it never answered)."""
    if not s.get("serial"):
        return [s.get("reason") or "not answering"]
    firmware = f"firmware {s.get('firmware') or '?'}"
    if s.get("firmware_outdated"):  # the version alone, to leave room for the word
        firmware = f"firmware {str(s.get('firmware')).split()[-1]} (outdated)"
    return [firmware, f"clock drift {_num(s.get('clock_drift_ppm'), '+.1f', ' ppm')}"]


def calibration_lines(d: dict) -> list[tuple[str, bool]]:
    """Two lines per device: its serial, then its calibration state and when it is due."""
    out = []
    for c in d.get("calibration") or []:
        status, due = c["status"], c.get("due")
        if not due:
            words = "no calibration stored"
        elif status == "ok":
            words = f"ok, next due {due}"
        elif status == "due":
            words = f"due since {due}"
        else:
            words = f"{status.upper()} (due {due})"
        out.append((c["serial"], False))
        out.append((f"    {words}", status != "ok"))
    return out or [("No sensor has said who it is yet.", True)]


def system_lines(d: dict) -> list[tuple[str, bool]]:
    """(text, needs attention) for the unit: CPU, temperature, disk, database, sync, versions, panel."""
    out = []
    sysd = d.get("system") or {}
    cpu = sysd.get("cpu")
    out.append((f"CPU load {cpu['load_1m']:.2f} {cpu['load_5m']:.2f} {cpu['load_15m']:.2f} (1, 5, 15 min; {cpu['cpus']} cores)"
                if cpu else f"CPU load: {NOT_AVAILABLE}", bool(cpu) and cpu["load_5m"] > cpu["cpus"]))
    temp = sysd.get("cpu_temperature_c")
    out.append((f"CPU temperature {_num(temp, '.1f', ' °C')}", temp is not None and temp >= 80.0))
    disk = sysd.get("disk")
    out.append((f"Disk {_mb(disk['free_bytes'])} free of {_mb(disk['total_bytes'])}" if disk
                else f"Disk: {NOT_AVAILABLE}", bool(disk) and disk["free_bytes"] < 1e9))
    db = sysd.get("database") or {}
    out.append((f"Database {_mb(db.get('bytes'))}, log {_mb(db.get('wal_bytes'))}", False))
    sync = d.get("sync") or {}
    pending = sync.get("pending", 0)
    oldest = f", oldest {sync['oldest_at'][:16].replace('T', ' ')}" if sync.get("oldest_at") else ""
    out.append((f"Sync queue {pending} waiting{oldest}", bool(sync.get("oldest_error"))))
    v = d.get("versions") or {}
    rollback = v.get("rollback") or "none"
    out.append((f"Version {v.get('installed', '?')}, roll back to {rollback}", False))
    out.append(update_line(d.get("update") or {}))
    panel = d.get("panel") or {}
    out.append((f"Panel light {panel['light']}" if panel.get("enabled") else "No safety panel", False))
    out.append((f"Readings taken {str(d.get('taken_at', ''))[:19].replace('T', ' ')} UTC", False))
    return out


def update_line(u: dict) -> tuple[str, bool]:
    """The release the sync server offers: staged (a technician applies it), available, up to date.
    Short: the reason of a failed check is `gaitkiosk update check`'s (and in the export)."""
    state, when = u.get("state"), str(u.get("checked_at") or "")[:16].replace("T", " ")
    if state == "staged":
        return f"Update {u['staged']} staged: update apply --server", True
    if state == "available":
        return f"Update {u['offered']} available, downloading", False
    if state == "failed":
        return f"Update check failed {when}: update check", True
    if state == "up to date":
        return f"No update waiting (checked {when})", False
    return "Updates: not checked (not enrolled)", False


def _colour_map(values: np.ndarray) -> np.ndarray:
    """Counts 0..1 -> RGB (dark blue -> teal -> yellow), rows flipped: forward is up (docs/architecture.md 3)."""
    stops = np.array([[20, 24, 40], [30, 140, 140], [250, 230, 80]], dtype=np.float32)
    x = np.clip(values, 0.0, 1.0) * 2.0
    lo = np.minimum(x.astype(int), 1)
    t = (x - lo)[..., None]
    return (stops[lo] * (1 - t) + stops[lo + 1] * t).astype(np.uint8)


def grid_surface(rgb: np.ndarray, box: pygame.Rect) -> tuple[pygame.Surface, pygame.Rect]:
    """An (R, C, 3) picture scaled into ``box`` with square cells, row 0 at the bottom."""
    rows, cols = rgb.shape[:2]
    cell = max(1, min(box.width // cols, box.height // rows))
    small = pygame.surfarray.make_surface(np.ascontiguousarray(rgb[::-1].transpose(1, 0, 2)))
    surf = pygame.transform.scale(small, (cols * cell, rows * cell))
    rect = surf.get_rect(center=box.center)
    return surf, rect


def as_grid(a) -> np.ndarray:
    a = np.asarray(a)
    return a.reshape(1, -1) if a.ndim == 1 else a


TABS = (("sensors", "Sensors"), ("unit", "Unit"), ("calibration", "Calibration"), ("export", "Export"))


@staff_screen("staff_diagnostics")
class DiagnosticsScreen(StaffScreen):
    name = "staff_diagnostics"
    walk_up_logout = False  # technicians test sensors by standing on them
    bar_extra = (("refresh", "Refresh"),)

    def __init__(self, app, data: dict | None = None, tab: str | None = None):
        super().__init__(app, data)
        self.sensors = list(self.data.get("sensors") or [])
        self.places = list(self.data.get("places") or [])
        self.patient_data = False
        self.message = self.data.get("notice") or None
        self.tab = tab or ("export" if self.message else "sensors")  # after an export: its outcome

    def layout(self, size) -> None:
        super().layout(size)
        app = self.app
        w, h = size
        m = margin(app)
        self.top = self.content_top(subtitle=False)
        small = app.text_px("small")
        self.line_h = int(small * 1.25)
        bh = app.target_px
        tab_w = (w - 2 * m - (len(TABS) - 1) * m) // len(TABS)
        self.tabs = ButtonSet([Button(f"tab:{tid}", label, pygame.Rect(m + k * (tab_w + m), self.top, tab_w, bh),
                                      "primary" if tid == self.tab else "normal")
                               for k, (tid, label) in enumerate(TABS)])
        self.body = pygame.Rect(m, self.top + bh + m // 2, w - 2 * m, h - m - (self.top + bh + m // 2))
        # one row per sensor: its button (tap for details), and two lines of its state beside it
        self.sensor_buttons = ButtonSet()
        bw = int(self.body.width * 0.3)
        y = self.body.top
        for k, s in enumerate(self.sensors):
            self.sensor_buttons.add(Button(f"sensor:{k}", s["label"], pygame.Rect(m, y, bw, bh),
                                           "normal" if s.get("state") == "streaming" else "warn",
                                           enabled=bool(s.get("serial"))))
            y += bh + m // 2
        # the export tab: a few words, the patient-data tick, then one button per place (two at most)
        self.export_words = pygame.Rect(m, self.body.top, self.body.width, 2 * self.line_h)
        by = self.export_words.bottom + m // 2
        self.export_buttons = ButtonSet([Button("patient_data", self.tick_label(),
                                                pygame.Rect(m, by, self.body.width, bh), "quiet")])
        for k, p in enumerate(self.places[:2]):
            self.export_buttons.add(Button(f"export:{k}", f"Export to {p['label']}",
                                           pygame.Rect(m, by + (k + 1) * (bh + m // 2), self.body.width, bh), "primary"))
        self.nowhere = pygame.Rect(m, by + bh + m // 2, self.body.width, h - m - (by + bh + m // 2))

    def tick_label(self) -> str:
        return ("[x]" if self.patient_data else "[ ]") + " Include patient data"

    def handle_content(self, event) -> None:
        if self.busy:
            return
        hit = self.tabs.handle(event, self.app.size)
        if hit:
            self.tab = hit.split(":")[1]
            self.message = None
            self.layout(self.app.size)
            return
        if self.tab == "sensors":
            hit = self.sensor_buttons.handle(event, self.app.size)
            if hit:
                self.ask(view("diagnostics_sensor", serial=self.sensors[int(hit.split(":")[1])]["serial"]))
        elif self.tab == "export":
            hit = self.export_buttons.handle(event, self.app.size)
            if hit == "patient_data":
                self.patient_data = not self.patient_data
                self.export_buttons.get("patient_data").label = self.tick_label()
            elif hit:
                self.message = None
                place = self.places[int(hit.split(":")[1])]
                self.ask(do("diagnostics_export", path=place["path"], patient_data=self.patient_data))

    def bar_tapped(self, button_id: str) -> None:
        if button_id == "refresh":
            self.ask(view("diagnostics"))

    def draw(self, surface) -> None:
        app = self.app
        self.draw_top(surface, "Diagnostics", None)
        self.tabs.draw(surface, app)
        if self.tab == "sensors":
            self._draw_sensors(surface)
        elif self.tab == "export":
            self._draw_export(surface)
        else:
            self._draw_lines(surface, system_lines(self.data) if self.tab == "unit" else calibration_lines(self.data))
        if self.tab != "export":
            self.draw_message(surface)

    def _draw_sensors(self, surface) -> None:
        app, c = self.app, self.app.theme.colors
        if not self.sensors:
            fit_in_rect(surface, app, "No sensor is configured.", self.body, c.warn)
            return
        self.sensor_buttons.draw(surface, app)
        m = margin(app)
        for b, s in zip(self.sensor_buttons.buttons, self.sensors, strict=True):
            left = b.rect.right + m
            top = b.rect.centery - 3 * self.line_h // 2
            state = (sensor_state(s), c.text if s.get("state") == "streaming" else c.warn)
            for k, (text, colour) in enumerate([state] + [(line, c.muted) for line in sensor_lines(s)]):
                room = pygame.Rect(left, top + k * self.line_h, self.body.right - left, self.line_h)
                blit_text(surface, app.fonts, text, app.text_px("small"), colour, room.topleft, room=room)

    def _draw_lines(self, surface, lines) -> None:
        app, c = self.app, self.app.theme.colors
        y = self.body.top
        # Lines move closer (down to a twentieth of the letters' size apart) before one is left out.
        step = max(int(app.text_px("small") * 1.05), min(self.line_h, self.body.height // max(len(lines), 1)))
        for text, attention in lines:
            if y + step > self.body.bottom:
                break
            room = pygame.Rect(self.body.left, y, self.body.width, step)
            blit_text(surface, app.fonts, text, app.text_px("small"), c.warn if attention else c.text, room.topleft,
                      room=room)
            y += step

    def _draw_export(self, surface) -> None:
        app, c = self.app, self.app.theme.colors
        if self.message:  # the outcome of the last export stands where the explanation was
            fit_in_rect(surface, app, self.message, self.export_words, c.good if self.message.startswith("Saved")
                        else c.warn)
        else:
            fit_in_rect(surface, app, "One ZIP file: readings, log, audit trail. No patient codes or names unless "
                        "you tick the box.", self.export_words, c.muted)
        self.export_buttons.draw(surface, app)
        if not self.places:
            refused = " ".join(self.data.get("refused") or []) or "Nowhere to save the archive now."
            fit_in_rect(surface, app, refused, self.nowhere, c.warn)


SENSOR_TABS = (("maps", "Sensel maps"), ("counters", "Counters"), ("device", "Device"))
RECEIVED = ("frames", "packets", "bytes")  # the Counters tab lists these, then the worker's fault counters


@staff_screen("staff_diagnostics_sensor")
class SensorDiagnosticsScreen(StaffScreen):
    name = "staff_diagnostics_sensor"
    walk_up_logout = False
    back = ("diagnostics", {})

    def __init__(self, app, data: dict | None = None, tab: str = "maps"):
        super().__init__(app, data)
        self.sensor = dict(self.data.get("sensor") or {})
        mask = self.data.get("mask")
        self.mask = None if mask is None else as_grid(mask)
        self.tab = tab
        self.raw = None  # the counts drawn last (the array object: a new frame is a new array)
        self.raw_picture = None
        self.since_map = MAP_EVERY_S
        self.peak = 0

    def layout(self, size) -> None:
        super().layout(size)
        app = self.app
        w, h = size
        m = margin(app)
        self.top = self.content_top()
        small = app.text_px("small")
        self.line_h = int(small * 1.25)
        bh = app.target_px
        tab_w = (w - 2 * m - (len(SENSOR_TABS) - 1) * m) // len(SENSOR_TABS)
        self.tabs = ButtonSet([Button(f"tab:{tid}", label, pygame.Rect(m + k * (tab_w + m), self.top, tab_w, bh),
                                      "primary" if tid == self.tab else "normal")
                               for k, (tid, label) in enumerate(SENSOR_TABS)])
        self.body = pygame.Rect(m, self.top + bh + m // 2, w - 2 * m, h - m - (self.top + bh + m // 2))
        half = (self.body.width - m) // 2
        side = min(half, self.body.height - self.line_h)
        self.raw_box = pygame.Rect(m, self.body.top + self.line_h, half, side)
        self.mask_box = pygame.Rect(m + half + m, self.body.top + self.line_h, half, side)
        self.raw_picture = None
        self.raw = None

    def handle_content(self, event) -> None:
        hit = self.tabs.handle(event, self.app.size)
        if hit:
            self.tab = hit.split(":")[1]
            self.layout(self.app.size)

    def update(self, dt: float) -> None:
        if self.watch(dt):
            return
        self.since_map += dt
        if self.since_map < MAP_EVERY_S:
            return
        counts = (getattr(self.app.feed.latest(), "raw_counts", None) or {}).get(self.sensor.get("kind"))
        if counts is not None and counts is not self.raw:
            self.since_map = 0.0
            self.raw = counts
            grid = as_grid(counts).astype(np.float32)
            self.peak = int(grid.max(initial=0))
            # scaled to the frame's own peak (at least 50 counts, so that noise stays dark)
            self.raw_picture = grid_surface(_colour_map(grid / max(50.0, float(self.peak))), self.raw_box)

    def draw(self, surface) -> None:
        s = self.sensor
        self.draw_top(surface, f"{s.get('label', 'Sensor')} diagnostics", s.get("serial", ""))
        self.tabs.draw(surface, self.app)
        if self.tab == "maps":
            self._draw_maps(surface)
        elif self.tab == "counters":
            self._draw_counters(surface)
        else:
            fit_in_rect(surface, self.app, " ".join(sensor_words(s, self.data.get("mask_note"))), self.body,
                        self.app.theme.colors.text)
        self.draw_message(surface)

    def _draw_maps(self, surface) -> None:
        app, c = self.app, self.app.theme.colors
        small = app.text_px("small")
        for box, title in ((self.raw_box, f"Raw counts, live (peak {self.peak})"),
                           (self.mask_box, "Dead blue, hot red")):
            room = pygame.Rect(box.left, self.body.top, box.width, self.line_h)
            blit_text(surface, app.fonts, title, small, c.muted, room.topleft, room=room)
        if self.raw_picture is not None:
            surface.blit(*self.raw_picture)
        else:
            fit_in_rect(surface, app, "Waiting for a frame...", self.raw_box, c.muted)
        if self.mask is not None:
            rgb = np.zeros((*self.mask.shape, 3), np.uint8)
            for code, colour in MASK_COLOURS.items():
                rgb[self.mask == code] = colour
            surface.blit(*grid_surface(rgb, self.mask_box))
        else:
            fit_in_rect(surface, app, "No calibration yet: run Calibration, Dead sensels.", self.mask_box, c.warn)

    def _draw_counters(self, surface) -> None:
        app, c = self.app, self.app.theme.colors
        small = app.text_px("small")
        box = self.body
        counters = self.sensor.get("counters") or {}
        faults = tuple(self.sensor.get("fault_names") or ())
        # what was received, then the faults that happened; the others are all 0 (the export has every one)
        items = [(k, counters[k]) for k in RECEIVED if k in counters] + [(k, counters[k]) for k in faults
                                                                         if counters.get(k)]
        per_col = max(1, box.height // self.line_h)
        room_for = 2 * per_col - 1
        zero = sum(1 for k in faults if not counters.get(k))
        if len(items) > room_for:
            items = items[:room_for - 1] + [(f"and {len(items) - room_for + 1} more in the export", "")]
        items.append((f"{zero} other faults: 0", "") if zero else ("", ""))
        col_w = box.width // 2
        for k, (name, value) in enumerate(items):
            if not name:
                continue
            col, row = divmod(k, per_col)
            room = pygame.Rect(box.left + col * col_w, box.top + row * self.line_h, col_w - app.mm(1), self.line_h)
            fault = name in faults and value
            blit_text(surface, app.fonts, f"{name.replace('_', ' ')} {value}".strip(), small,
                      c.warn if fault else c.text, room.topleft, room=room)


def sensor_words(s: dict, mask_note: str | None) -> list[str]:
    """The Device tab: port, firmware, protocol, rates, clock, the device's own status, the mask's source."""
    out = []
    if s.get("reason"):
        out.append(f"{s.get('state')}: {s['reason']}.")
    out += [f"Port {s.get('port') or '?'}.",
            f"Firmware {s.get('firmware') or '?'}, protocol {'-'.join(str(p) for p in s.get('protocol') or []) or '?'}."
            + (" Older than the firmware this kiosk carries: gaitkiosk firmware flash PORT." if s.get("firmware_outdated")
               else ""),
            f"Rate {s.get('rate_hz', 0):.1f} Hz (set {_num(s.get('nominal_hz'), '.0f', ' Hz')}).",
            f"Clock offset {_offset(s.get('clock_offset_ms'))}, drift {_num(s.get('clock_drift_ppm'), '+.1f', ' ppm')}.",
            device_words(s)]
    if mask_note:
        out.append(mask_note)
    return out


def device_words(s: dict) -> str:
    """The device's own STATUS: battery, temperature, its error counters."""
    parts = []
    if s.get("battery_pct") is not None:
        parts.append(f"battery {s['battery_pct']} %")
    if s.get("temperature_c") is not None:
        parts.append(f"board {s['temperature_c']:.1f} °C")
    errors = s.get("device_errors")
    if errors:
        parts.append(", ".join(f"{k.replace('_', ' ')} {v}" for k, v in errors.items()))
    return ("Device: " + ", ".join(parts) + ".") if parts else "No status from the device yet."
