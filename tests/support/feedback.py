"""Helpers for the feedback API tests: categories by code, photos with EXIF GPS, a submitted report."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import secrets
from typing import Any

import asyncpg
import httpx
from PIL import Image

from domain.shared.time import HANOI
from tests.support.auth import Session

R = "/api/v1/feedback/reports"
S = "/api/v1/staff/feedback/reports"
# Inside Phường Lý Thái Tổ (Hoàn Kiếm): routes to that ward for categories without a department.
HOAN_KIEM = {"lat": 21.0287, "lon": 105.8545}


def categories(http: httpx.Client) -> dict[str, dict[str, Any]]:
    r = http.get("/api/v1/public/feedback/categories")
    assert r.status_code == 200, r.text
    return {c["code"]: c for c in r.json()}


def jpeg_with_gps(colour: tuple[int, int, int] | None = None, size: tuple[int, int] = (640, 480)) -> bytes:
    img = Image.new("RGB", size, colour or tuple(secrets.randbelow(256) for _ in range(3)))  # type: ignore[arg-type]
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (21.0, 1.0, 42.0), 3: "E", 4: (105.0, 51.0, 16.0)}  # GPSInfo IFD
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif)
    return buf.getvalue()


def png(size: tuple[int, int] = (64, 64)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", size, (0, 128, 0, 128)).save(buf, "PNG")
    return buf.getvalue()


def report_body(http: httpx.Client, code: str = "SIDEWALK", **kw: Any) -> dict[str, Any]:
    cat = categories(http)[code]
    return {"category_id": cat["id"], "description": "Xe máy đỗ kín vỉa hè, người đi bộ phải xuống lòng đường",
            "address": "Phố Hàng Khay", **HOAN_KIEM, **kw}


def submit(http: httpx.Client, who: Session, code: str = "SIDEWALK", **kw: Any) -> dict[str, Any]:
    r = http.post(R, json=report_body(http, code, **kw), headers=who.headers)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def upload(http: httpx.Client, who: Session, url: str, content: bytes, name: str = "p.jpg",
           ctype: str = "image/jpeg") -> httpx.Response:
    return http.post(url, files={"file": (name, content, ctype)}, headers=who.headers)


def sql(database_url: str, query: str, *args: Any) -> Any:
    async def go() -> Any:
        conn = await asyncpg.connect(database_url)
        try:
            return await conn.fetchval(query, *args)
        finally:
            await conn.close()
    return asyncio.run(go())


def category_body(**kw: Any) -> dict[str, Any]:
    """A new category for the admin API (unique code), routed by location; ``kw`` overrides fields."""
    return {"code": "T_" + secrets.token_hex(4).upper(), "name_vi": "Biển báo hỏng", "name_en": "Broken sign",
            "default_level": "normal", "sla": {"normal_hours": 16, "complex_hours": 40},
            "questions": [{"code": "kind", "datatype": "singlevaluelist", "required": True, "label_vi": "Loại",
                           "label_en": "Kind", "values": [{"key": "stop", "name_vi": "Dừng", "name_en": "Stop"}]}],
            **kw}


def recent_period() -> dict[str, str]:
    """``from``/``to`` query parameters for yesterday and today in Hanoi (statistics, heat map)."""
    today = dt.datetime.now(HANOI).date()
    return {"from": str(today - dt.timedelta(days=1)), "to": str(today)}
