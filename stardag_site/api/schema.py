"""OpenAPI (drf-spectacular) descriptions of the project's authentication classes and the
shared error body. Imported from ``accounts.apps.AccountsConfig.ready()`` so the extensions are
registered before any schema is generated.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import serializers

API_KEY_SCHEME = {"type": "apiKey", "in": "header", "name": "X-API-Key"}
INTERNAL_TOKEN_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT",
    "description": "Workspace-scoped RS256 access token from `POST /api/v1/auth/exchange`. On "
    "SDK endpoints it needs `?environment_id=<uuid or slug>`.",
}
SDK_BEARER_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT",
    "description": "Internal access token plus the `environment_id` query parameter (UUID or "
    "slug of an environment in the token's workspace).",
}
OIDC_TOKEN_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT",
    "description": "Access token of the configured OpenID Connect identity provider.",
}
USER_TOKEN_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT",
    "description": "Either an internal access token or an identity-provider access token "
    "(which provisions the user on first contact).",
}


class SdkAuthenticationScheme(OpenApiAuthenticationExtension):
    """SDK endpoints: an API key, or an internal token plus ``environment_id``."""

    target_class = "stardag_site.api.authentication.SdkAuthentication"
    name = ["ApiKey", "SdkBearerToken"]

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[Any]]]:
        return [{"ApiKey": []}, {"SdkBearerToken": []}]

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, Any]]:
        return [API_KEY_SCHEME, SDK_BEARER_SCHEME]


class InternalTokenScheme(OpenApiAuthenticationExtension):
    target_class = "stardag_site.api.authentication.InternalTokenAuthentication"
    name = "InternalToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return INTERNAL_TOKEN_SCHEME


class UserTokenScheme(OpenApiAuthenticationExtension):
    target_class = "stardag_site.api.authentication.UserTokenAuthentication"
    name = "UserToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return USER_TOKEN_SCHEME


class OidcTokenScheme(OpenApiAuthenticationExtension):
    target_class = "stardag_site.api.authentication.OidcTokenAuthentication"
    name = "OidcToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return OIDC_TOKEN_SCHEME


def strip_optional_trailing_slash(endpoints: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Preprocessing hook: routes written as ``^.../?$`` are documented without the trailing
    slash, which is how clients call them (§1.1)."""
    return [
        (path.rstrip("/") if path != "/" else path, *rest) for path, *rest in endpoints
    ]


class ErrorOut(serializers.Serializer):
    """Every error body (§1.4): a sentence, an object (locks) or a list of 422 items."""

    detail = serializers.JSONField()


def error_responses(*codes: int) -> dict[int, type[serializers.Serializer]]:
    """``responses`` entries for the given error status codes."""
    return dict.fromkeys(codes, ErrorOut)
