"""Integration: the guarantees on real SQLite and PostgreSQL files, brokers and mail servers."""
