"""A client generated from the served OpenAPI document by a standard generator (openapi-python-client)
decodes the service's real answers into its typed models: the contract app developers build on."""

from __future__ import annotations

import importlib
import subprocess
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support.auth import register_person
from tests.support.feedback import report_body

PACKAGE = "thudo_generated_client"


def _generate(http: httpx.Client, tmp_path: Path) -> ModuleType:
    spec = tmp_path / "openapi.json"
    spec.write_bytes(http.get("/schema/openapi.json").content)
    generator = Path(sys.executable).parent / "openapi-python-client"
    run = subprocess.run([str(generator), "generate", "--path", str(spec), "--meta", "none",
                          "--output-path", str(tmp_path / PACKAGE)],
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    # Only operations that answer non-JSON (PDF, QR images, JWT credentials) may be left out; every schema
    # must have become a model.
    assert "Unable to" not in run.stdout, run.stdout
    sys.path.insert(0, str(tmp_path))
    return importlib.import_module(PACKAGE)


def _op(name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.{name}")


@pytest.fixture
def generated(http: httpx.Client, tmp_path: Path) -> Any:
    package = _generate(http, tmp_path)
    yield package
    sys.path.remove(str(tmp_path))
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
        del sys.modules[name]


def test_generated_client_decodes_real_answers(http: httpx.Client, base_url: str, generated: Any) -> None:
    models = _op("models")
    anonymous = generated.Client(base_url=base_url)

    # Login: start and callback through the generated client; the provider's page is the local stand-in.
    personal_id = register_person(http)
    start = _op("api.auth.auth_vneid_start").sync(client=anonymous, body=models.StartIn(level=2))
    assert isinstance(start, models.StartOut)
    url = start.authorization_url
    redirect = http.get(f"{url}{'&' if '?' in url else '?'}login_hint={personal_id}", follow_redirects=False)
    query = parse_qs(urlsplit(redirect.headers["location"]).query)
    tokens = _op("api.auth.auth_vneid_callback").sync(client=anonymous, body=models.CallbackIn(
        transaction_id=start.transaction_id, code=query["code"][0], state=query["state"][0]))
    assert isinstance(tokens, models.TokensOut), tokens
    client = generated.AuthenticatedClient(base_url=base_url, token=tokens.access_token)

    me = _op("api.me.me_get").sync(client=client)
    assert isinstance(me, models.UserOut)
    assert me.id == tokens.user.id

    device = _op("api.me.me_devices_register").sync_detailed(
        client=client, idempotency_key=str(uuid.uuid4()),
        body=models.DeviceIn.from_dict({"fcm_token": "f" * 40, "platform": "android", "app_version": "1.0",
                                        "locale": "vi"}))
    assert isinstance(device.parsed, models.DeviceOut)
    assert device.headers["location"] == f"/api/v1/me/devices/{device.parsed.id}"
    devices = _op("api.me.me_devices_list").sync(client=client)
    assert [d.id for d in devices] == [device.parsed.id]
    assert all(isinstance(d, models.DeviceOut) for d in devices)

    created = _op("api.feedback.feedback_report_create").sync_detailed(
        client=client, idempotency_key=str(uuid.uuid4()), body=models.ReportIn.from_dict(report_body(http)))
    assert isinstance(created.parsed, models.ReportOut)
    report = created.parsed
    assert created.headers["location"] == f"/api/v1/feedback/reports/{report.id}"
    assert report.unit_name_vi
    assert report.unit_name_en
    listed = _op("api.feedback.feedback_my_reports").sync(client=client)
    assert [r.id for r in listed.items] == [report.id]
    assert listed.items[0].unit_name_vi == report.unit_name_vi
    detail = _op("api.feedback.feedback_my_report").sync(client=client, report_id=report.id)
    assert isinstance(detail, models.ReportOut)
    assert detail.unit_id == report.unit_id

    units = _op("api.units.units_list").sync(client=anonymous, kind=models.UnitKind.WARD)
    assert units
    assert all(isinstance(u, models.Unit) for u in units)
    assert report.unit_id in {u.id for u in _op("api.units.units_list").sync(client=anonymous)}

    inbox = _op("api.notifications.me_inbox_list").sync(client=client)
    assert type(inbox).__name__.startswith("Page"), inbox
    assert all(type(item).__name__ == "InboxItem" for item in inbox.items)
