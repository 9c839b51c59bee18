"""Log a staff member into the staff console over real HTTP, for console page tests.

``console_login(http, database_url, "HK_LYTHAITO", "handler")`` registers a person at the VNeID
stand-in, logs them in once through the API (their account now exists) to grant the role, then walks
the console's own browser flow: ``/console/login/start`` → the stand-in's authorize page (approved with
``login_hint``) → ``/console/login/callback`` → the session cookie. The returned ``Console`` sends
that cookie and, on POSTs, the session's CSRF token, like the pages' forms do.

The cookie is ``Secure``: Python's cookie jar never sends such a cookie over plain http (the test
server), so ``Console`` keeps it itself.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

import httpx

from api.console.session import CSRF_FIELD, LOGIN_COOKIE, SESSION_COOKIE, csrf_token
from tests.support.auth import Session, grant, login, register_person


def set_cookies(response: httpx.Response) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for header in response.headers.get_list("set-cookie"):
        jar.load(header)
    return {name: morsel.value for name, morsel in jar.items()}


@dataclass
class Console:
    http: httpx.Client
    cookie: str
    user_id: uuid.UUID
    personal_id: str
    extra_cookies: dict[str, str] = field(default_factory=dict)

    @property
    def csrf(self) -> str:
        return csrf_token(self.cookie)

    def _cookies(self) -> str:
        pairs = {SESSION_COOKIE: self.cookie, **self.extra_cookies}
        return "; ".join(f"{k}={v}" for k, v in pairs.items() if v)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.get(
            path, headers={"Cookie": self._cookies(), **kw.pop("headers", {})}, follow_redirects=False, **kw
        )

    def post(self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True, **kw: Any) -> httpx.Response:
        form = {**(data or {}), **({CSRF_FIELD: self.csrf} if csrf else {})}
        return self.http.post(
            path, data=form, headers={"Cookie": self._cookies(), **kw.pop("headers", {})}, follow_redirects=False, **kw
        )


def console_session(http: httpx.Client, personal_id: str, next_path: str = "/console/") -> str:
    """The console's browser login for a person the stand-in knows; returns the session cookie's value."""
    start = http.get("/console/login/start", params={"next": next_path}, follow_redirects=False)
    assert start.status_code == 303, start.text
    pending = set_cookies(start)[LOGIN_COOKIE]
    url = start.headers["location"]
    auth = http.get(f"{url}&login_hint={personal_id}", follow_redirects=False)
    assert auth.status_code in (302, 303), auth.text
    back = httpx.URL(auth.headers["location"])
    assert back.path == "/console/login/callback", back
    done = http.get(
        f"{back.path}?{back.query.decode()}", headers={"Cookie": f"{LOGIN_COOKIE}={pending}"}, follow_redirects=False
    )
    assert done.status_code == 303, done.text
    assert done.headers["location"] == next_path
    return set_cookies(done)[SESSION_COOKIE]


def console_login(http: httpx.Client, database_url: str, unit_code: str | None, role: str = "handler") -> Console:
    """A staff member with ``role`` in ``unit_code`` (None: no grant), logged into the console."""
    personal_id = register_person(http)
    first: Session = login(http, personal_id=personal_id)  # creates the account the grant is for
    if unit_code is not None:
        grant(database_url, first.user_id, unit_code, role)
    return Console(http=http, cookie=console_session(http, personal_id), user_id=first.user_id, personal_id=personal_id)
