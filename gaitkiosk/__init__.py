"""gaitkiosk: the composition root (CLI, config, runtime wiring).

Kept import-light on purpose: every other package imports ``gaitkiosk.errors``
for the project base error, and that must not drag in pygame or the store.
"""

__version__ = "0.1.0"
