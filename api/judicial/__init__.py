"""HTTP API of the judicial record certificate context."""
