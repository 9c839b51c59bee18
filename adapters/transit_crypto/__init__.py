"""ECDSA P-256 for transit QR codes with ``cryptography``: issuer and device signers, the verifier,
the reference offline verifier for gate firmware and the reference code generator for phones."""
