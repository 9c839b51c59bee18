"""The public units directory: names and places for the ``unit_id``/``district_id``/``ward_id`` of other answers."""
