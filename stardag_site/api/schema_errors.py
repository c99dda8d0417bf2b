"""The error responses every operation can give, added to the OpenAPI schema in one place.

Views document their success bodies and the errors particular to them (a lock's 423, a
conflict's 409). The errors that come from cross-cutting machinery are the same everywhere and
are added here by a drf-spectacular postprocessing hook, so the published schema describes what
is served without every view repeating them (and without every new view forgetting one):

* 401 (bad or missing credentials), 403 (wrong workspace or role), 404 (unknown object or
  environment), 400 (request not allowed in this state) on every operation that needs a
  credential;
* 422 (the contract's validation list, §1.5) on every operation that takes parameters or a body;
* 413 (body over ``MAX_REQUEST_BODY_BYTES``) on every operation that takes a body;
* 429 (rate limit, §8.6, with ``Retry-After``) everywhere but the lock endpoints, which keep
  their own 429 (concurrency limit) and are never rate-limited;
* 503 (database unavailable, with ``Retry-After``) everywhere.

``ContractAutoSchema`` also stops drf-spectacular from wrapping the page envelope of a ``list``
action (``{"builds": [...], "total": ...}``) in an array: the project's list actions return
envelopes, and those that return bare arrays say so with ``many=True``.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.plumbing import is_list_serializer

from stardag_site.api.schema import StardagAutoSchema

ERROR_SCHEMA = "Error"
VALIDATION_ERROR_SCHEMA = "ValidationError"

_COMPONENTS = {
    ERROR_SCHEMA: {
        "type": "object",
        "description": "Every error body (contract §1.4): a sentence, an object (locks, rate "
        "limits: `error_code` and `message`) or a list of validation items.",
        "properties": {"detail": {"anyOf": [
            {"type": "string"},
            {"type": "object", "additionalProperties": True},
            {"type": "array", "items": {"$ref": "#/components/schemas/ValidationItem"}},
        ]}},
        "required": ["detail"],
    },
    "ValidationItem": {
        "type": "object",
        "properties": {
            "type": {"type": "string"},
            "loc": {"type": "array", "items": {"anyOf": [{"type": "string"},
                                                         {"type": "integer"}]}},
            "msg": {"type": "string"},
            "input": {},
            "ctx": {"type": "object", "additionalProperties": True},
        },
        "required": ["type", "loc", "msg"],
    },
    VALIDATION_ERROR_SCHEMA: {
        "type": "object",
        "description": "422: one item per problem (contract §1.5).",
        "properties": {"detail": {"type": "array",
                                  "items": {"$ref": "#/components/schemas/ValidationItem"}}},
        "required": ["detail"],
    },
}

_RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "required": True,
                                "description": "Seconds to wait before retrying."}}

_DESCRIPTIONS = {
    "400": "Not allowed in the current state",
    "401": "Missing, invalid or expired credentials",
    "403": "Authenticated but not allowed",
    "404": "Not found, or not visible to this credential",
    "413": "Request body larger than the configured limit",
    "422": "Validation failed",
    "429": "Rate limit reached (`error_code`: `RATE_LIMIT`); retry after `Retry-After`",
    "503": "Database unavailable; retry after `Retry-After`",
}

LOCK_PATH_PREFIX = "/api/v1/locks"
HTTP_METHODS = ("get", "put", "post", "patch", "delete", "head", "options", "trace")


def _error(code: str, schema: str = ERROR_SCHEMA, *, retry_after: bool = False
           ) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": _DESCRIPTIONS[code],
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }
    if retry_after:
        response["headers"] = dict(_RETRY_AFTER)
    return response


def _codes_for(path: str, operation: dict[str, Any], global_security: list[Any]) -> dict[
        str, dict[str, Any]]:
    security = operation.get("security", global_security)
    secured = any(requirement for requirement in security or [])
    has_body = "requestBody" in operation
    codes: dict[str, dict[str, Any]] = {}
    if secured:
        codes.update({code: _error(code) for code in ("400", "401", "403", "404")})
    if has_body or operation.get("parameters"):
        codes["422"] = _error("422", VALIDATION_ERROR_SCHEMA)
    if has_body:
        codes["413"] = _error("413")
    if not path.startswith(LOCK_PATH_PREFIX):
        codes["429"] = _error("429", retry_after=True)
    codes["503"] = _error("503", retry_after=True)
    return codes


def add_standard_error_responses(result: dict[str, Any], generator: Any, request: Any,
                                 public: bool) -> dict[str, Any]:
    """drf-spectacular POSTPROCESSING_HOOKS entry (see the module docstring)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in _COMPONENTS.items():
        schemas.setdefault(name, schema)
    global_security = result.get("security", [])
    for path, item in result.get("paths", {}).items():
        for method in HTTP_METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for code, response in _codes_for(path, operation, global_security).items():
                responses.setdefault(code, response)
    return result


class ContractAutoSchema(StardagAutoSchema):
    """``StardagAutoSchema`` that trusts the declared response serializer of ``list`` actions.

    Operation ids keep drf-spectacular's naming (``builds_list``), which uses the same
    heuristic; only the response body stops being wrapped in an array.
    """

    _naming = False

    def get_operation_id(self) -> str:
        self._naming = True
        try:
            return super().get_operation_id()
        finally:
            self._naming = False

    def _is_list_view(self, serializer: Any = None) -> bool:
        if self._naming:
            return super()._is_list_view(serializer)
        if serializer is None:
            serializer = self.get_response_serializers()
        if isinstance(serializer, dict) and serializer:
            by_code = {str(code): s for code, s in serializer.items()}
            serializer = by_code[min(by_code)]
        return is_list_serializer(serializer)
