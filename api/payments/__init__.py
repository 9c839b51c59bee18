"""Payments over HTTP: the providers' notifications, the citizen's view of a payment, the jobs."""
