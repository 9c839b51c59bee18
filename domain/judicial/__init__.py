"""Judicial record certificates: requests, fees, workflow, e-certificates, sharing."""
