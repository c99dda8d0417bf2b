"""Exceptions that carry the contract's error bodies (§1.4, §1.5).

Views and services raise these; ``stardag_site.api.exceptions.api_exception_handler`` renders
them. ``detail`` is passed through verbatim, so a dict stays a nested object (lock 423/429) and a
list of validation items stays a list.
"""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.exceptions import APIException

ValidationItem = dict[str, Any]


class ContractError(APIException):
    """An API error whose ``detail`` is rendered as-is under the ``detail`` key."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    default_detail = "Bad request."

    def __init__(self, detail: Any = None, *, status_code: int | None = None,
                 headers: dict[str, str] | None = None) -> None:
        self.raw_detail = self.default_detail if detail is None else detail
        if status_code is not None:
            self.status_code = status_code
        self.extra_headers = headers or {}
        super().__init__(detail=str(self.raw_detail))


class BadRequest(ContractError):
    status_code = status.HTTP_400_BAD_REQUEST


class Forbidden(ContractError):
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = "You do not have permission to perform this action."


class NotFound(ContractError):
    status_code = status.HTTP_404_NOT_FOUND
    default_detail = "Not found."


class Conflict(ContractError):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Conflict."


class TooManyRequests(ContractError):
    """429 in the shape of contract §1.4/§8.6: ``{"error_code": ..., "message": ...}``.

    ``RATE_LIMIT`` (with ``Retry-After``) means "try again later"; ``QUOTA_EXCEEDED`` means a
    limit that waiting alone does not lift (clients do not retry it).
    """

    status_code = status.HTTP_429_TOO_MANY_REQUESTS

    def __init__(self, message: str, *, error_code: str = "RATE_LIMIT",
                 retry_after: int | None = None) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        super().__init__({"error_code": error_code, "message": message}, headers=headers)


class Unauthenticated(ContractError):
    """401; ``www_authenticate`` becomes the WWW-Authenticate header (required on 401s)."""

    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = "Not authenticated."

    def __init__(self, detail: Any = None, *, www_authenticate: str = "Bearer") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": www_authenticate})


class RequestValidationError(ContractError):
    """422 with a list of ``{type, loc, msg, input}`` items."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY

    def __init__(self, items: list[ValidationItem]) -> None:
        super().__init__(items)


def validation_item(
    loc: list[str | int], msg: str, type_: str = "value_error", input_: Any = None,
    *, with_input: bool = True,
) -> ValidationItem:
    item: ValidationItem = {"type": type_, "loc": loc, "msg": msg}
    if with_input:
        item["input"] = input_
    return item


def invalid(location: str, name: str, msg: str, type_: str, input_: Any) -> RequestValidationError:
    """Shortcut for a single-problem 422."""
    return RequestValidationError([validation_item([location, name], msg, type_, input_)])


class Refusal(ContractError):
    """A v2 refusal (SDK-WIRE 1.6, 4.6): ``{"detail": {"code", "message", ...extra}}``.

    The SDK branches on ``code``, never on the status alone, so every v2 service raises this
    with the code the reference registry uses; ``extra`` carries the code's documented fields
    (``build_status``, ``reason``, ``task_ids``...).
    """

    def __init__(self, code: str, message: str = "", *, status_code: int = 409,
                 **extra: Any) -> None:
        self.code = code
        super().__init__({"code": code, "message": message or code.replace("_", " "), **extra},
                         status_code=status_code)
