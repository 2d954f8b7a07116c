"""Release bundles and the updater: signed bundles, versioned venvs, an atomic switch, rollback.

``signing`` (Ed25519 in minisign's format), ``bundle`` (build, read and check a
release bundle), ``layout`` (where versions live on a unit), ``transaction``
(apply, rollback, recover: each step journaled before it is taken). Technicians'
guide: docs/install.md ("Updating a unit", "Rolling back").
"""
