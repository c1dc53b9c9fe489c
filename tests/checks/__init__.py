"""Checks over the whole repository: lint, types, layering, documentation."""
