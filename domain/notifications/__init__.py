"""Notifications: outbox, push delivery, in-app inbox, preferences."""
