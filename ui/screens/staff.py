"""What every staff screen shares: who is logged in, logging out by itself, and the way around.

A staff screen exists only after the worker checked a PIN. The router builds one
from a ``staff_<view>`` message (``STAFF_SCREENS`` maps the message kind to its
class) only while ``app.staff`` holds the logged-in user, which the
``staff_home`` message sets and any ``reset`` clears. Screens never read the
database: they post ``staff_view`` (show me this: the worker loads it and
answers with a ``staff_<view>`` message) or ``staff_do`` (change this: the
worker checks, writes, audits with the user, and answers) intents.

Every staff screen logs out by itself (:meth:`StaffScreen.watch`) when nobody
touched it for ``idle_logout_s`` (config ``ui.staff_idle_logout_s``) and as
soon as someone steps onto the mat: the live snapshot's mat load rising from
below ``walk_up_n`` (config ``analysis.contact_on_n``, a foot's contact
threshold) to above it means a patient walked up. A load already there when the
screen opened (the therapist on the mat, the virtual patient of ``--simulate``,
who always stands) logs nobody out until the mat has been clear once. Screens
where staff stand on the mat on purpose (calibration) set ``walk_up_logout`` to
False.
"""

from __future__ import annotations

import pygame

from ui.app import Intent, Screen
from ui.screens.common import header, margin
from ui.text import blit_paragraph, paragraph_height
from ui.widgets import Button, ButtonSet

# message kind -> Screen class; each staff screen module registers itself with @staff_screen
STAFF_SCREENS: dict[str, type] = {}


def staff_screen(kind: str):
    """Register a staff screen for the ``kind`` message (``staff_patients``...)."""

    def register(cls):
        STAFF_SCREENS[kind] = cls
        return cls

    return register


def mat_load_n(snapshot) -> float:
    """The force on the mat in a live snapshot (N): kPa summed over the sensels times a sensel's area."""
    kpa = getattr(snapshot, "mat_kpa", None)
    geometry = getattr(snapshot, "mat_geometry", None)
    if kpa is None or geometry is None:
        return 0.0
    row_mm, col_mm = geometry[2]
    return float(kpa.sum()) * row_mm * col_mm / 1000.0  # kPa x mm^2 = mN


def view(name: str, **params) -> Intent:
    """The intent that asks the worker for a staff view (``staff_view``, answered by ``staff_<name>``)."""
    return Intent("staff_view", {"view": name, **params})


def do(action: str, **params) -> Intent:
    """The intent that asks the worker to change something (``staff_do``; audited with the user)."""
    return Intent("staff_do", {"action": action, **params})


