"""The one place that turns exceptions into the contract's error bodies (§1.4-1.5).

* ``ContractError`` subclasses: ``detail`` rendered verbatim (string, object or list).
* Domain errors raised by services (``stardag_site.domain_errors``): their message, with the
  status of their kind (``DOMAIN_ERROR_STATUS``); a ``LimitReachedError`` is the §8.6 429.
* DRF ``ValidationError`` (serializer field maps): converted to a 422 list of
  ``{type, loc, msg, input}`` items with ``loc`` starting at ``"body"``.
* Other DRF errors: their status with ``{"detail": "<sentence>"}``; 401s keep the
  ``WWW-Authenticate`` header.
* Django ``Http404``/``PermissionDenied``: 404/403 JSON.
* A statement the database cancelled (``DB_STATEMENT_TIMEOUT_MS`` expired): 503 JSON.
* The database unreachable or failing mid-request: 503 JSON with ``Retry-After``.
* Anything else: logged, 500 ``{"detail": "Internal Server Error"}``.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from stardag_site.api.errors import ContractError, TooManyRequests, ValidationItem
from stardag_site.domain_errors import (
    ConflictError,
    DomainError,
    LimitReachedError,
    NotFoundError,
    NotPermittedError,
    RuleViolationError,
)
from stardag_site.middleware import body_too_large_message
from stardag_site.ratelimit import is_lock_path, rate_limit_body, record_failed_authentication

logger = logging.getLogger("stardag_site.api")

# DRF error codes → the contract's pydantic-style type names.
_TYPE_BY_CODE = {
    "required": "missing",
    "null": "missing",
    "blank": "string_too_short",
    "min_length": "string_too_short",
    "max_length": "string_too_long",
    "invalid": "value_error",
    "not_a_dict": "dict_type",
    "not_a_list": "list_type",
    "empty": "too_short",
    "min_value": "greater_than_equal",
    "max_value": "less_than_equal",
    "max_string_length": "int_parsing",
    "invalid_choice": "enum",
    "does_not_exist": "value_error",
    "incorrect_type": "value_error",
    "date": "datetime_parsing",
    "make_aware": "datetime_parsing",
}
_MSG_BY_CODE = {"required": "Field required", "null": "Field required"}
# The one mapping of domain errors to HTTP.
DOMAIN_ERROR_STATUS: dict[type[DomainError], int] = {
    NotFoundError: status.HTTP_404_NOT_FOUND,
    NotPermittedError: status.HTTP_403_FORBIDDEN,
    ConflictError: status.HTTP_409_CONFLICT,
    RuleViolationError: status.HTTP_400_BAD_REQUEST,
}


def _type_for(code: str | None, field_msg: str) -> str:
    if code == "invalid":
        lowered = field_msg.lower()
        if "integer" in lowered:
            return "int_parsing"
        if "boolean" in lowered:
            return "bool_parsing"
        if "uuid" in lowered:
            return "uuid_parsing"
        if "string" in lowered:
            return "string_type"
        if "datetime" in lowered:
            return "datetime_parsing"
        if "json" in lowered or "dictionary" in lowered or "object" in lowered:
            return "dict_type"
        if "list" in lowered:
            return "list_type"
    return _TYPE_BY_CODE.get(code or "", "value_error")


def _lookup_input(data: Any, path: list[str | int]) -> Any:
    current = data
    for part in path:
        in_dict = isinstance(current, dict) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and part < len(current)
        if in_dict or in_list:
            current = current[part]
        else:
            return current if isinstance(current, dict) else None
    return current


def flatten_drf_errors(detail: Any, *, location: str = "body", data: Any = None,
                       prefix: list[str | int] | None = None) -> list[ValidationItem]:
    """Turn DRF's nested ``{field: [ErrorDetail]}`` structure into contract items."""
    prefix = prefix or []
    items: list[ValidationItem] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            path = prefix if key in ("non_field_errors", "detail") else [*prefix, key]
            items.extend(flatten_drf_errors(value, location=location, data=data, prefix=path))
    elif isinstance(detail, list):
        if detail and all(isinstance(d, (dict, list)) for d in detail):
            for index, value in enumerate(detail):
                if value:
                    items.extend(flatten_drf_errors(value, location=location, data=data,
                                                    prefix=[*prefix, index]))
        else:
            for error in detail:
                items.extend(flatten_drf_errors(error, location=location, data=data,
                                                prefix=prefix))
    else:
        code = getattr(detail, "code", None)
        msg = _MSG_BY_CODE.get(code or "", str(detail))
        items.append({
            "type": _type_for(code, str(detail)),
            "loc": [location, *prefix],
            "msg": msg,
            "input": _lookup_input(data, prefix) if data is not None else None,
        })
    return items


# SQLSTATE query_canceled: PostgreSQL's answer when statement_timeout expires.
QUERY_CANCELED = "57014"
STATEMENT_TIMEOUT_DETAIL = (
    "The database cancelled this request because it took too long; narrow the query or retry later."
)


