"""Use cases of the judicial context, one class each with ``async execute``."""
