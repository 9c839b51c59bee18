"""VNeID (national e-ID) relying party over OpenID Connect. See docs/vneid.md."""

from adapters.vneid.client import VNeIDClient, build_vneid_provider
from adapters.vneid.config import ConfigError, VNeIDConfig, config_from_settings

__all__ = ["ConfigError", "VNeIDClient", "VNeIDConfig", "build_vneid_provider", "config_from_settings"]