def is_statement_timeout(exc: BaseException) -> bool:
    """Whether ``exc`` is Django's wrapper around a statement the database cancelled."""
    cause = exc.__cause__
    return isinstance(exc, OperationalError) and getattr(cause, "sqlstate", None) == QUERY_CANCELED


DATABASE_UNAVAILABLE_DETAIL = "The database is unavailable; retry later."
DATABASE_RETRY_AFTER_SECONDS = 5


# SQLSTATE classes of a database that is unreachable or refusing work for now (PostgreSQL):
# 08 connection exception, 53 insufficient resources (too many connections), 57P operator
# intervention (shutdown, restart, "cannot connect now"), 57014 statement cancelled (timeout).
_UNAVAILABLE_SQLSTATES = ("08", "53", "57P", "57014")
_UNAVAILABLE_SQLITE = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_CANTOPEN", "SQLITE_IOERR")


def is_database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database cannot be reached or used right now: refused or timed
    out connections, a server restarting or shutting down, a connection dropped mid-request, a
    busy SQLite. A missing table or a bad query stays a 500: that is a bug, not an outage."""
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    sqlite_name = getattr(cause, "sqlite_errorname", None)
    if sqlite_name is not None:
        return sqlite_name.startswith(_UNAVAILABLE_SQLITE)
    sqlstate = getattr(cause, "sqlstate", None)
    return sqlstate is None or sqlstate.startswith(_UNAVAILABLE_SQLSTATES)


def _response(detail: Any, status_code: int, headers: dict[str, str] | None = None) -> Response:
    response = Response({"detail": detail}, status=status_code)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF EXCEPTION_HANDLER: every API error body comes from here."""
    response = _handle(exc, context)
    if response.status_code == status.HTTP_401_UNAUTHORIZED and context.get("request"):
        response = _limit_failed_authentication(context["request"], response)
    return response


def _limit_failed_authentication(request: Any, response: Response) -> Response:
    """Count the 401 against the client's address (``stardag_site.ratelimit``); over the limit
    the answer becomes the contract's 429 (lock endpoints keep their 401)."""
    retry_after = record_failed_authentication(request)
    if retry_after is None:
        return response
    if is_lock_path(request.path):
        response["Retry-After"] = str(retry_after)
        return response
    limited = Response(rate_limit_body(retry_after), status=status.HTTP_429_TOO_MANY_REQUESTS)
    limited["Retry-After"] = str(retry_after)
    return limited


def _handle(exc: Exception, context: dict[str, Any]) -> Response:
    set_rollback()
    if isinstance(exc, ContractError):
        return _response(exc.raw_detail, exc.status_code, exc.extra_headers)
    if isinstance(exc, LimitReachedError):
        quota = exc.retry_after is None
        exc = TooManyRequests(exc.message, error_code="QUOTA_EXCEEDED" if quota else "RATE_LIMIT",
                              retry_after=exc.retry_after)
        return _response(exc.raw_detail, exc.status_code, exc.extra_headers)
    if isinstance(exc, DomainError):
        kind = next(k for k in type(exc).__mro__ if k in DOMAIN_ERROR_STATUS)
        return _response(exc.message, DOMAIN_ERROR_STATUS[kind])
    if isinstance(exc, exceptions.ValidationError):
        request = context.get("request")
        data = getattr(request, "data", None) if request is not None else None
        items = flatten_drf_errors(exc.detail, data=data)
        return _response(items, status.HTTP_422_UNPROCESSABLE_ENTITY)
    if isinstance(exc, RequestDataTooBig):  # a chunked body without Content-Length
        return _response(body_too_large_message(settings.DATA_UPLOAD_MAX_MEMORY_SIZE),
                         status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, Http404):
        return _response("Not found.", status.HTTP_404_NOT_FOUND)
    if isinstance(exc, PermissionDenied):
        return _response("You do not have permission to perform this action.",
                         status.HTTP_403_FORBIDDEN)
    if isinstance(exc, exceptions.APIException):
        headers: dict[str, str] = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))  # type: ignore[attr-defined]
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return _response(detail, exc.status_code, headers)
    if is_statement_timeout(exc):
        # Not a server bug: the request was too expensive for the configured budget.
        logger.warning("Statement timeout in %s: %s", context.get("view").__class__.__name__, exc)
        return _response(STATEMENT_TIMEOUT_DETAIL, status.HTTP_503_SERVICE_UNAVAILABLE,
                         {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)})
    if is_database_unavailable(exc):
        # An outage, not a bug: the SDK retries a 503 (it does not retry a 500).
        logger.warning("Database unavailable in %s: %s", context.get("view").__class__.__name__,
                       exc)
        return _response(DATABASE_UNAVAILABLE_DETAIL, status.HTTP_503_SERVICE_UNAVAILABLE,
                         {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)})
    logger.exception("Unhandled error in %s", context.get("view").__class__.__name__)
    return _response("Internal Server Error", status.HTTP_500_INTERNAL_SERVER_ERROR)
