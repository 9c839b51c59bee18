"""HTML of the VNeID stand-in: the consent page that lists demo people and the app-callback page."""

from __future__ import annotations

from html import escape
from typing import Any

_PAGE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>VNeID (giả lập)</title>
<style>body{{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;color:#222}}
h1{{color:#b71c1c;font-size:1.4rem}}label{{display:block;padding:.6rem;border:1px solid #ddd;border-radius:.4rem;
margin:.4rem 0}}button{{background:#b71c1c;color:#fff;border:0;padding:.7rem 1.4rem;border-radius:.4rem}}
button.cancel{{background:#fff;color:#b71c1c;border:1px solid #b71c1c}}
.note{{color:#555;font-size:.85rem}}code{{word-break:break-all}}</style></head>
<body>{body}<p class="note">Nhà cung cấp định danh giả lập chỉ dùng cho phát triển và kiểm thử —
local development stand-in, not the real VNeID.</p></body></html>"""


def consent_page(people: list[Any], pending: str, client_id: str, notice: str = "") -> str:
    rows = "".join(
        f'<label><input type="radio" name="personal_id" value="{escape(p.personal_id)}"{" checked" if i == 0 else ""}>'
        f" {escape(p.full_name)} — {escape(p.role)}, mức {p.level}</label>"
        for i, p in enumerate(people))
    body = (f"<h1>Đăng nhập bằng VNeID</h1><p>Ứng dụng <b>{escape(client_id)}</b> yêu cầu xác thực danh tính.</p>"
            + (f"<p><b>{escape(notice)}</b></p>" if notice else "")
            + f'<form method="post"><input type="hidden" name="pending" value="{escape(pending)}">{rows}'
            + '<p><button type="submit" name="action" value="approve">Đồng ý / Approve</button> '
            + '<button type="submit" name="action" value="cancel" formnovalidate class="cancel">Hủy / Cancel</button>'
            + "</p></form>")
    return _PAGE.format(body=body)


def error_page(message: str) -> str:
    return _PAGE.format(body=f"<h1>Yêu cầu không hợp lệ</h1><p>{escape(message)}</p>")


def app_callback_page(params: dict[str, str]) -> str:
    items = "".join(f"<li>{escape(k)}: <code>{escape(v)}</code></li>" for k, v in params.items())
    return _PAGE.format(body="<h1>App callback</h1><p>In production VNeID redirects to the app's universal link "
                             f"with these values; POST them to /api/v1/auth/vneid/callback.</p><ul>{items}</ul>")
