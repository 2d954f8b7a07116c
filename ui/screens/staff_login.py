"""Staff login: a therapist or technician picks their name and types their PIN on the keypad.

The worker sends the active users' names and roles (never more) and, after wrong
PINs, how long the keypad must wait (``wait_s``; gaitkiosk/staff.py). The PIN is
shown as dots and posted with the name; the worker checks it next to the store and
answers ``staff_home`` (in), ``staff_refused`` or ``staff_wait``.
"""

from __future__ import annotations

import pygame

from ui.app import Intent
from ui.screens.checkin import KeypadScreen
from ui.screens.common import header, margin, paragraph
from ui.text import paragraph_height
from ui.widgets import Button, ButtonSet, Keypad

STATUS_LINES = 2  # the room kept for the line under the title (what to do, a wrong PIN, a wait)
NO_USERS = "No staff users yet. Add one on the command line: gaitkiosk users add NAME --role therapist"


class StaffLoginScreen(KeypadScreen):
    name = "staff_login"

    def __init__(self, app, users: list[dict], wait_s: float = 0.0):
        super().__init__(app, wait_s)
        self.users = [{"name": str(u["name"]), "role": str(u["role"])} for u in users]
        self.selected: str | None = self.users[0]["name"] if len(self.users) == 1 else None
        self.page = 0

    def layout(self, size) -> None:
        app = self.app
        w, h = size
        m = margin(app)
        kp_w = min(int(w * 0.4), 3 * app.mm(20))  # leaves the names the most room
        self.pin_box = pygame.Rect(w - kp_w - m, m, kp_w, app.text_px("body") + m)
        kp = pygame.Rect(self.pin_box.left, self.pin_box.bottom + m // 2, kp_w, h - m - self.pin_box.bottom - m // 2)
        self.keypad = Keypad(kp, app.target_px, 8)
        self.left = pygame.Rect(m, m, kp.left - 2 * m, h - 2 * m)
        back = Button("back", "Back", pygame.Rect(m, h - m - app.target_px, app.mm(30), app.target_px), "quiet")
        more = Button("more", "More names", pygame.Rect(back.rect.right + m, back.rect.top,
                                                       self.left.right - back.rect.right - m, app.target_px), "quiet")
        self.buttons = ButtonSet([back])
        # The names: rows of buttons between the header (the title and two lines for the status) and Back.
        title_h = app.fonts.font(app.text_px("title")).get_linesize()
        top = m + title_h + m // 2 + paragraph_height(STATUS_LINES, app.text_px("small")) + m // 2
        row_h = app.target_px + m // 3
        per_page = max(1, (back.rect.top - m // 3 - top) // row_h)
        if len(self.users) > per_page:
            self.buttons.add(more)
        self.per_page = per_page
        self.name_rows = [pygame.Rect(self.left.left, top + i * row_h, self.left.width, app.target_px)
                          for i in range(per_page)]
        self._make_name_buttons()
        self._enable_keys()

    def _make_name_buttons(self) -> None:
        shown = self.users[self.page * self.per_page:(self.page + 1) * self.per_page]
        self.names = ButtonSet([Button(f"user:{u['name']}", u["name"], rect,
                                       "primary" if u["name"] == self.selected else "normal")
                                for u, rect in zip(shown, self.name_rows, strict=False)])  # the last page may be short

    def handle(self, event) -> None:
        if self.busy:
            return
        self.idle = 0.0
        hit = self.buttons.handle(event, self.app.size)
        if hit == "back":
            self.app.post(Intent("cancel"))
            return
        if hit == "more":
            self.page = (self.page + 1) % -(-len(self.users) // self.per_page)
            self._make_name_buttons()
            return
        picked = self.names.handle(event, self.app.size)
        if picked:
            self.selected = picked.split(":", 1)[1]
            self.message = None
            self._make_name_buttons()
            return
        if self.waiting or not self.users:
            return
        if self.keypad.handle(event, self.app.size) == "ok":
            if self.selected is None:
                self.message = "Choose your name first."
                return
            self.busy = True
            self.message = None
            self.app.post(Intent("staff_login", {"name": self.selected, "pin": self.keypad.code}))
            self.keypad.code = ""  # the PIN is not kept on the screen once sent

    def on_message(self, msg) -> bool:
        if msg.kind in ("staff_refused", "staff_wait"):
            self.busy = False
            self.message = "Wrong name or PIN." if msg.kind == "staff_refused" else None
            self.keypad.code = ""
            self.wait_s = float(msg.get("wait_s") or 0.0)
            self._enable_keys()
            return True
        return False

    def keys_open(self) -> bool:
        return super().keys_open() and bool(self.users)

    def status_text(self) -> str:
        """The line under the title: what to do, what went wrong, or how long to wait."""
        if not self.users:
            return NO_USERS
        if self.busy:
            return "Checking..."
        wait = self.wait_text()
        if self.message or wait:
            return " ".join(t for t in (self.message, wait) if t)
        return "Choose your name, type your PIN, then press OK."

    def draw(self, surface) -> None:
        app, c = self.app, self.app.theme.colors
        m = margin(app)
        y = header(surface, app, "Staff login")
        warn = bool(self.message or self.waiting or not self.users)
        bottom = self.name_rows[0].top if self.users else self.buttons.get("back").rect.top  # no names: all the room
        room = pygame.Rect(self.left.left, y, self.left.width, bottom - y - m // 2)
        y = paragraph(surface, app, self.status_text(), room, "small", c.warn if warn else c.muted)
        self.names.draw(surface, app)
        self.buttons.draw(surface, app)
        # The PIN as dots over the keypad: never the digits.
        box = self.pin_box
        pygame.draw.rect(surface, c.panel, box, border_radius=8)
        pygame.draw.rect(surface, c.accent, box, width=3, border_radius=8)
        r = max(3, box.height // 6)
        for i in range(len(self.keypad.code)):
            pygame.draw.circle(surface, c.text, (box.left + m + r + i * 3 * r, box.centery), r)
        self.keypad.draw(surface, app)
