"""Fast tier: the domain and the services' rules, no database (the unit of work in memory: tests/fakes.py)."""
