"""The last screen of a visit: one button, and back to the start screen by itself.

Goodbye and "please tell the staff" both end a visit the same way: the patient
taps the button, or walks away and the screen leaves after ``linger_s``; either
way ``goodbye_done`` is posted once.
"""

from __future__ import annotations

from ui.app import Intent, Screen
from ui.screens.common import button_row
from ui.widgets import ButtonSet


class ClosingScreen(Screen):
    button_label = "Done"

    def __init__(self, app, linger_s: float):
        super().__init__(app)
        self.linger_s = linger_s
        self.t = 0.0
        self.sent = False

    def layout(self, size) -> None:
        self.buttons = ButtonSet(button_row(self.app, [("done", self.button_label, "primary")]))

    def handle(self, event) -> None:
        if self.buttons.handle(event, self.app.size) == "done":
            self._leave()

    def _leave(self) -> None:
        if not self.sent:
            self.sent = True
            self.app.post(Intent("goodbye_done"))

    def update(self, dt: float) -> None:
        self.t += dt
        if self.t >= self.linger_s:
            self._leave()
