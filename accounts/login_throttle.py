"""Brute-force protection of the admin's password sign-in (django-axes, configured in settings).

Failed password logins are counted per account and, separately, per client address; after
``ADMIN_LOGIN_FAILURE_LIMIT`` failures within ``ADMIN_LOGIN_LOCKOUT_MINUTES`` the next attempt
for that account, or from that address, is refused — even with the right password — until the
cool-off has passed (or an operator deletes the attempt in the admin's "Access attempts", or runs
``manage.py axes_reset``). Only the admin site is guarded; the API never takes passwords.

These two callables tell django-axes who is trying:

* the account is the submitted e-mail, trimmed and lower-cased, because sign-in matches e-mail
  case-insensitively: otherwise ``Ops@…`` and ``ops@…`` would be counted as two accounts;
* the address is the connecting peer (``REMOTE_ADDR``). Behind reverse proxies, set
  ``ADMIN_LOGIN_PROXY_COUNT`` to their number: the address is then taken that many entries from
  the right of ``X-Forwarded-For`` (the entries the trusted proxies appended), never from the
  left, which the client controls.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpRequest


class LoginThrottleBackend(AxesStandaloneBackend):
    """django-axes' check, first in ``AUTHENTICATION_BACKENDS``. ``authenticate()`` calls made
    without a request (management commands, scripts, tests) are passed on instead of failing:
    there is no client to throttle, and only HTTP sign-ins can be used to guess passwords."""

    def authenticate(self, request: HttpRequest | None, username: str | None = None,
                     password: str | None = None, **kwargs: Any) -> None:
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


def login_account(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str | None:
    """The account a login attempt is for, normalised as sign-in matches it."""
    username = None
    if credentials:
        username = credentials.get("username") or credentials.get("email")
    if username is None and request is not None:
        username = request.POST.get("username")
    if not isinstance(username, str):
        return None
    return username.strip().lower() or None


def _valid_ip(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def login_client_address(request: HttpRequest) -> str | None:
    """The client address a login attempt comes from (see the module docstring)."""
    remote = _valid_ip(request.META.get("REMOTE_ADDR"))
    hops = settings.ADMIN_LOGIN_PROXY_COUNT
    if hops <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
                 if part.strip()]
    if len(forwarded) < hops:
        return remote
    return _valid_ip(forwarded[-hops]) or remote
