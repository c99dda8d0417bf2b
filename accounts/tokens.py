"""Internal access tokens: RS256 JWTs minted by ``/auth/exchange`` (contract §3.2).

The signing key comes from settings (shared by all processes). ``kid`` is the configured
``JWT_KEY_ID`` or the first 16 hex characters of SHA-256 over the public key's DER
SubjectPublicKeyInfo. Public keys listed in ``JWT_ADDITIONAL_PUBLIC_KEYS`` keep validating (and
are published in the JWKS) while a rotation is in progress.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
import uuid
from dataclasses import dataclass
from functools import cache
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from django.conf import settings

LEEWAY_SECONDS = 60
_PEM_BLOCK = re.compile(r"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.S)


class TokenError(Exception):
    """The token is not a valid internal token; ``str(exc)`` is the 401 detail."""


class TokenExpired(TokenError):
    pass


def key_id_for(public_key: RSAPublicKey) -> str:
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()[:16]


@dataclass(frozen=True)
class SigningKeys:
    private_key: RSAPrivateKey
    kid: str
    verification_keys: dict[str, RSAPublicKey]  # kid → key, current one first


@cache
def signing_keys() -> SigningKeys:
    private_key = serialization.load_pem_private_key(settings.JWT_PRIVATE_KEY.encode(), None)
    if not isinstance(private_key, RSAPrivateKey):
        raise ValueError("JWT_PRIVATE_KEY must be an RSA private key")
    public_key = private_key.public_key()
    kid = settings.JWT_KEY_ID or key_id_for(public_key)
    keys: dict[str, RSAPublicKey] = {kid: public_key}
    for block in _PEM_BLOCK.findall(settings.JWT_ADDITIONAL_PUBLIC_KEYS or ""):
        extra = serialization.load_pem_public_key(block.encode())
        if isinstance(extra, RSAPublicKey):
            keys.setdefault(key_id_for(extra), extra)
    return SigningKeys(private_key=private_key, kid=kid, verification_keys=keys)


def access_token_ttl_seconds() -> int:
    return int(settings.JWT_ACCESS_TOKEN_TTL_MINUTES) * 60


def mint_access_token(*, user_id: uuid.UUID, workspace_id: uuid.UUID) -> tuple[str, int]:
    """Return ``(token, expires_in_seconds)`` for the user scoped to the workspace."""
    keys = signing_keys()
    now = int(time.time())
    ttl = access_token_ttl_seconds()
    claims = {
        "sub": str(user_id),
        "workspace_id": str(workspace_id),
        "iss": settings.JWT_ISSUER,
        "aud": settings.JWT_AUDIENCE,
        "iat": now,
        "exp": now + ttl,
        "jti": uuid.uuid4().hex,  # every exchange yields a distinct token, even within a second
    }
    token = jwt.encode(claims, keys.private_key, algorithm="RS256",
                       headers={"kid": keys.kid, "typ": "JWT"})
    return token, ttl


def looks_like_internal_token(token: str) -> bool:
    """Cheap pre-check: our tokens carry one of our key ids."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return False
    return header.get("kid") in signing_keys().verification_keys


@dataclass(frozen=True)
class _Verified:
    """A token this process has verified, and what it was verified against."""

    claims: dict[str, Any]
    keys: SigningKeys
    audience: str
    issuer: str


# Tokens already verified by this process, by their exact text. The SDK sends one token with
# every request until it expires, and verifying it costs ~0.11 ms of CPU per request (PyJWT
# checks every base64 character in Python, twice, then the RSA signature). Only a token
# byte-for-byte identical to one that passed every check is looked up, so a forged or altered
# token always takes the full path; the entry is used only while the signing keys, audience and
# issuer it was checked against are still the current ones, and expiry is checked again on
# every use. Tokens carry no server-side state (disabled users and removed members are refused
# by the database lookup that follows on every request), so nothing else can change. Bounded:
# emptied when full.
_VERIFIED: dict[str, _Verified] = {}
_VERIFIED_MAX = 4096


def decode_access_token(token: str) -> dict[str, Any]:
    """Validate signature, ``iss``, ``aud``, ``exp`` and the required claims."""
    keys = signing_keys()
    known = _VERIFIED.get(token)
    if (known is not None and known.keys is keys and known.audience == settings.JWT_AUDIENCE
            and known.issuer == settings.JWT_ISSUER):
        if known.claims["exp"] + LEEWAY_SECONDS <= time.time():
            _VERIFIED.pop(token, None)
            raise TokenExpired("Token has expired")
        return dict(known.claims)
    claims = _verify_access_token(token, keys)
    if len(_VERIFIED) >= _VERIFIED_MAX:
        _VERIFIED.clear()
    _VERIFIED[token] = _Verified(dict(claims), keys, settings.JWT_AUDIENCE, settings.JWT_ISSUER)
    return claims


def _verify_access_token(token: str, keys: SigningKeys) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise TokenError(f"Invalid token: {exc}") from exc
    key = keys.verification_keys.get(header.get("kid", ""))
    if key is None:
        raise TokenError("Invalid token: unknown signing key")
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            audience=settings.JWT_AUDIENCE,
            issuer=settings.JWT_ISSUER,
            leeway=LEEWAY_SECONDS,
            options={"require": ["sub", "workspace_id", "iss", "aud", "iat", "exp"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenExpired("Token has expired") from exc
    except jwt.PyJWTError as exc:
        raise TokenError(f"Invalid token: {exc}") from exc
    try:
        uuid.UUID(str(claims["sub"]))
        uuid.UUID(str(claims["workspace_id"]))
    except ValueError as exc:
        raise TokenError("Invalid token: malformed sub or workspace_id") from exc
    return claims


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def public_jwks() -> dict[str, list[dict[str, str]]]:
    """The JWKS document published at ``/.well-known/jwks.json``."""
    entries = []
    for kid, key in signing_keys().verification_keys.items():
        numbers = key.public_numbers()
        entries.append({
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
            "n": _b64url_uint(numbers.n), "e": _b64url_uint(numbers.e),
        })
    return {"keys": entries}
