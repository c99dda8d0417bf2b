"""OpenAPI (drf-spectacular) descriptions of the project's authentication classes and the
shared error body. Imported from ``accounts.apps.AccountsConfig.ready()`` so the extensions are
registered before any schema is generated.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

# Exactly two schemes in the docs' "Authorize" dialog: every bearer credential (this server's
# workspace token, the identity provider's token) is the same header to a client.
API_KEY_SCHEME = {
    "type": "apiKey",
    "in": "header",
    "name": "X-API-Key",
    "description": "API key of one environment (`sk_...`), for SDK routes.",
}
BEARER_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT",
    "description": "A workspace access token from `POST /api/v1/auth/exchange` (on SDK routes "
    "with `?environment_id=`), or, where a route says so, the identity provider's access token.",
}


class SdkAuthenticationScheme(OpenApiAuthenticationExtension):
    """SDK endpoints: an API key, or a bearer token plus ``environment_id``."""

    target_class = "stardag_site.api.authentication.SdkAuthentication"
    name = ["ApiKey", "SdkBearerToken"]

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[Any]]]:
        return [{"ApiKey": []}, {"SdkBearerToken": []}]

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, Any]]:
        return [API_KEY_SCHEME, BEARER_SCHEME]


# drf-spectacular needs one component name per authentication class; ``describe_operations``
# folds these into the one "BearerToken" scheme the docs show (see ``SCHEME_NAMES``).
class InternalTokenScheme(OpenApiAuthenticationExtension):
    target_class = "stardag_site.api.authentication.InternalTokenAuthentication"
    name = "InternalToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return BEARER_SCHEME


class UserTokenScheme(OpenApiAuthenticationExtension):
    target_class = "stardag_site.api.authentication.UserTokenAuthentication"
    name = "UserToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return BEARER_SCHEME


class OidcTokenScheme(OpenApiAuthenticationExtension):
    target_class = "stardag_site.api.authentication.OidcTokenAuthentication"
    name = "OidcToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return BEARER_SCHEME


SCHEME_NAMES = {"ApiKey": "ApiKey", "SdkBearerToken": "BearerToken",
                "InternalToken": "BearerToken", "UserToken": "BearerToken",
                "OidcToken": "BearerToken"}


class StardagAutoSchema(AutoSchema):
    """The project's schema generator (``DEFAULT_SCHEMA_CLASS``).

    * Docstrings are notes for maintainers, not for callers: no operation description comes
      from them (``schema_docs.OPERATIONS`` and ``extend_schema`` provide the user-facing text).
    * Every authenticated view raises 401 without a credential, so the ``{}`` ("no credential
      is fine too") that drf-spectacular adds for ``AllowAny`` views would be a lie.
    """

    def get_description(self) -> str:  # type: ignore[override]  # AutoSchema's, not DRF's
        return ""

    def get_auth(self) -> list[dict[str, list[Any]]]:
        return [requirement for requirement in super().get_auth() if requirement]


def _alias_paths(paths: set[str]) -> set[str]:
    """Spellings served for compatibility (contract §1.2) whose canonical route is listed too:
    ``/api/v1/X`` when ``/api/v1/ui/X`` exists, ``/X`` when ``/api/v1/X`` exists."""
    aliases = set()
    for path in paths:
        if path.startswith("/api/v1/") and not path.startswith("/api/v1/ui/"):
            if "/api/v1/ui/" + path.removeprefix("/api/v1/") in paths:
                aliases.add(path)
        elif not path.startswith("/api/") and "/api/v1" + path in paths:
            aliases.add(path)
    return aliases


def drop_alias_routes(endpoints: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Preprocessing hook: one listing per route (the aliases are named in the API
    description)."""
    aliases = _alias_paths({path for path, *_ in endpoints})
    return [endpoint for endpoint in endpoints if endpoint[0] not in aliases]


def describe_operations(result: dict[str, Any], generator: Any, request: Any,
                        public: bool) -> dict[str, Any]:
    """Postprocessing hook: two security schemes (API key, bearer token), and the summary and
    description of every operation from ``schema_docs.OPERATIONS`` (the single place
    user-facing API text is written)."""
    from stardag_site.api.schema_docs import API_DESCRIPTION, OPERATIONS

    result["info"]["description"] = API_DESCRIPTION
    components = result.setdefault("components", {})
    components["securitySchemes"] = {"ApiKey": API_KEY_SCHEME, "BearerToken": BEARER_SCHEME}
    for item in result.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict) or "operationId" not in operation:
                continue
            if "security" in operation:
                folded: list[dict[str, list[Any]]] = []
                for requirement in operation["security"]:
                    renamed = {SCHEME_NAMES.get(name, name): scopes
                               for name, scopes in requirement.items()}
                    if renamed not in folded:
                        folded.append(renamed)
                operation["security"] = folded
            text = OPERATIONS.get(operation["operationId"])
            if text is not None:
                operation["summary"], operation["description"] = text
    return result


def strip_optional_trailing_slash(endpoints: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Preprocessing hook: routes written as ``^.../?$`` are documented without the trailing
    slash, which is how clients call them (§1.1)."""
    return [
        (path.rstrip("/") if path != "/" else path, *rest) for path, *rest in endpoints
    ]


class ErrorBodySerializer(serializers.Serializer):
    """Every error body (§1.4): a sentence, an object (locks) or a list of 422 items."""

    detail = serializers.JSONField()


def error_responses(*codes: int) -> dict[int, type[serializers.Serializer]]:
    """``responses`` entries for the given error status codes."""
    return dict.fromkeys(codes, ErrorBodySerializer)
