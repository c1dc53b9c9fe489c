"""The ``duban`` command: thin click commands over duban.engine.services."""
