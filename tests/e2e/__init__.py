"""End to end: a real browser, the installed console script, the README as written."""
