"""PostgreSQL adapters (asyncpg, plain SQL with $n parameters)."""
