"""Required JSON bodies (contract §1.5): absent is 422 ``missing`` at ``["body"]``.

DRF parses an absent body (no Content-Length, or no Content-Type) to ``{}``, which would be
indistinguishable from a sent ``{}``; ``StrictJSONParser`` turns a blank body into ``None``.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.request import Request

from stardag_site.api.errors import RequestValidationError, validation_item


def _body_absent(request: Request) -> bool:
    data = request.data
    empty = isinstance(data, dict) and not data
    return data is None or (empty and (request.stream is None or not request.content_type))


def required_body(request: Request) -> Any:
    if _body_absent(request):
        raise RequestValidationError([validation_item(["body"], "Field required", "missing",
                                                      None)])
    return request.data


def validated_body(request: Request, serializer_class: type[serializers.Serializer], *,
                   many: bool = False, required: bool = True) -> Any:
    """The serializer's ``validated_data`` for the body; problems become 422 items. An absent
    body is ``missing`` when ``required``, and an empty object otherwise (a PATCH without a
    body changes nothing)."""
    data = required_body(request) if required or not _body_absent(request) else {}
    serializer = serializer_class(data=data, many=many)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
