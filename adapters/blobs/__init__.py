"""Binary storage (local disk) and image processing (Pillow) for uploads."""
