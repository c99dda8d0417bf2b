"""Request guards that apply to every endpoint before any view runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

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
