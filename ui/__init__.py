"""ui: the pygame-ce touchscreen app (see docs/kiosk.md and docs/architecture.md).

Nothing here imports devices, drills or the store: screens draw plain data
and post intents (ui.app); gaitkiosk.runtime connects them to the rest.
"""

import os

# pygame prints a banner on import; the kiosk's output is for people, not for pygame.
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
