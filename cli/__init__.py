"""The ``duban`` command: thin click commands over engine.services."""
