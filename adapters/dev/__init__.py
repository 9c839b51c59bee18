"""Local stand-ins for external systems (VNeID, FCM), mounted only when ``STANDINS`` is on."""
