"""Verifiable e-certificates: W3C VC 2.0 secured as JWT (vc+jwt, ES256), Bitstring Status Lists,
and the signed PDF for people (PAdES)."""