class StaffScreen(Screen):
    """Base of the staff screens: ``self.staff`` is the logged-in user (name, role, logout settings).

    Subclasses call :meth:`watch` first in ``update`` and :meth:`touched` in ``handle`` (the
    base ``handle``/``update`` do both), and draw :meth:`draw_top` for the title bar with Back
    (to ``back``, a ``(view, params)`` pair; None: no Back) and Log out.
    """

    walk_up_logout = True
    back: tuple[str, dict] | None = ("home", {})
    bar_extra: tuple[tuple[str, str], ...] = ()  # (id, label) of more title-bar buttons, left of Back; bar_tapped(id)

    def __init__(self, app, data: dict | None = None):
        super().__init__(app)
        self.data = dict(data or {})
        staff = getattr(app, "staff", None) or {}
        self.staff = staff
        self.idle_logout_s = float(staff.get("idle_logout_s", 120.0))
        self.walk_up_n = float(staff.get("walk_up_n", 30.0))
        self.idle_s = 0.0
        self.leaving: str | None = None  # the logout reason once posted (posted once)
        self.mat_clear = False  # the mat has been seen without load since this screen opened
        self.busy = False  # an intent is out and its answer not back: buttons wait
        self.message: str | None = None  # a refusal or a problem, in words (draw_message shows it)

    # -- the title bar --------------------------------------------------------------------------------
    def top_buttons(self) -> ButtonSet:
        """Back (when there is somewhere to go back to) and Log out, top right."""
        app = self.app
        m = app.mm(2)
        out = []
        right = app.size[0] - m
        bar = (("logout", "Log out"), ("back", "Back")) if self.back else (("logout", "Log out"),)
        for bid, label in bar + tuple(reversed(self.bar_extra)):
            w = app.mm(26)
            out.append(Button(bid, label, pygame.Rect(right - w, m, w, app.target_px), "quiet"))
            right -= w + m
        return ButtonSet(out)

    def draw_top(self, surface, title: str, subtitle: str | None = None) -> int:
        """The title (left) and Back / Log out (right); returns the y under them."""
        app = self.app
        buttons = self.bar.buttons
        y = header(surface, app, title, subtitle, right=min(b.rect.left for b in buttons) - margin(app) // 2,
                   clear_below=max(b.rect.bottom for b in buttons))
        self.bar.draw(surface, app)
        return max(y, max(b.rect.bottom for b in buttons) + margin(app) // 2)

    def layout(self, size) -> None:
        self.bar = self.top_buttons()

    def content_top(self, subtitle: bool = True) -> int:
        """Where a screen's content can start: under the title bar's buttons, and under a title (with
        its one-line subtitle) as ``draw_top`` draws it, whichever is lower."""
        app = self.app
        m = margin(app)
        under_title = m + app.fonts.font(app.text_px("title")).get_linesize() + m // 2
        if subtitle:
            under_title += app.fonts.font(app.text_px("small")).get_linesize() + m // 2
        return max(app.target_px + app.mm(2) + m // 2, under_title)

    # -- input and logout -----------------------------------------------------------------------------
    def touched(self) -> None:
        self.idle_s = 0.0

    def handle_bar(self, event) -> bool:
        """The title bar's buttons; True if the event was theirs."""
        hit = self.bar.handle(event, self.app.size)
        if hit == "logout":
            self.logout("button")
        elif hit == "back" and self.back:
            self.app.post(view(self.back[0], **self.back[1]))
        elif hit is not None:
            self.bar_tapped(hit)
        return hit is not None

    def bar_tapped(self, button_id: str) -> None:
        """One of ``bar_extra``'s buttons was tapped."""

    def handle(self, event) -> None:
        """Every staff screen: nothing once leaving, a touch restarts the idle count, the title bar
        first (Back and Log out stay within reach over anything), then :meth:`handle_content`."""
        if self.leaving:
            return
        self.touched()
        if self.handle_bar(event):
            return
        self.handle_content(event)

    def handle_content(self, event) -> None:
        """One event for the screen's own content (the title bar did not take it)."""

    def watch(self, dt: float) -> bool:
        """Idle and walk-up logout; True when this screen is leaving (the caller stops updating)."""
        if self.leaving:
            return True
        self.idle_s += dt
        if self.idle_s >= self.idle_logout_s:
            self.logout("idle")
            return True
        if self.walk_up_logout:
            loaded = mat_load_n(self.app.feed.latest()) >= self.walk_up_n
            if loaded and self.mat_clear:
                self.logout("patient")
                return True
            self.mat_clear = self.mat_clear or not loaded
        return False

    def update(self, dt: float) -> None:
        self.watch(dt)

    def logout(self, reason: str) -> None:
        self.leaving = reason
        self.app.post(Intent("staff_logout", {"reason": reason}))

    def ask(self, intent: Intent) -> None:
        """Post an intent whose answer this screen waits for (a second tap meanwhile does nothing)."""
        if not self.busy:
            self.busy = True
            self.app.post(intent)

    def on_message(self, msg) -> bool:
        if msg.kind == "staff_refused_action":  # the worker said no (reason in words)
            self.busy = False
            self.refused(msg.get("text", ""))
            return True
        return False

    def refused(self, text: str) -> None:
        """The worker refused a ``staff_do`` (bad value, patient gone): show ``text``."""
        self.message = text

    def draw_message(self, surface, bottom: int | None = None) -> None:
        """``self.message`` in a warning band along the bottom (above ``bottom``), if there is one."""
        if not self.message:
            return
        app = self.app
        m = margin(app)
        size = app.text_px("small")
        lines = app.fonts.wrap(self.message, size, app.size[0] - 4 * m)
        band = pygame.Rect(0, 0, app.size[0], paragraph_height(len(lines), size) + m)
        band.bottom = app.size[1] if bottom is None else bottom
        pygame.draw.rect(surface, app.theme.colors.warn, band)
        blit_paragraph(surface, app.fonts, self.message, size, app.theme.colors.dark_text, band.inflate(-4 * m, -m // 2))

