"""Environment, API-key and target-root endpoints (contract §4.7-4.9, §9).

Environments are always resolved through the path's workspace (``environment_of``), and keys
and roots through that environment, so an id from another workspace is a 404. The SDK's
``GET /api/v1/target-roots`` is scoped by its credential (``SdkScopedMixin``) and is routed
from ``accounts/urls.py`` so that it is served once, not under both workspace prefixes.
"""

from __future__ import annotations

import uuid

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from stardag_site.api.authentication import request_user
from stardag_site.api.bodies import validated_body
from stardag_site.api.errors import NotFound
from stardag_site.api.mixins import SdkScopedMixin
from stardag_site.api.params import parse_uuid, query_bool
from stardag_site.api.schema import error_responses
from workspaces import services
from workspaces.api_keys import api_key_create, api_key_revoke
from workspaces.models import ApiKey, Environment, Role, TargetRoot
from workspaces.serializers import (
    ApiKeyCreatedSerializer,
    ApiKeyCreateSerializer,
    ApiKeySerializer,
    EnvironmentCreateSerializer,
    EnvironmentSerializer,
    EnvironmentUpdateSerializer,
    SdkTargetRootSerializer,
    TargetRootCreateSerializer,
    TargetRootSerializer,
    TargetRootUpdateSerializer,
)
from workspaces.views import WORKSPACE_ID, WorkspaceView, path_uuid

ENVIRONMENT_ID = path_uuid("environment_id")
ERRORS = error_responses(401, 403, 404, 422)


# --- Environments -----------------------------------------------------------------------------


@extend_schema(tags=["environments"], parameters=[WORKSPACE_ID])
class EnvironmentListView(WorkspaceView):
    @extend_schema(responses={200: EnvironmentSerializer(many=True), **ERRORS})
    def get(self, request: Request, workspace_id: str) -> Response:
        membership = self.membership()
        environments = Environment.objects.filter(
            workspace_id=membership.workspace_id
        ).order_by("created_at", "id")
        return Response(EnvironmentSerializer(environments, many=True).data)

    @extend_schema(request=EnvironmentCreateSerializer,
                   responses={201: EnvironmentSerializer,
                              **error_responses(401, 403, 404, 409, 422)})
    def post(self, request: Request, workspace_id: str) -> Response:
        membership = self.membership(Role.ADMIN)
        data = validated_body(request, EnvironmentCreateSerializer)
        environment = services.environment_create(workspace=membership.workspace, **data)
        return Response(EnvironmentSerializer(environment).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["environments"], parameters=[WORKSPACE_ID, ENVIRONMENT_ID])
class EnvironmentDetailView(WorkspaceView):
    @extend_schema(responses={200: EnvironmentSerializer, **ERRORS})
    def get(self, request: Request, workspace_id: str, environment_id: str) -> Response:
        environment = self.environment_of(self.membership())
        return Response(EnvironmentSerializer(environment).data)

    @extend_schema(request=EnvironmentUpdateSerializer,
                   responses={200: EnvironmentSerializer, **ERRORS})
    def patch(self, request: Request, workspace_id: str, environment_id: str) -> Response:
        membership = self.membership(Role.ADMIN)
        parse_uuid(environment_id, "environment_id")
        data = validated_body(request, EnvironmentUpdateSerializer, required=False)
        environment = services.environment_update(
            environment=self.environment_of(membership),
            name=data.get("name"),
            description=data.get("description"),
            max_concurrent_locks=data.get("max_concurrent_locks"),
        )
        return Response(EnvironmentSerializer(environment).data)

    @extend_schema(responses={204: None, **error_responses(400, 401, 403, 404, 422)})
    def delete(self, request: Request, workspace_id: str, environment_id: str) -> Response:
        membership = self.membership(Role.ADMIN)
        services.environment_delete(environment=self.environment_of(membership))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- API keys ---------------------------------------------------------------------------------


