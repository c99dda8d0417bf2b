"""Running a django-filter FilterSet on query parameters with the contract's 422 items (§1.5).

DRF's filter backend would report an invalid filter value as a 400 field map; SDK endpoints
answer 422 with ``loc: ["query", <name>]`` instead, so list views call ``filter_queryset_or_422``.
Each list's filters are declared once, in its FilterSet; ``filter_parameters`` reads them for the
OpenAPI schema (a filter's ``help_text`` becomes the parameter's description).
"""

from __future__ import annotations

from typing import Any, TypeVar

import django_filters
from django import forms
from django.db.models import Model, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request

from stardag_site.api.errors import RequestValidationError, validation_item

M = TypeVar("M", bound=Model)

_TYPE_BY_FIELD: list[tuple[type[forms.Field], str]] = [
    (forms.UUIDField, "uuid_parsing"),
    (forms.DateTimeField, "datetime_parsing"),
    (forms.IntegerField, "int_parsing"),
    (forms.NullBooleanField, "bool_parsing"),
    (forms.BooleanField, "bool_parsing"),
    (forms.ChoiceField, "enum"),
]


def _error_type(field: forms.Field | None, code: str | None) -> str:
    if code == "invalid_choice":
        return "enum"
    for field_class, type_name in _TYPE_BY_FIELD:
        if isinstance(field, field_class):
            return type_name
    return "value_error"


F = TypeVar("F", bound=django_filters.FilterSet)


def filter_queryset_or_422(filterset_class: type[django_filters.FilterSet], request: Request,
                           queryset: QuerySet[M]) -> QuerySet[M]:
    """The filtered queryset, or a 422 listing every invalid query parameter."""
    filterset = filterset_class(request.query_params, queryset=queryset, request=request)
    return valid_filterset_or_422(filterset, request).qs


def valid_filterset_or_422(filterset: F, request: Request) -> F:
    """``filterset`` (bound to ``request``'s query parameters) if its parameters are valid, else
    a 422 listing every invalid one. For views that need more of the FilterSet than ``qs``.
    """
    if filterset.is_valid():
        return filterset
    items = []
    for name, errors in filterset.form.errors.as_data().items():
        field = filterset.form.fields.get(name)
        raw: Any = request.query_params.get(name)
        for error in errors:
            message = " ".join(str(m) for m in error.messages)
            items.append(validation_item(["query", name], message, _error_type(field, error.code),
                                         raw))
    raise RequestValidationError(items)


_OPENAPI_TYPE_BY_FILTER: list[tuple[type[django_filters.Filter], OpenApiTypes]] = [
    (django_filters.IsoDateTimeFilter, OpenApiTypes.DATETIME),
    (django_filters.UUIDFilter, OpenApiTypes.UUID),
    (django_filters.NumberFilter, OpenApiTypes.INT),
]


def filter_parameters(filterset_class: type[django_filters.FilterSet]) -> list[OpenApiParameter]:
    """The FilterSet's filters as OpenAPI query parameters: strings unless the filter parses a
    timestamp, UUID or number; a single-choice filter lists its choices, a comma-separated
    ``In`` filter does not (its value is a list), a multiple-choice filter is repeatable.
    """
    parameters = []
    for name, filter_ in filterset_class.base_filters.items():
        openapi_type = next((t for cls, t in _OPENAPI_TYPE_BY_FILTER if isinstance(filter_, cls)),
                            OpenApiTypes.STR)
        enum = None
        if (isinstance(filter_, django_filters.ChoiceFilter)
                and not isinstance(filter_, django_filters.BaseInFilter)):
            enum = [value for value, _ in filter_.extra["choices"]]
        parameters.append(OpenApiParameter(
            name, openapi_type, OpenApiParameter.QUERY,
            description=filter_.extra.get("help_text", ""), enum=enum,
            many=isinstance(filter_, django_filters.MultipleChoiceFilter) or None))
    return parameters
