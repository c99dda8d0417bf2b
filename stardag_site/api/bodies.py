"""Required JSON bodies (contract §1.5): absent is 422 ``missing`` at ``["body"]``.

DRF parses an absent body (no Content-Length, or no Content-Type) to ``{}``, which would be
indistinguishable from a sent ``{}``; ``StrictJSONParser`` turns a blank body into ``None``.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.request import Request

from stardag_site.api.errors import RequestValidationError, validation_item


def required_body(request: Request) -> Any:
    data = request.data
    empty = isinstance(data, dict) and not data
    if data is None or (empty and (request.stream is None or not request.content_type)):
        raise RequestValidationError([validation_item(["body"], "Field required", "missing",
                                                      None)])
    return data


def validated_body(request: Request, serializer_class: type[serializers.Serializer], *,
                   many: bool = False) -> Any:
    """The serializer's ``validated_data`` for the required body; problems become 422 items."""
    serializer = serializer_class(data=required_body(request), many=many)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
