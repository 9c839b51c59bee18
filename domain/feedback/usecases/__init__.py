"""Use cases of the feedback context: one class per state transition, each with ``async execute``."""
