"""The three credentials of contract §3 as DRF authentication classes.

Every class stores a ``Principal`` in ``request.auth``; ``request.user`` is the person behind the
credential (``AnonymousUser`` for an API key). Classes raise ``Unauthenticated`` themselves
(with the WWW-Authenticate header the contract asks for) instead of returning ``None``, because
every endpoint that uses them requires a credential.

* ``SdkAuthentication``: SDK endpoints (§3.5): ``X-API-Key`` decides when present; otherwise an
  internal token plus ``?environment_id=`` (UUID or slug in the token's workspace).
* ``InternalTokenAuthentication``: workspace endpoints; only our own RS256 tokens.
* ``UserTokenAuthentication``: ``/ui/me``, workspace creation, invite answers: our token first,
  then the identity provider's token (which provisions the user on first contact, §3.4).
* ``OidcTokenAuthentication``: ``/auth/exchange``: only the identity provider's token.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from django.contrib.auth.models import AnonymousUser
from django.db.models import F
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from accounts.models import User
from accounts.oidc import OidcTokenError, verify_oidc_token
from accounts.tokens import TokenError, decode_access_token, looks_like_internal_token
from stardag_site.api.errors import BadRequest, Forbidden, NotFound, Unauthenticated
from stardag_site.db.prepared import PreparedQuery, column_field
from workspaces.api_keys import api_key_authenticate
from workspaces.models import ApiKey, Environment, WorkspaceMember

SDK_CHALLENGE = 'Bearer, ApiKey realm="sdk"'
BEARER_CHALLENGE = "Bearer"
NOT_AUTHENTICATED_SDK = "Not authenticated. Provide an X-API-Key header or a Bearer token."
NOT_AUTHENTICATED = "Not authenticated. Provide a Bearer token."


@dataclass(frozen=True)
class Principal:
    """Who is calling, with what, and (on SDK endpoints) in which environment."""

    kind: Literal["api_key", "internal", "oidc"]
    user: User | None = None
    environment: Environment | None = None
    workspace_id: uuid.UUID | None = None
    api_key: ApiKey | None = None
    claims: dict[str, Any] = field(default_factory=dict)


def request_user(request: Request) -> User:
    """The person behind the credential, for views whose authentication classes always resolve
    one (internal and identity-provider tokens raise 401 otherwise; API keys never get here)."""
    user = request.user
    assert isinstance(user, User), "this view's authentication resolves a user or raises 401"
    return user


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header; other schemes count as none."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


ACCOUNT_DISABLED = "User account is disabled"


def _require_active(user: User, challenge: str) -> User:
    """A disabled account is turned away whatever token it presents (ours or the identity
    provider's), on every route; only API keys, which belong to environments, keep working."""
    if not user.is_active:
        raise Unauthenticated(ACCOUNT_DISABLED, www_authenticate=challenge)
    return user


def _user_from_internal_claims(claims: dict[str, Any], challenge: str) -> User:
    user = User.objects.filter(pk=claims["sub"]).first()
    if user is None:
        raise Unauthenticated("User not found", www_authenticate=challenge)
    return _require_active(user, challenge)


def _internal_principal(token: str, challenge: str) -> Principal:
    try:
        claims = decode_access_token(token)
    except TokenError as exc:
        raise Unauthenticated(str(exc), www_authenticate=challenge) from exc
    user = _user_from_internal_claims(claims, challenge)
    return Principal(kind="internal", user=user, workspace_id=uuid.UUID(claims["workspace_id"]),
                     claims=claims)


def _oidc_principal(token: str, challenge: str = BEARER_CHALLENGE) -> Principal:
    from accounts.services import user_from_oidc_claims

    try:
        claims = verify_oidc_token(token)
    except OidcTokenError as exc:
        raise Unauthenticated(str(exc), www_authenticate=challenge) from exc
    user = _require_active(user_from_oidc_claims(claims), challenge)
    return Principal(kind="oidc", user=user, claims=claims)


class _Base(BaseAuthentication):
    challenge = BEARER_CHALLENGE

    def authenticate_header(self, request: Request) -> str:
        return self.challenge


def resolve_environment(principal: Principal, raw_value: str | None) -> Environment:
    """§3.5 step 2: the environment named by ``?environment_id=`` for an internal token."""
    if raw_value is None or raw_value.strip() == "":
        raise BadRequest("environment_id is required when using JWT authentication")
    value = raw_value.strip()
    environment: Environment | None = None
    try:
        environment = Environment.objects.select_related("workspace").filter(
            pk=uuid.UUID(value)
        ).first()
    except ValueError:
        environment = None if principal.workspace_id is None else (
            Environment.objects.select_related("workspace")
            .filter(workspace_id=principal.workspace_id, slug=value)
            .first()
        )
    if environment is None:
        raise NotFound("Environment not found")
    if environment.workspace_id != principal.workspace_id:
        raise Forbidden("Environment does not belong to your workspace")
    if not WorkspaceMember.objects.filter(
        workspace_id=environment.workspace_id, user=principal.user
    ).exists():
        raise Forbidden("Not a member of this workspace")
    return environment


_MEMBER = "workspace__memberships__"
_USER_COLUMNS = tuple(f.attname for f in User._meta.concrete_fields)


def _member_environment_query(by: str) -> PreparedQuery:
    """The environment (by id or by slug) in the token's workspace, of which the token's user is
    an active member, with that user's columns; at most one row (unique environment, unique
    membership), so no ORDER BY."""
    def build(environment: Any, workspace_id: Any, user_id: Any) -> Any:
        return (
            Environment.objects.select_related("workspace")
            .filter(**{by: environment}, workspace_id=workspace_id,
                    **{f"{_MEMBER}user_id": user_id, f"{_MEMBER}user__is_active": True})
            .annotate(**{f"_user_{column}": F(f"{_MEMBER}user__{column}")
                         for column in _USER_COLUMNS})
            .order_by()[:1]
        )

    return PreparedQuery(build, environment=column_field(Environment, by),
                         workspace_id=Environment._meta.get_field("workspace"),
                         user_id=User._meta.pk)


_MEMBER_ENVIRONMENT_BY_ID = _member_environment_query("id")
_MEMBER_ENVIRONMENT_BY_SLUG = _member_environment_query("slug")


def _member_environment(claims: dict[str, Any], raw_value: str | None) -> Environment | None:
    """One query for the whole §3.5 check of an internal token on an SDK endpoint: the named
    environment, in the token's workspace, of which the token's user is an active member, with
    that user's row (attached as ``environment._member``).

    ``None`` when any part fails; the caller then re-runs the checks one by one to give the
    contract's answer (401 user, 400/404/403 environment), which costs more queries only for
    requests that are refused anyway. Nothing is cached: a removed member or a disabled user is
    refused on the very next request, by every worker.
    """
    if raw_value is None or not raw_value.strip():
        return None
    value = raw_value.strip()
    environment_key: uuid.UUID | str
    try:
        query, environment_key = _MEMBER_ENVIRONMENT_BY_ID, uuid.UUID(value)
    except ValueError:
        query, environment_key = _MEMBER_ENVIRONMENT_BY_SLUG, value
    found = cast("Environment | None",
                 query.first(environment=environment_key,
                             workspace_id=uuid.UUID(claims["workspace_id"]),
                             user_id=uuid.UUID(claims["sub"])))
    if found is None:
        return None
    user = User(**{column: getattr(found, f"_user_{column}") for column in _USER_COLUMNS})
    user._state.adding, user._state.db = False, found._state.db
    found._member = user  # type: ignore[attr-defined]
    return found


class SdkAuthentication(_Base):
    """API key or internal token + environment; the environment scopes every query."""

    challenge = SDK_CHALLENGE

    def authenticate(self, request: Request) -> tuple[Any, Principal]:
        if "HTTP_X_API_KEY" in request.META:
            api_key = api_key_authenticate(request.META["HTTP_X_API_KEY"].strip())
            if api_key is None:
                raise Unauthenticated("Invalid API key", www_authenticate=self.challenge)
            principal = Principal(kind="api_key", environment=api_key.environment,
                                  workspace_id=api_key.environment.workspace_id, api_key=api_key)
            return AnonymousUser(), principal
        token = bearer_token(request)
        if token is None:
            raise Unauthenticated(NOT_AUTHENTICATED_SDK, www_authenticate=self.challenge)
        try:
            claims = decode_access_token(token)
        except TokenError as exc:
            raise Unauthenticated(str(exc), www_authenticate=self.challenge) from exc
        raw_environment = request.query_params.get("environment_id")
        environment = _member_environment(claims, raw_environment)
        if environment is not None:
            user = environment._member  # type: ignore[attr-defined]
        else:  # refused: find out why, in the contract's order
            user = _user_from_internal_claims(claims, self.challenge)
            environment = resolve_environment(
                Principal(kind="internal", user=user,
                          workspace_id=uuid.UUID(claims["workspace_id"])), raw_environment)
        principal = Principal(kind="internal", user=user, environment=environment,
                              workspace_id=uuid.UUID(claims["workspace_id"]), claims=claims)
        return user, principal


class InternalTokenAuthentication(_Base):
    def authenticate(self, request: Request) -> tuple[Any, Principal]:
        token = bearer_token(request)
        if token is None:
            raise Unauthenticated(NOT_AUTHENTICATED)
        principal = _internal_principal(token, self.challenge)
        return principal.user, principal


class UserTokenAuthentication(_Base):
    """Our token, else the identity provider's (§3.6).

    A token whose ``kid`` is one of our signing keys is judged as ours only: its failure reason
    (``Token has expired``, a bad signature) is the answer. Falling through to the OIDC check
    would answer ``Unable to find key with ID`` instead, which the SDK reads as an invalid
    token rather than an expired one (§3.9), and would make the server refetch the identity
    provider's JWKS for a key id that can never be there.
    """

    def authenticate(self, request: Request) -> tuple[Any, Principal]:
        token = bearer_token(request)
        if token is None:
            raise Unauthenticated(NOT_AUTHENTICATED)
        if looks_like_internal_token(token):
            principal = _internal_principal(token, self.challenge)
        else:
            principal = _oidc_principal(token)
        return principal.user, principal


class OidcTokenAuthentication(_Base):
    def authenticate(self, request: Request) -> tuple[Any, Principal]:
        token = bearer_token(request)
        if token is None:
            raise Unauthenticated(NOT_AUTHENTICATED)
        if looks_like_internal_token(token):
            raise Unauthenticated("Invalid token: an identity provider token is required")
        principal = _oidc_principal(token)
        return principal.user, principal
