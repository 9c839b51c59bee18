"""Postgres adapters of the transit ports, on the unit of work's connection (plain SQL, ``$n``)."""
