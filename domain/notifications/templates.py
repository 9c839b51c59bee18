"""Localised message templates (vi, en) and deep links, as registries other contexts extend.

A context registers its own templates from its own domain module, e.g. in
``domain/feedback/notifications.py``::

    from domain.notifications.templates import DEEP_LINKS, TEMPLATES, Template

    TEMPLATES["feedback.status_changed"] = Template(
        title={"vi": "Phản ánh {code} đã cập nhật", "en": "Report {code} updated"},
        body={"vi": "Trạng thái mới: {status}", "en": "New status: {status}"},
    )
    DEEP_LINKS["feedback_report"] = "thudo://feedback/reports/{id}"

Placeholders are ``str.format`` fields filled from ``Notification.params``; a missing parameter
is a programming error and raises ``KeyError`` when the notification is queued (in the business
transaction, so the change rolls back rather than sending a broken text).
"""

from __future__ import annotations

import msgspec

LOCALES = ("vi", "en")


class Template(msgspec.Struct, frozen=True):
    title: dict[str, str]
    body: dict[str, str]


class Rendered(msgspec.Struct, frozen=True):
    title: str
    body: str


TEMPLATES: dict[str, Template] = {
    "announcement.city": Template(
        title={"vi": "{title_vi}", "en": "{title_en}"},
        body={"vi": "{body_vi}", "en": "{body_en}"},
    ),
    "account.new_login": Template(
        title={"vi": "Đăng nhập mới", "en": "New sign-in"},
        body={"vi": "Tài khoản của bạn vừa đăng nhập trên {device}.",
              "en": "Your account just signed in on {device}."},
    ),
}

# object_type -> deep link pattern; ``{id}`` is the object id.
DEEP_LINKS: dict[str, str] = {
    "feedback_report": "thudo://feedback/reports/{id}",
    "judicial_request": "thudo://judicial/requests/{id}",
    "transit_pass": "thudo://transit/passes/{id}",
    "health_record": "thudo://health/records/{id}",
    "announcement": "thudo://announcements/{id}",
    "account": "thudo://account",
}


def render(template: str, params: dict[str, str]) -> dict[str, Rendered]:
    """Both locales of a template. Unknown template -> ``KeyError`` (a bug in the caller)."""
    tpl = TEMPLATES[template]
    return {loc: Rendered(title=tpl.title[loc].format(**params), body=tpl.body[loc].format(**params))
            for loc in LOCALES}


def deep_link(object_type: str, object_id: str) -> str:
    pattern = DEEP_LINKS.get(object_type)
    return pattern.format(id=object_id) if pattern else "thudo://inbox"
