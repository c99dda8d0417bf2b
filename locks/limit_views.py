"""Named concurrency limits (SDK-WIRE §3.4 N18-N21), what the 0.20+ CLI's
``stardag concurrency-limits list|set|delete|holders`` calls.

Limits are stored per environment; enforcing them when tasks claim their starts comes with the
claims of the ``/api/v2`` protocol, so no task ever holds a slot here and ``holders`` is empty.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from locks import services
from locks.models import ConcurrencyLimit
from stardag_site.api.bodies import validated_body
from stardag_site.api.errors import NotFound
from stardag_site.api.mixins import SdkScopedMixin

LIMIT_KEY = OpenApiParameter("key", str, OpenApiParameter.PATH,
                             description="The limit's key (no '/').")


class ConcurrencyLimitSerializer(serializers.ModelSerializer):
    class Meta:
        model = ConcurrencyLimit
        fields = ["key", "max_concurrent"]
        read_only_fields = fields


class ConcurrencyLimitSetSerializer(serializers.Serializer):
    max_concurrent = serializers.IntegerField(min_value=1, max_value=1_000_000)


class ConcurrencyLimitListView(SdkScopedMixin, APIView):
    @extend_schema(responses=inline_serializer("ConcurrencyLimitList", {
        "limits": ConcurrencyLimitSerializer(many=True)}))
    def get(self, request: Request) -> Response:
        limits = ConcurrencyLimit.objects.filter(environment=self.environment).order_by("key")
        return Response({"limits": ConcurrencyLimitSerializer(limits, many=True).data})


class ConcurrencyLimitDetailView(SdkScopedMixin, APIView):
    @extend_schema(parameters=[LIMIT_KEY], request=ConcurrencyLimitSetSerializer,
                   responses=ConcurrencyLimitSerializer)
    def put(self, request: Request, key: str) -> Response:
        data = validated_body(request, ConcurrencyLimitSetSerializer)
        limit = services.concurrency_limit_set(environment=self.environment, key=key,
                                               max_concurrent=data["max_concurrent"])
        return Response(ConcurrencyLimitSerializer(limit).data)

    @extend_schema(parameters=[LIMIT_KEY], request=None, responses={204: None})
    def delete(self, request: Request, key: str) -> Response:
        if not services.concurrency_limit_delete(environment=self.environment, key=key):
            raise NotFound("Concurrency limit not found")
        return Response(status=status.HTTP_204_NO_CONTENT)


class ConcurrencyLimitHoldersView(SdkScopedMixin, APIView):
    @extend_schema(parameters=[LIMIT_KEY], responses=inline_serializer("LimitHolders", {
        "key": serializers.CharField(), "holders": serializers.ListField(),
        "total": serializers.IntegerField()}))
    def get(self, request: Request, key: str) -> Response:
        if not ConcurrencyLimit.objects.filter(environment=self.environment, key=key).exists():
            raise NotFound("Concurrency limit not found")
        return Response({"key": key, "holders": [], "total": 0})
