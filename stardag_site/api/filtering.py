"""Running a django-filter FilterSet on query parameters with the contract's 422 items (§1.5).

DRF's filter backend would report an invalid filter value as a 400 field map; SDK endpoints
answer 422 with ``loc: ["query", <name>]`` instead, so list views call ``filter_queryset_or_422``.
"""

from __future__ import annotations

from typing import Any, TypeVar

import django_filters
from django import forms
from django.db.models import Model, QuerySet
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