@extend_schema(tags=["api-keys"], parameters=[WORKSPACE_ID, ENVIRONMENT_ID])
class ApiKeyListView(WorkspaceView):
    @extend_schema(
        parameters=[OpenApiParameter("include_revoked", OpenApiTypes.BOOL, default=False)],
        responses={200: ApiKeySerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, workspace_id: str, environment_id: str) -> Response:
        environment = self.environment_of(self.membership())
        keys = ApiKey.objects.filter(environment=environment).order_by("-created_at", "-id")
        if not query_bool(request, "include_revoked", False):
            keys = keys.active()
        return Response(ApiKeySerializer(keys, many=True).data)

    @extend_schema(request=ApiKeyCreateSerializer,
                   responses={201: ApiKeyCreatedSerializer, **ERRORS},
                   summary="Create an API key; the full key is only in this response")
    def post(self, request: Request, workspace_id: str, environment_id: str) -> Response:
        membership = self.membership(Role.ADMIN)
        parse_uuid(environment_id, "environment_id")
        name = validated_body(request, ApiKeyCreateSerializer)["name"]
        new_key = api_key_create(environment=self.environment_of(membership), name=name,
                                 created_by=request_user(request))
        body = {**ApiKeySerializer(new_key.api_key).data, "key": new_key.raw_key}
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema(tags=["api-keys"], parameters=[WORKSPACE_ID, ENVIRONMENT_ID, path_uuid("key_id")])
class ApiKeyDetailView(WorkspaceView):
    @extend_schema(responses={204: None, **ERRORS}, summary="Revoke an API key (idempotent)")
    def delete(self, request: Request, workspace_id: str, environment_id: str,
               key_id: str) -> Response:
        environment = self.environment_of(self.membership(Role.ADMIN))
        api_key = ApiKey.objects.filter(pk=parse_uuid(key_id, "key_id"),
                                        environment=environment).first()
        if api_key is None:
            raise NotFound("API key not found")
        api_key_revoke(api_key=api_key)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Target roots -----------------------------------------------------------------------------


@extend_schema(tags=["target-roots"], parameters=[WORKSPACE_ID, ENVIRONMENT_ID])
class TargetRootListView(WorkspaceView):
    @extend_schema(responses={200: TargetRootSerializer(many=True), **ERRORS})
    def get(self, request: Request, workspace_id: str, environment_id: str) -> Response:
        environment = self.environment_of(self.membership())
        roots = TargetRoot.objects.filter(environment=environment).order_by("created_at", "id")
        return Response(TargetRootSerializer(roots, many=True).data)

    @extend_schema(request=TargetRootCreateSerializer,
                   responses={201: TargetRootSerializer,
                              **error_responses(401, 403, 404, 409, 422)})
    def post(self, request: Request, workspace_id: str, environment_id: str) -> Response:
        membership = self.membership(Role.ADMIN)
        parse_uuid(environment_id, "environment_id")
        data = validated_body(request, TargetRootCreateSerializer)
        root = services.target_root_create(environment=self.environment_of(membership), **data)
        return Response(TargetRootSerializer(root).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["target-roots"],
               parameters=[WORKSPACE_ID, ENVIRONMENT_ID, path_uuid("root_id")])
class TargetRootDetailView(WorkspaceView):
    def root(self, environment: Environment, root_id: uuid.UUID) -> TargetRoot:
        root = TargetRoot.objects.filter(pk=root_id, environment=environment).first()
        if root is None:
            raise NotFound("Target root not found")
        return root

    @extend_schema(responses={200: TargetRootSerializer, **ERRORS})
    def get(self, request: Request, workspace_id: str, environment_id: str,
            root_id: str) -> Response:
        environment = self.environment_of(self.membership())
        root = self.root(environment, parse_uuid(root_id, "root_id"))
        return Response(TargetRootSerializer(root).data)

    @extend_schema(request=TargetRootUpdateSerializer,
                   responses={200: TargetRootSerializer,
                              **error_responses(401, 403, 404, 409, 422)})
    def patch(self, request: Request, workspace_id: str, environment_id: str,
              root_id: str) -> Response:
        membership = self.membership(Role.ADMIN)
        parse_uuid(environment_id, "environment_id")
        root_uuid = parse_uuid(root_id, "root_id")
        data = validated_body(request, TargetRootUpdateSerializer, required=False)
        root = self.root(self.environment_of(membership), root_uuid)
        root = services.target_root_update(root=root, name=data.get("name"),
                                           uri_prefix=data.get("uri_prefix"))
        return Response(TargetRootSerializer(root).data)

    @extend_schema(responses={204: None, **ERRORS})
    def delete(self, request: Request, workspace_id: str, environment_id: str,
               root_id: str) -> Response:
        environment = self.environment_of(self.membership(Role.ADMIN))
        services.target_root_delete(root=self.root(environment, parse_uuid(root_id, "root_id")))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["target-roots"], parameters=[WORKSPACE_ID])
class WorkspaceTargetRootListView(WorkspaceView):
    """Legacy (§9): the roots of every environment of the workspace."""

    @extend_schema(responses={200: TargetRootSerializer(many=True), **ERRORS})
    def get(self, request: Request, workspace_id: str) -> Response:
        membership = self.membership()
        roots = TargetRoot.objects.filter(
            environment__workspace_id=membership.workspace_id
        ).order_by("created_at", "id")
        return Response(TargetRootSerializer(roots, many=True).data)


@extend_schema(tags=["target-roots"])
class SdkTargetRootListView(SdkScopedMixin, APIView):
    """The caller's environment's roots, for any SDK credential (an API key in CI)."""

    @extend_schema(
        parameters=[OpenApiParameter(
            "environment_id", OpenApiTypes.STR, required=False,
            description="Environment UUID or slug; required with a bearer token, ignored "
            "with an API key.",
        )],
        responses={200: SdkTargetRootSerializer(many=True), **error_responses(400, 401, 403, 404)},
    )
    def get(self, request: Request) -> Response:
        roots = TargetRoot.objects.for_environment(self.environment).order_by("created_at", "id")
        return Response(list(roots.values("name", "uri_prefix")))
