"""Built-in workflow definitions, shipped as package data (YAML, not code)."""

from pathlib import Path

BUILTIN_DIR = Path(__file__).resolve().parent
