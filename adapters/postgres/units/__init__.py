"""PostgreSQL side of the units directory (the ``units`` table of the foundation migration)."""
