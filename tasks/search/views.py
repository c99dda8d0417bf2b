"""Task search endpoints (contract §4.12, §7): search, and key / value / column suggestions.

SDK endpoints (auth §3.5): every query runs in the caller's environment through
``SdkScopedMixin``. NUL characters in query parameters are refused with a 422 before any view
runs (``stardag_site.middleware``).
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from stardag_site.api.errors import invalid
from stardag_site.api.filtering import filter_parameters, valid_filterset_or_422
from stardag_site.api.mixins import SdkScopedMixin
from stardag_site.api.pagination import PAGE_PARAMS
from stardag_site.api.params import PageParams, query_int, query_str
from tasks.models import Task
from tasks.search.filters import TaskSearchFilterSet
from tasks.search.results import AVAILABLE_COLUMNS, parse_include_assets, search_page
from tasks.search.suggestions import suggest_columns, suggest_keys, suggest_values


def _limit(request: Request) -> int:
    return query_int(request, "limit", 20, minimum=1, maximum=100)


def _str_param(name: str, description: str, required: bool = False) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.STR, OpenApiParameter.QUERY, required=required,
                            description=description)


_INT = OpenApiTypes.INT
SEARCH_PARAMS = [
    *filter_parameters(TaskSearchFilterSet),
    _str_param("include_assets", "Comma-separated asset names to return in `asset_data`."),
    *PAGE_PARAMS,
]
LIMIT = OpenApiParameter("limit", _INT, OpenApiParameter.QUERY, description="1..100, default 20")


class TaskSearchResultSerializer(serializers.Serializer):
    task_id = serializers.CharField()
    environment_id = serializers.UUIDField()
    task_namespace = serializers.CharField()
    task_name = serializers.CharField()
    task_data = serializers.JSONField()
    version = serializers.CharField(allow_null=True)
    output_uri = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    build_id = serializers.UUIDField(allow_null=True)
    build_name = serializers.CharField(allow_null=True)
    status = serializers.CharField()
    started_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    error_message = serializers.CharField(allow_null=True)
    asset_count = serializers.IntegerField()
    asset_data = serializers.DictField()


class TaskSearchResponseSerializer(serializers.Serializer):
    tasks = TaskSearchResultSerializer(many=True)
    total = serializers.IntegerField()
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    available_columns = serializers.ListField(child=serializers.CharField())


class SearchKeySerializer(serializers.Serializer):
    key = serializers.CharField()
    type = serializers.ChoiceField(["string", "datetime", "number", "boolean", "object"])
    count = serializers.IntegerField()


class SearchKeysResponseSerializer(serializers.Serializer):
    keys = SearchKeySerializer(many=True)


class SearchValueSerializer(serializers.Serializer):
    value = serializers.CharField()
    count = serializers.IntegerField()


class SearchValuesResponseSerializer(serializers.Serializer):
    values = SearchValueSerializer(many=True)


class SearchColumnsResponseSerializer(serializers.Serializer):
    core = serializers.ListField(child=serializers.CharField())
    params = serializers.ListField(child=serializers.CharField())
    assets = serializers.ListField(child=serializers.CharField())


class TaskSearchView(SdkScopedMixin, APIView):
    @extend_schema(operation_id="tasks_search", parameters=SEARCH_PARAMS,
                   responses=TaskSearchResponseSerializer)
    def get(self, request: Request) -> Response:
        params = PageParams.from_request(request, default_page_size=50)
        tasks_in_scope = Task.objects.for_environment(self.environment)
        filterset = valid_filterset_or_422(
            TaskSearchFilterSet(request.query_params, queryset=tasks_in_scope,
                                environment=self.environment),
            request,
        )
        include_assets = parse_include_assets(request.query_params.get("include_assets"))
        tasks, total = search_page(queryset=filterset.qs, params=params,
                                   include_assets=include_assets,
                                   matched_set=filterset.matched_set,
                                   narrowed=filterset.narrowed)
        return Response({"tasks": tasks, "total": total, "page": params.page,
                         "page_size": params.page_size,
                         "available_columns": AVAILABLE_COLUMNS})


class TaskSearchKeysView(SdkScopedMixin, APIView):
    @extend_schema(operation_id="tasks_search_keys",
                   parameters=[_str_param("prefix", "Only keys starting with this."), LIMIT],
                   responses=SearchKeysResponseSerializer)
    def get(self, request: Request) -> Response:
        prefix = query_str(request, "prefix", "") or ""
        keys = suggest_keys(environment=self.environment, prefix=prefix, limit=_limit(request))
        return Response({"keys": keys})


class TaskSearchValuesView(SdkScopedMixin, APIView):
    @extend_schema(operation_id="tasks_search_values",
                   parameters=[_str_param("key", "A filter key.", required=True),
                               _str_param("prefix", "Only values starting with this."), LIMIT],
                   responses=SearchValuesResponseSerializer)
    def get(self, request: Request) -> Response:
        key = query_str(request, "key")
        if key is None:
            raise invalid("query", "key", "Field required", "missing", None)
        prefix = query_str(request, "prefix", "") or ""
        values = suggest_values(environment=self.environment, key=key.strip(), prefix=prefix,
                                limit=_limit(request))
        return Response({"values": values})


class TaskSearchColumnsView(SdkScopedMixin, APIView):
    @extend_schema(operation_id="tasks_search_columns",
                   responses=SearchColumnsResponseSerializer)
    def get(self, request: Request) -> Response:
        return Response(suggest_columns(environment=self.environment))
