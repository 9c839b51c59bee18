"""Configuration parsing and claim helpers of the VNeID adapter (no I/O)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from adapters.vneid.client import parse_date
from adapters.vneid.config import ConfigError, VNeIDConfig, parse_acr_levels, parse_algs, parse_claims
from api.platform.settings import SettingsError, load_settings


def test_claim_mapping_overrides_only_the_given_keys() -> None:
    assert parse_claims('{"level": "MucDoDinhDanh"}') == {
        "personal_id": "SoDinhDanh", "full_name": "HoVaTen", "date_of_birth": "NgayThangNamSinh",
        "level": "MucDoDinhDanh"}
    for bad in ('{"email": "x"}', '["SoDinhDanh"]', '{"level": ""}', "{not json"):
        with pytest.raises(ValueError):  # noqa: PT011 - the settings loader reports any ValueError
            parse_claims(bad)


def test_acr_levels_and_algorithms() -> None:
    assert parse_acr_levels('{"urn:vneid:loa:2": 2, "urn:vneid:loa:1": 1}') == {"urn:vneid:loa:2": 2,
                                                                               "urn:vneid:loa:1": 1}
    assert parse_algs("RS256, PS256") == ("RS256", "PS256")
    for bad_algs in ("HS256", "none", "RS256,HS512", ""):
        with pytest.raises(ValueError):  # noqa: PT011
            parse_algs(bad_algs)
    with pytest.raises(ValueError):  # noqa: PT011
        parse_acr_levels('{"3": 3}')


def test_settings_report_every_vneid_problem_at_once() -> None:
    with pytest.raises(SettingsError) as exc:
        load_settings({"VNEID_ALGORITHMS": "none", "VNEID_CLIENT_AUTH": "tls_client_auth",
                       "VNEID_ACR_LEVELS": "[]"})
    text = str(exc.value)
    assert "VNEID_ALGORITHMS" in text
    assert "VNEID_CLIENT_AUTH" in text
    assert "VNEID_ACR_LEVELS" in text


def test_production_requires_a_real_issuer_and_redirect_uri() -> None:
    with pytest.raises(SettingsError) as exc:
        load_settings({"ENVIRONMENT": "production", "DATABASE_URL": "postgresql://db/x"})
    assert "VNEID_ISSUER" in str(exc.value)


def test_dev_defaults_point_at_the_standin() -> None:
    settings = load_settings({}, port=8123)
    assert settings.vneid_redirect_url == "http://127.0.0.1:8123/dev/vneid/app-callback"
    assert load_settings({"VNEID_REDIRECT_URI": "https://app.example/cb"}).vneid_redirect_url == \
        "https://app.example/cb"


@pytest.mark.parametrize("changes", [
    {"client_auth": "client_secret_basic"},  # no secret
    {"client_key_file": None},  # private_key_jwt without a key
    {"scopes": ("profile",)},
    {"leeway_seconds": 300},
])
def test_config_refuses_unsafe_combinations(changes: dict[str, object]) -> None:
    base: dict[str, object] = {"issuer": "https://i", "client_id": "c", "redirect_uri": "https://r",
                               "client_key_file": Path("k.pem")}
    with pytest.raises(ConfigError):
        VNeIDConfig(**{**base, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(("raw", "expected"), [
    ("12/03/1985", dt.date(1985, 3, 12)), ("1985-03-12", dt.date(1985, 3, 12)),
    ("12-03-1985", dt.date(1985, 3, 12)), ("19850312", dt.date(1985, 3, 12)), (" 12.03.1985 ", dt.date(1985, 3, 12)),
    ("31/02/1985", None), ("", None), (None, None), (19850312, None),
])
def test_dates_in_vneid_and_iso_formats(raw: object, expected: dt.date | None) -> None:
    assert parse_date(raw) == expected
