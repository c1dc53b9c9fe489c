"""Ledgers (整改台账) as offices keep them in spreadsheets: reading, validating and writing them.

Pure domain: no database and no command line. The services turn validated
rows into tasks (engine/services/ledger_import.py) and tasks back into a sheet (ledger_export.py).
"""
