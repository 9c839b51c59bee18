"""Fixed-window rate limit stores: Redis (shared by all workers) or in-process."""
