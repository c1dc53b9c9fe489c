"""Read models for the web pages: one query each, returning named typed rows (no ORM objects leak out)."""
