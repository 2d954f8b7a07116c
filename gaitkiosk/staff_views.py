"""The staff rooms on the worker thread: what each staff screen shows, and the changes it asks for.

A staff screen posts ``staff_view`` ({"view": name, ...}) to be shown something
and ``staff_do`` ({"action": name, ...}) to change something. Both run here, on
the worker thread that owns the store (docs/store.md "Rules for code that opens
the database"), and only while a staff user is logged in and no patient's visit
is open (``Visit._staff_view``/``_staff_do`` check; a refusal sends the start
screen).

A view is a function ``(desk, **params) -> dict`` registered with ``@view(name)``:
its dict is delivered as the ``staff_<name>`` message, which the UI's router
turns into the screen registered for that kind (ui/screens/staff.py). An action
is ``(desk, **params) -> (message kind, dict)`` registered with
``@action(name)``; it audits itself with ``desk.audit`` (every change a staff
user makes is in the audit log with the user), and a refusal raises
:class:`Refused` with the reason in words, which the screen shows.

Views of one patient's data are audited too (``audit_view=True``): who looked
at whose records, as a clinical record system keeps.

The rooms (each a module of ``gaitkiosk/staff_rooms/`` that registers its views and actions when
imported): listed in ``ROOMS``.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass

from store.roles import ROLES

log = logging.getLogger(__name__)

VIEWS: dict[str, tuple] = {}  # name -> (function, audit_view, roles)
ACTIONS: dict[str, tuple] = {}  # name -> (function, roles)
ROOMS: tuple[str, ...] = ("reports", "patients", "programs", "review", "calibration",
                          "diagnostics")  # modules of gaitkiosk.staff_rooms to import (each registers itself)
ALL_ROLES = ROLES


class Refused(Exception):
    """A staff action that cannot be done, with the reason in words for the screen."""


def view(name: str, *, audit_view: bool = False, roles: tuple[str, ...] = ALL_ROLES):
    def register(fn):
        VIEWS[name] = (fn, audit_view, roles)
        return fn
    return register


def action(name: str, *, roles: tuple[str, ...] = ALL_ROLES):
    def register(fn):
        ACTIONS[name] = (fn, roles)
        return fn
    return register


@dataclass
class Desk:
    """What a view or an action may use: the store, the logged-in user, the config, the runtime."""

    store: object
    user: object  # store.users.User
    config: dict
    runtime: object = None

    def audit(self, action: str, subject: str = "", **details) -> None:
        self.store.audit.log(action, user_id=self.user.id, subject=subject, details=details)


def load_rooms() -> None:
    for room in ROOMS:
        importlib.import_module(f"gaitkiosk.staff_rooms.{room}")


def show(desk: Desk, name: str, params: dict) -> tuple[str, dict]:
    """The message for view ``name``: (kind, data); a view the user's role may not see is refused."""
    load_rooms()
    if name == "home":
        return "staff_home", {}
    if name not in VIEWS:
        raise Refused(f"There is no staff screen called {name!r}.")
    fn, audited, roles = VIEWS[name]
    if desk.user.role not in roles:
        raise Refused(f"A {desk.user.role} cannot open this screen.")
    data = fn(desk, **params)
    if audited:
        desk.audit(f"staff.view.{name}", subject=str(params.get("patient") or params.get("trial") or ""),
                   **{k: v for k, v in params.items() if isinstance(v, (str, int, float))})
    return f"staff_{name}", data


def do(desk: Desk, name: str, params: dict) -> tuple[str, dict]:
    """Run action ``name``: the message to answer with (kind, data)."""
    load_rooms()
    if name not in ACTIONS:
        raise Refused(f"The kiosk cannot do {name!r}.")
    fn, roles = ACTIONS[name]
    if desk.user.role not in roles:
        raise Refused(f"A {desk.user.role} cannot do this.")
    return fn(desk, **params)
