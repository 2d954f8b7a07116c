"""Importers of vendor pressure exports into the recording interchange format."""
