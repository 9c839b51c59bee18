"""Our cryptographic keys: access-token signing (ES256 JWT, JWKS, rotation) and PII protection."""
