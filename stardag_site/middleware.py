"""Request guards that apply to every API endpoint before any view runs."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote

from django.http import HttpRequest, HttpResponse, JsonResponse

NUL = "\x00"
NUL_MESSAGE = "Input should not contain NUL characters"


class RejectNulCharactersMiddleware:
    """Answer 422 when the path or a query parameter carries a NUL character.

    No text column can store NUL (PostgreSQL refuses it in any string literal), so such a value
    could only ever end in a database error. Checking once here keeps every view, filter and
    lookup free of that special case; JSON bodies get the same check in ``StrictJSONParser``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if NUL in request.path or NUL in unquote(request.META.get("PATH_INFO", "")):
            return self._reject(["path"], request.path)
        for name, values in request.GET.lists():
            if NUL in name or any(NUL in value for value in values):
                return self._reject(["query", name.replace(NUL, "")], None)
        return self.get_response(request)

    @staticmethod
    def _reject(loc: list[str], value: str | None) -> JsonResponse:
        item = {"type": "value_error", "loc": loc, "msg": NUL_MESSAGE,
                "input": value.replace(NUL, "\\u0000") if value else value}
        return JsonResponse({"detail": [item]}, status=422)
