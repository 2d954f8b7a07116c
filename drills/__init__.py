"""drills: see docs/architecture.md."""
