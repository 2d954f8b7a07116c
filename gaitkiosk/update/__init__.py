"""Release bundles and the updater: signed bundles, versioned venvs, an atomic switch, rollback.

``signing`` (Ed25519 in minisign's format), ``bundle`` (build, read and check a
release bundle), ``layout`` (where versions live on a unit), ``transaction``
(apply, rollback, recover: each step journaled before it is taken), ``usb`` (a
bundle on a stick), ``fetch`` (a release from the clinic's sync server: asked,
downloaded resumably, checked with the unit's keys, staged) and ``background``
(the kiosk's thread that fetches, never applies). Technicians' guide:
docs/install.md ("Updating a unit", "Update from the sync server", "Rolling back").
"""
