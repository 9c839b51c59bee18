"""Load and micro benchmarks; each bench writes its own section of ``docs/performance.md``."""
