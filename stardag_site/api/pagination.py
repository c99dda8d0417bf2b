"""The contract's page envelope: ``{<items_key>: [...], total, page, page_size}`` (§1.7)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from stardag_site.api.params import PageParams

PAGE_PARAMS = [
    OpenApiParameter("page", OpenApiTypes.INT, OpenApiParameter.QUERY,
                     description="1-based page number (default 1)."),
    OpenApiParameter("page_size", OpenApiTypes.INT, OpenApiParameter.QUERY,
                     description="1..100; default 20 (50 for task search)."),
]


def paginate(queryset: QuerySet[Any], params: PageParams) -> tuple[list[Any], int]:
    """One COUNT and one LIMIT/OFFSET query; a page past the end is empty with the real total."""
    total = queryset.count()
    if params.offset >= total:
        return [], total
    return list(queryset[params.offset : params.offset + params.page_size]), total


def page_body(items_key: str, items: Sequence[Any], total: int, params: PageParams,
              serialize: Callable[[Any], Any]) -> dict[str, Any]:
    return {items_key: serialize(items), "total": total, "page": params.page,
            "page_size": params.page_size}
