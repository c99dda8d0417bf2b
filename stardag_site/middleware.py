"""Request guards that apply to every endpoint before any view runs, and the browser-only layers."""

from __future__ import annotations

import io
import logging
import zlib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import middleware as auth_middleware
from django.contrib.messages import middleware as messages_middleware
from django.contrib.sessions import middleware as sessions_middleware
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.utils.http import http_date

security_logger = logging.getLogger("django.security.DisallowedHost")

NUL = "\x00"
NUL_MESSAGE = "Input should not contain NUL characters"


class RejectNulCharactersMiddleware:
    """Answer 422 when a path parameter or a query parameter carries a NUL character.

    No text column can store NUL (PostgreSQL refuses it in any string literal), so such a value
    could only end in a database error or, at best, in a lookup that cannot match. Checking
    once here, after URL resolution so the 422 can name the parameter, keeps every view, filter
    and lookup free of that special case. JSON bodies get the same check in
    ``StrictJSONParser``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any],
        view_args: tuple[Any, ...], view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        for name, value in view_kwargs.items():
            if isinstance(value, str) and NUL in value:
                return self._reject(["path", name], value)
        for name, values in request.GET.lists():
            for value in values:
                if NUL in name or NUL in value:
                    return self._reject(["query", name.replace(NUL, "")], value)
        return None

    @staticmethod
    def _reject(loc: list[str], value: str) -> JsonResponse:
        item = {"type": "value_error", "loc": loc, "msg": NUL_MESSAGE, "input": value}
        return JsonResponse({"detail": [item]}, status=422)


def body_too_large_message(limit: int) -> str:
    mebibytes = f" ({limit / (1024 * 1024):.1f} MiB)" if limit >= 1024 * 1024 else ""
    return f"Request body is larger than the limit of {limit} bytes{mebibytes}."


def body_too_large_response() -> JsonResponse:
    """413 naming the configured limit (``MAX_REQUEST_BODY_BYTES``)."""
    return JsonResponse({"detail": body_too_large_message(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)},
                        status=413)


class RequestBodyLimitMiddleware:
    """Answer 413 before reading a body whose declared ``Content-Length`` exceeds the limit.

    Django enforces ``DATA_UPLOAD_MAX_MEMORY_SIZE`` only when the body is read, by raising
    ``RequestDataTooBig`` (a 500 through DRF, an HTML 400 elsewhere). Checking the header first
    costs nothing and never buffers the oversized body; bodies without a length (chunked) are
    still caught when read, by the API exception handler.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if limit is not None and length > limit:
            return body_too_large_response()
        return self.get_response(request)


GZIP_DEFAULT_CAP = 2_621_440  # Django's own default for DATA_UPLOAD_MAX_MEMORY_SIZE


class GzipRequestBodyMiddleware:
    """Decompress a ``Content-Encoding: gzip`` request body before anything reads it.

    SDK releases from 0.10 on gzip every JSON body of 1 KiB or more (SDK-WIRE §1.3); without
    this the JSON parser would see binary data and answer 422 ``json_invalid``. The decompressed
    size is capped at ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (read incrementally, so a small "zip bomb"
    never inflates past the cap in memory): a larger body is 413, a corrupt stream is the same
    422 ``json_invalid`` item a malformed JSON body gets. The view then sees an ordinary body
    with the decompressed ``Content-Length`` and no ``Content-Encoding``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        encoding = request.META.get("HTTP_CONTENT_ENCODING", "").strip().lower()
        if encoding in ("gzip", "x-gzip"):
            rejected = self._inflate(request)
            if rejected is not None:
                return rejected
        return self.get_response(request)

    @staticmethod
    def _inflate(request: HttpRequest) -> HttpResponse | None:
        cap = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or GZIP_DEFAULT_CAP
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > cap:
            return body_too_large_response()
        compressed = request._stream.read(length) if length else b""
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        complete = False
        try:
            body = inflater.decompress(compressed, cap + 1)
            complete = inflater.eof
        except zlib.error:
            body = b""
        if len(body) > cap:
            return body_too_large_response()
        if not complete:
            item = {"type": "json_invalid", "loc": ["body", 0],
                    "msg": "Body is not a valid gzip stream"}
            return JsonResponse({"detail": [item]}, status=422)
        request._stream = io.BytesIO(body)
        request.META["CONTENT_LENGTH"] = str(len(body))
        del request.META["HTTP_CONTENT_ENCODING"]
        return None


class DisallowedHostJsonMiddleware:
    """Answer a request for a host outside ``ALLOWED_HOSTS`` with a short JSON 400.

    Django would raise ``DisallowedHost`` from the first ``request.get_host()`` and answer with
    an HTML page, in development mode the debug page (which lists settings). Checking first, in
    the outermost middleware, means no such request reaches anything else, and a client (the SDK
    prints the body of an error) learns which setting the server's operator has to change.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            request.get_host()
        except DisallowedHost as exc:
            security_logger.warning("%s", exc)
            host = request.META.get("HTTP_HOST", "")[:200]
            return JsonResponse(
                {"detail": f"Host {host!r} is not allowed by this server: add it to the "
                           "server's ALLOWED_HOSTS setting."},
                status=400,
            )
        return self.get_response(request)


class NoStoreForCredentialsMiddleware:
    """``Cache-Control: no-store`` on every response to a request that carries a credential.

    Such responses are private to the caller and some carry secrets (a new API key, an internal
    access token from the exchange): no browser, proxy or CDN may keep a copy. Every API
    credential travels in a header (``Authorization``, ``X-API-Key``), so this covers all
    authenticated API responses, their errors included. The admin marks its own pages.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "HTTP_AUTHORIZATION" in request.META or "HTTP_X_API_KEY" in request.META:
            if "Cache-Control" in response or "Expires" in response:
                add_never_cache_headers(response)  # merges with what the view set
            else:  # what it writes on a bare response, without parsing and re-joining
                response.headers["Expires"] = http_date()
                response.headers["Cache-Control"] = NEVER_CACHE
        return response


# ``add_never_cache_headers`` on a response without caching headers (and its ``Expires``: now).
NEVER_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"
API_PREFIX = "/api/"


class _BrowserOnly:
    """Mixin for Django's middleware of signed-in browsers (sessions, the Django user, flash
    messages): it steps aside for ``/api/`` requests.

    No API endpoint reads a session, ``request.user`` before DRF authenticates, or a message:
    every API credential travels in a header (DRF's authentication classes include no session
    authentication), so for the API these layers only cost time (~70 us per request, issue 10:
    a session store, a lazy user and two message stores built and dropped). The admin, the
    OIDC login and the landing page keep all three. CSRF protection stays on for every path
    (Django's own ``CsrfViewMiddleware``; API views are exempt, header credentials being safe
    from cross-site forgery).
    """

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(API_PREFIX):
            return self.get_response(request)  # type: ignore[attr-defined]
        return super().__call__(request)  # type: ignore[misc]


class SessionMiddleware(_BrowserOnly, sessions_middleware.SessionMiddleware):
    """Django's, outside ``/api/`` (``_BrowserOnly``)."""


class AuthenticationMiddleware(_BrowserOnly, auth_middleware.AuthenticationMiddleware):
    """Django's, outside ``/api/`` (``_BrowserOnly``)."""


class MessageMiddleware(_BrowserOnly, messages_middleware.MessageMiddleware):
    """Django's, outside ``/api/`` (``_BrowserOnly``)."""
