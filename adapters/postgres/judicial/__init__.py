"""Postgres adapters of the judicial context (plain SQL on the unit of work's connection)."""
