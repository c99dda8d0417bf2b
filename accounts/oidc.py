"""Local verification of identity-provider (OIDC) access tokens (contract §3.3).

Tokens are verified against the provider's JWKS, fetched with a timeout and cached for
``OIDC_JWKS_CACHE_TTL`` seconds; an unknown ``kid`` triggers exactly one refetch (key rotation).
No per-request call to the provider's userinfo endpoint is made, unlike mozilla-django-oidc's
DRF class, so the API stays fast and works while the provider is slow.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections import deque
from typing import Any

import jwt
from django.conf import settings
from mozilla_django_oidc.auth import OIDCAuthenticationBackend


class OidcTokenError(Exception):
    """``str(exc)`` is the 401 detail."""


class JwksCache:
    """Thread-safe, TTL-bounded cache of the provider's signing keys.

    An unknown ``kid`` triggers a refetch (the provider may have rotated its key), but at most
    ``ROTATION_REFETCHES_PER_MINUTE`` times a minute per process: otherwise anyone could make
    the server hammer the identity provider by sending tokens with made-up key ids.
    """

    ROTATION_REFETCHES_PER_MINUTE = 6

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, Any] = {}
        self._fetched_at = 0.0
        self._url = ""
        self._rotation_refetches: deque[float] = deque()

    def clear(self) -> None:
        with self._lock:
            self._keys, self._fetched_at = {}, 0.0
            self._rotation_refetches.clear()

    def _may_refetch_for_rotation(self) -> bool:
        now = time.monotonic()
        while self._rotation_refetches and now - self._rotation_refetches[0] > 60:
            self._rotation_refetches.popleft()
        if len(self._rotation_refetches) >= self.ROTATION_REFETCHES_PER_MINUTE:
            return False
        self._rotation_refetches.append(now)
        return True

    def _fetch(self, url: str) -> dict[str, Any]:
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=settings.OIDC_JWKS_TIMEOUT) as response:
            document = json.load(response)
        keys: dict[str, Any] = {}
        for entry in document.get("keys", []):
            kid = entry.get("kid")
            if not kid or entry.get("kty") != "RSA":
                continue
            try:
                keys[kid] = jwt.PyJWK(entry, algorithm="RS256").key
            except jwt.PyJWTError:
                continue
        return keys

    def _refresh(self, url: str) -> None:
        try:
            keys = self._fetch(url)
        except Exception as exc:  # network, HTTP or JSON failure: all mean "cannot validate"
            raise OidcTokenError("Unable to validate token (JWKS fetch failed)") from exc
        self._keys, self._fetched_at, self._url = keys, time.monotonic(), url

    def key_for(self, kid: str) -> Any:
        url = settings.OIDC_JWKS_URL
        if not url:
            raise OidcTokenError("Unable to validate token (JWKS fetch failed)")
        with self._lock:
            stale = (
                url != self._url
                or time.monotonic() - self._fetched_at > settings.OIDC_JWKS_CACHE_TTL
            )
            if stale:
                self._refresh(url)
            if kid not in self._keys and not stale and self._may_refetch_for_rotation():
                self._refresh(url)  # one refetch for key rotation
            if kid not in self._keys:
                raise OidcTokenError(f"Unable to find key with ID: {kid}")
            return self._keys[kid]


jwks_cache = JwksCache()


def accepted_issuers() -> list[str]:
    return [i for i in (settings.OIDC_ISSUER_URL, settings.OIDC_EXTERNAL_ISSUER_URL) if i]


def verify_oidc_token(token: str) -> dict[str, Any]:
    """Return the token's claims, or raise ``OidcTokenError`` with the contract's wording."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise OidcTokenError(f"Invalid token: {exc}") from exc
    kid = header.get("kid")
    if not kid:
        raise OidcTokenError("Invalid token: missing kid in header")
    if header.get("alg") != "RS256":
        raise OidcTokenError("Invalid token: unsupported algorithm")
    key = jwks_cache.key_for(kid)
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            options={"verify_aud": False, "require": ["sub", "iss", "exp"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise OidcTokenError("Token has expired") from exc
    except jwt.PyJWTError as exc:
        raise OidcTokenError(f"Invalid token: {exc}") from exc
    if claims.get("iss") not in accepted_issuers():
        raise OidcTokenError("Invalid token: invalid issuer")
    audience = claims.get("aud")
    if audience is not None:
        values = [audience] if isinstance(audience, str) else list(audience)
        if not any(value in settings.OIDC_AUDIENCE for value in values):
            raise OidcTokenError(
                f"Invalid audience: expected one of {', '.join(settings.OIDC_AUDIENCE)}"
            )
    return claims


class AdminOIDCBackend(OIDCAuthenticationBackend):
    """"Sign in with SSO" for the admin (mozilla-django-oidc's code flow).

    Unlike the library's default it matches people by the token's ``sub`` (our
    ``external_id``), never by e-mail, lets only active staff users in, and never creates a
    user: operators are promoted in the admin, API users appear through the API (§3.4).
    """

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        return bool(claims.get("sub"))

    def filter_users_by_claims(self, claims: dict[str, Any]) -> Any:
        from accounts.models import User

        sub = claims.get("sub")
        if not sub:
            return User.objects.none()
        return User.objects.filter(external_id=sub, is_staff=True, is_active=True)

    def create_user(self, claims: dict[str, Any]) -> None:
        return None

    def get_or_create_user(self, access_token: str, id_token: str,
                           payload: dict[str, Any]) -> Any:
        claims = {**self.get_userinfo(access_token, id_token, payload)}
        claims.setdefault("sub", payload.get("sub"))
        if claims.get("sub") != payload.get("sub"):
            return None  # userinfo must describe the person the ID token is about
        return self.filter_users_by_claims(claims).first()
