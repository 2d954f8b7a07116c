"""Staff login on the kiosk, on the worker thread: the PIN check runs next to the store.

The UI never sees a PIN hash or the users table: the login screen gets the
active users' names and roles, posts the name and the typed PIN, and is told
"in" (``staff_home``) or "no" (``staff_refused``, with the wait). Wrong PINs
slow the keypad down by the same rule as the patients' check-in keypad
(gaitkiosk/lockout.py), with a lockout of its own: a patient's typos never
make staff wait, nor the reverse.

At most one staff user is logged in, and never while a patient's visit is open:
a check-in logs staff out first, and a login is refused during a visit. Every
login, refused login and logout goes in the audit log with the user.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

LOGOUT_REASONS = ("button", "idle", "patient", "checkin", "shutdown")


class StaffDesk:
    def __init__(self, store, lockout):
        self.store = store
        self.lockout = lockout
        self.user = None  # the logged-in store.users.User, or None

    def choices(self) -> list[dict]:
        """Who may log in: active users' names and roles (what the login screen lists)."""
        return [{"name": u.name, "role": u.role} for u in self.store.users.list() if u.active]

    def login(self, name: str, pin: str, *, visit_open: bool = False) -> tuple[str, float]:
        """("in", 0), ("wrong", wait started), ("wait", wait left) or ("visit", 0); audited either way."""
        if visit_open:  # no staff screen while a patient's visit is open, whatever was typed
            self._failed(name, "during a patient's visit", 0.0)
            return "visit", 0.0
        wait = self.lockout.wait_s()
        if wait > 0:  # the screen takes no PIN while it waits; one that comes anyway is not checked
            self._failed(name, "sent while the keypad waits after wrong PINs", wait)
            return "wait", wait
        user = self.store.users.verify(name, pin)
        if user is None:
            wait = self.lockout.wrong()
            self._failed(name, "wrong name or PIN", wait)
            return "wrong", wait
        if self.user is not None:
            self.logout("login")
        self.user = user
        self.store.audit.log("staff.login", user_id=user.id, subject=user.id,
                             details={"name": user.name, "role": user.role})
        return "in", 0.0

    def logout(self, reason: str) -> None:
        """End the login (the button, idle, a patient on the mat or at the keypad); audited with the user."""
        if self.user is None:
            return
        user, self.user = self.user, None
        self.store.audit.log("staff.logout", user_id=user.id, subject=user.id,
                             details={"name": user.name, "reason": reason})

    def _failed(self, name: str, reason: str, wait_s: float) -> None:
        try:
            subject = self.store.users.by_name(name).id
        except LookupError:
            subject = ""
        self.store.audit.log("staff.login_failed", subject=subject, details={
            "name": name[:64], "reason": reason, "wrong_pins_last_hour": self.lockout.recent_wrong(),
            "wait_s": round(wait_s, 1)})
