"""Local verification of identity-provider (OIDC) access tokens (contract §3.3).

Tokens are verified against the provider's JWKS, fetched with a timeout and cached for
``OIDC_JWKS_CACHE_TTL`` seconds; an unknown ``kid`` triggers exactly one refetch (key rotation).
No per-request call to the provider's userinfo endpoint is made, unlike mozilla-django-oidc's
DRF class, and a slow or failing provider never holds up a request whose key is cached (see
``JwksCache``), so the API stays fast and works while the provider is slow. ``exp``, ``nbf``
and ``iat`` are checked with ``OIDC_CLOCK_LEEWAY_SECONDS`` of tolerance for clock skew.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.request
from collections import deque
from typing import Any

import jwt
from django.conf import settings
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

logger = logging.getLogger(__name__)


class OidcTokenError(Exception):
    """``str(exc)`` is the 401 detail."""


class JwksCache:
    """Thread-safe, TTL-bounded cache of the provider's signing keys that never makes a worker
    wait on the provider while it holds a usable key.

    * The HTTP fetch runs on its own thread, outside the lock, and only one is in flight per
      process. A request whose key is in the cache gets it at once, even when the cache is stale
      and a refresh is running or failing: the last good key set is served until a refresh
      succeeds, and a failed refresh is retried after ``FAILED_REFRESH_RETRY_SECONDS``.
    * Only a request that needs a key the cache does not have (cold cache, unknown ``kid``)
      waits, for the in-flight fetch, at most ``OIDC_JWKS_TIMEOUT`` seconds.
    * An unknown ``kid`` triggers a refetch (the provider may have rotated its key), but at most
      ``ROTATION_REFETCHES_PER_MINUTE`` times a minute per process: otherwise anyone could make
      the server hammer the identity provider by sending tokens with made-up key ids.

    The lock guards only reads and writes of the fields below, never I/O.
    """

    ROTATION_REFETCHES_PER_MINUTE = 6
    FAILED_REFRESH_RETRY_SECONDS = 10.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, Any] = {}
        self._fetched_at = 0.0
        self._url = ""
        self._retry_at = 0.0  # after a failed fetch: no new attempt before this time
        self._in_flight: threading.Event | None = None
        self._generation = 0  # bumped by clear() and a URL change; older fetches are discarded
        self._rotation_refetches: deque[float] = deque()

    def clear(self) -> None:
        with self._lock:
            self._reset("")

    def _reset(self, url: str) -> None:
        self._keys, self._fetched_at, self._url, self._retry_at = {}, 0.0, url, 0.0
        self._in_flight = None
        self._generation += 1
        self._rotation_refetches.clear()

    def _may_refetch_for_rotation(self, now: float) -> bool:
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

    def _start_fetch(self, url: str) -> threading.Event:
        """Start the one fetch of this process (the caller holds the lock)."""
        done = threading.Event()
        self._in_flight = done
        generation = self._generation
        threading.Thread(target=self._run_fetch, args=(url, generation, done), daemon=True,
                         name="oidc-jwks-fetch").start()
        return done

    def _run_fetch(self, url: str, generation: int, done: threading.Event) -> None:
        try:
            keys: dict[str, Any] | None = self._fetch(url)
        except Exception:  # network, HTTP or JSON failure: keep serving the last good set
            logger.warning("Fetching the identity provider's JWKS from %s failed", url,
                           exc_info=True)
            keys = None
        with self._lock:
            if generation == self._generation:
                now = time.monotonic()
                if keys is not None:
                    self._keys, self._fetched_at, self._retry_at = keys, now, 0.0
                else:
                    self._retry_at = now + self.FAILED_REFRESH_RETRY_SECONDS
                self._in_flight = None
        done.set()

    def key_for(self, kid: str) -> Any:
        url = settings.OIDC_JWKS_URL
        if not url:
            raise OidcTokenError("Unable to validate token (JWKS fetch failed)")
        with self._lock:
            if url != self._url:
                self._reset(url)
            now = time.monotonic()
            key = self._keys.get(kid)
            stale = not self._keys or now - self._fetched_at > settings.OIDC_JWKS_CACHE_TTL
            may_fetch = self._in_flight is None and now >= self._retry_at
            if key is not None:
                if stale and may_fetch:
                    self._start_fetch(url)  # refresh in the background; this key serves now
                return key
            waiting_for = self._in_flight
            if waiting_for is None:
                if not may_fetch:
                    if not self._keys:
                        raise OidcTokenError("Unable to validate token (JWKS fetch failed)")
                    raise OidcTokenError(f"Unable to find key with ID: {kid}")
                if not stale and not self._may_refetch_for_rotation(now):
                    raise OidcTokenError(f"Unable to find key with ID: {kid}")
                waiting_for = self._start_fetch(url)
        waiting_for.wait(timeout=settings.OIDC_JWKS_TIMEOUT + 1)
        with self._lock:
            key = self._keys.get(kid) if self._url == url else None
            if key is not None:
                return key
            if not self._keys:
                raise OidcTokenError("Unable to validate token (JWKS fetch failed)")
        raise OidcTokenError(f"Unable to find key with ID: {kid}")


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
            leeway=settings.OIDC_CLOCK_LEEWAY_SECONDS,
            options={"verify_aud": False, "require": ["sub", "iss", "exp"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise OidcTokenError("Token has expired") from exc
    except jwt.PyJWTError as exc:
        raise OidcTokenError(f"Invalid token: {exc}") from exc
    if claims.get("iss") not in accepted_issuers():
        raise OidcTokenError("Invalid token: invalid issuer")
    _check_audience(claims)
    return claims


def _check_audience(claims: dict[str, Any]) -> None:
    """One of the token's ``aud`` values must be an accepted audience. Without ``aud`` (Keycloak
    leaves it out of access tokens for clients without an audience mapper) the authorized
    party ``azp``, the client the token was issued to, must be one instead; a token with
    neither names no client and is accepted, as the contract allows."""
    audience = claims.get("aud")
    if audience is None:
        audience = claims.get("azp")
    if audience is None:
        return
    values = [audience] if isinstance(audience, str) else list(audience)
    if not any(value in settings.OIDC_AUDIENCE for value in values):
        raise OidcTokenError(
            f"Invalid audience: expected one of {', '.join(settings.OIDC_AUDIENCE)}"
        )


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
