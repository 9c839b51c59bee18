"""Firebase Cloud Messaging through the official firebase-admin SDK."""
