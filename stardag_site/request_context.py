"""Per-request context: the request id, who is calling with which credential, and the one log
line and metrics sample per request.

``RequestContextMiddleware`` is the outermost middleware. It takes the id from ``X-Request-ID``
(when it is a sane token) or makes one, echoes it in the response, and keeps the request in a
context variable so that log records (``stardag_site.logs.RequestIdFilter``) and the audit log
(``stardag_site.audit``) know the request they were made in without it being passed around.
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.db import connections
from django.http import HttpRequest, HttpResponse

from stardag_site import metrics
from stardag_site.logs import request_id_var

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

current_request: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar(
    "stardag_current_request", default=None
)
request_logger = logging.getLogger("stardag.request")


def credential_of(request: HttpRequest | None) -> tuple[str | None, str | None, str | None]:
    """``(kind, credential id, user id)`` of the caller; never a secret.

    ``kind`` is ``api_key`` (id: the key's id), ``internal`` or ``oidc`` (a bearer token; id:
    the user's id), ``session`` (the admin; id: the user's id) or None (anonymous, or the
    credential was refused).
    """
    if request is None:
        return None, None, None
    principal = getattr(request, "auth", None)
    kind = getattr(principal, "kind", None)
    if kind == "api_key" and principal is not None and principal.api_key is not None:
        return "api_key", str(principal.api_key.pk), None
    user = getattr(request, "user", None)
    user_id = str(user.pk) if user is not None and user.is_authenticated else None
    if kind in ("internal", "oidc"):
        return kind, user_id, user_id
    if user_id is not None:
        return "session", user_id, user_id
    return None, None, None


class _QueryCounter:
    """``connection.execute_wrapper`` that counts the queries of one request."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool,
                 context: dict[str, Any]) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = given if _SANE_REQUEST_ID.match(given) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        id_token = request_id_var.set(request_id)
        request_token = current_request.set(request)
        counter = _QueryCounter()
        started = time.perf_counter()
        try:
            with connections["default"].execute_wrapper(counter):
                response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            self._finish(request, response, time.perf_counter() - started, counter.count)
            return response
        finally:
            current_request.reset(request_token)
            request_id_var.reset(id_token)

    @staticmethod
    def _finish(request: HttpRequest, response: HttpResponse, seconds: float,
                queries: int) -> None:
        match = getattr(request, "resolver_match", None)
        route = (match.view_name or match.route) if match is not None else "unmatched"
        metrics.record_request(method=request.method or "", route=route,
                               status=response.status_code, seconds=seconds, queries=queries)
        kind, credential_id, user_id = credential_of(request)
        request_logger.info(
            "%s %s %s %.1fms", request.method, request.path, response.status_code,
            seconds * 1000,
            extra={"request_id": getattr(request, "request_id", None),
                   "method": request.method, "path": request.path, "route": route,
                   "status": response.status_code, "duration_ms": round(seconds * 1000, 2),
                   "credential_kind": kind, "credential_id": credential_id,
                   "user_id": user_id, "remote_addr": request.META.get("REMOTE_ADDR"),
                   "db_queries": queries},
        )
