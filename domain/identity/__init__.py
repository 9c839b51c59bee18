"""Identity: citizens and staff logging in with VNeID, our tokens, roles, devices, privacy rights."""
