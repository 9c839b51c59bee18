"""Transit use cases: one class per action, each with ``async execute(...)``."""
