"""Settings: parsed from the environment, every problem reported at once, documented in README."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.platform.settings import SETTINGS, SettingsError, Spec, context_settings, load_settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_defaults_are_the_embedded_development_setup() -> None:
    s = load_settings({})
    assert s.embedded
    assert (s.host, s.port, s.workers) == ("127.0.0.1", 8000, 1)
    assert s.base_url == "http://127.0.0.1:8000"
    assert s.standins_enabled
    assert s.worker_inline
    assert s.seed_enabled


def test_a_database_url_turns_the_development_conveniences_off() -> None:
    s = load_settings({"DATABASE_URL": "postgresql://db/thudo", "CORS_ORIGINS": "https://a.example, https://b.example"})
    assert not s.embedded
    assert not s.standins_enabled
    assert not s.worker_inline
    assert not s.seed_enabled
    assert s.cors_origins == ("https://a.example", "https://b.example")


def test_every_invalid_value_is_reported_at_once() -> None:
    with pytest.raises(SettingsError) as err:
        load_settings({"PORT": "0", "WORKERS": "many", "LOG_LEVEL": "LOUD", "STANDINS": "maybe"})
    text = str(err.value)
    for name in ("PORT='0'", "WORKERS='many'", "LOG_LEVEL='LOUD'", "STANDINS='maybe'"):
        assert name in text


def test_production_requires_a_real_database_and_no_standins() -> None:
    with pytest.raises(SettingsError, match="DATABASE_URL is required"):
        load_settings({"ENVIRONMENT": "production"})
    with pytest.raises(SettingsError, match="stand-ins cannot run"):
        load_settings({"ENVIRONMENT": "production", "DATABASE_URL": "postgresql://db/x", "STANDINS": "true"})


def readme_row(spec: Spec) -> str:
    default = f"`{spec.default}`" if spec.default else "—"
    return f"| `{spec.env}` | {default} | " + spec.doc.replace("|", "\\|") + " |"


def test_readme_documents_every_setting() -> None:
    """README's configuration table must name every environment variable the service reads."""
    readme = README.read_text(encoding="utf-8")
    missing = [spec for spec in [*SETTINGS.values(), *context_settings().values()] if f"`{spec.env}`" not in readme]
    assert not missing, "add these rows to README's configuration table:\n" + "\n".join(map(readme_row, missing))


def test_a_context_declares_its_own_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from api.platform import registry
    from api.platform.context import Context

    demo = Context(name="demo", settings={
        "demo_keys_dir": Spec("DEMO_KEYS_DIR", str, "", "Where the demo keys live."),
        "demo_batch": Spec("DEMO_BATCH", int, "100", "Demo batch size."),
    })
    monkeypatch.setattr(registry, "CONTEXTS", [*registry.CONTEXTS, demo])
    s = load_settings({"DEMO_KEYS_DIR": "/srv/keys"})
    assert s.of("demo_keys_dir", str) == "/srv/keys"
    assert s.of("demo_batch", int) == 100
    with pytest.raises(TypeError):
        s.of("demo_batch", str)
    with pytest.raises(SettingsError) as err:
        load_settings({"DEMO_BATCH": "many", "PORT": "0"})
    assert "DEMO_BATCH='many'" in str(err.value)
    assert "PORT='0'" in str(err.value)


def test_a_read_replica_needs_a_primary_and_a_positive_lag_bound() -> None:
    with pytest.raises(SettingsError, match="DATABASE_READ_URL: a read replica needs DATABASE_URL"):
        load_settings({"DATABASE_READ_URL": "postgresql://replica/thudo"})
    with pytest.raises(SettingsError) as err:
        load_settings({"DATABASE_URL": "postgresql://db/thudo", "DATABASE_READ_MAX_LAG_SECONDS": "0"})
    assert "DATABASE_READ_MAX_LAG_SECONDS='0'" in str(err.value)
    for bad in ("-1", "inf", "nan", "soon"):
        with pytest.raises(SettingsError):
            load_settings({"DATABASE_URL": "postgresql://db/thudo", "DATABASE_READ_MAX_LAG_SECONDS": bad})
    s = load_settings({"DATABASE_URL": "postgresql://db/thudo", "DATABASE_READ_URL": "postgresql://replica/thudo",
                       "DATABASE_READ_MAX_LAG_SECONDS": "0.5"})
    assert (s.database_read_url, s.database_read_max_lag_seconds) == ("postgresql://replica/thudo", 0.5)
