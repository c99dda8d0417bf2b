"""Workspace, member and invite endpoints (contract §4.4-4.6).

Served under both ``/api/v1/ui/`` and ``/api/v1/``. Access to ``/workspaces/{workspace_id}/...``
is decided by the caller's membership in that workspace (``WorkspaceScopedMixin``): a
non-member gets 404 ``Workspace not found``, a too-low role 403. Views validate, call one
service and render.
"""

from __future__ import annotations

import uuid

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from stardag_site.api.authentication import UserTokenAuthentication, request_user
from stardag_site.api.bodies import validated_body
from stardag_site.api.errors import NotFound
from stardag_site.api.mixins import WorkspaceScopedMixin
from stardag_site.api.params import parse_uuid
from stardag_site.api.schema import error_responses
from workspaces import invites, services
from workspaces.models import Invite, InviteStatus, Role, Workspace, WorkspaceMember
from workspaces.serializers import (
    InviteCreateSerializer,
    InviteSerializer,
    MemberSerializer,
    MemberUpdateSerializer,
    WorkspaceCreateSerializer,
    WorkspaceDetailSerializer,
    WorkspaceSerializer,
    WorkspaceUpdateSerializer,
    WorkspaceWithRoleSerializer,
)


def path_uuid(name: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.UUID, OpenApiParameter.PATH)


WORKSPACE_ID = path_uuid("workspace_id")
MEMBER_ERRORS = error_responses(401, 403, 404, 422)


class WorkspaceView(WorkspaceScopedMixin, APIView):
    """Base for ``/workspaces/{workspace_id}/...``: internal token + membership."""


# --- Workspaces -------------------------------------------------------------------------------


@extend_schema(tags=["workspaces"])
class WorkspaceListView(APIView):
    """Accepts identity-provider tokens too: a brand-new user has no workspace token yet."""

    authentication_classes = [UserTokenAuthentication]

    @extend_schema(responses={200: WorkspaceWithRoleSerializer(many=True), **error_responses(401)},
                   summary="Workspaces the caller is a member of")
    def get(self, request: Request) -> Response:
        memberships = WorkspaceMember.objects.of_user(request.user)
        return Response(WorkspaceWithRoleSerializer(memberships, many=True).data)

    @extend_schema(request=WorkspaceCreateSerializer,
                   responses={201: WorkspaceSerializer, **error_responses(401, 403, 409, 422)},
                   summary="Create a shared workspace with its first environment")
    def post(self, request: Request) -> Response:
        data = validated_body(request, WorkspaceCreateSerializer)
        workspace = services.workspace_create(user=request_user(request), **data)
        return Response(WorkspaceSerializer(workspace).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["workspaces"], parameters=[WORKSPACE_ID])
class WorkspaceDetailView(WorkspaceView):
    @extend_schema(responses={200: WorkspaceDetailSerializer, **MEMBER_ERRORS})
    def get(self, request: Request, workspace_id: str) -> Response:
        workspace = Workspace.objects.with_counts().get(pk=self.membership().workspace_id)
        return Response(WorkspaceDetailSerializer(workspace).data)

    @extend_schema(request=WorkspaceUpdateSerializer,
                   responses={200: WorkspaceSerializer, **MEMBER_ERRORS})
    def patch(self, request: Request, workspace_id: str) -> Response:
        workspace = self.membership(Role.ADMIN).workspace
        data = validated_body(request, WorkspaceUpdateSerializer, required=False)
        workspace = services.workspace_update(workspace=workspace, name=data.get("name"),
                                              description=data.get("description"))
        return Response(WorkspaceSerializer(workspace).data)

    @extend_schema(responses={204: None, **MEMBER_ERRORS})
    def delete(self, request: Request, workspace_id: str) -> Response:
        services.workspace_delete(workspace=self.membership(Role.OWNER).workspace)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Members ----------------------------------------------------------------------------------


@extend_schema(tags=["members"], parameters=[WORKSPACE_ID])
class MemberListView(WorkspaceView):
    @extend_schema(responses={200: MemberSerializer(many=True), **MEMBER_ERRORS})
    def get(self, request: Request, workspace_id: str) -> Response:
        membership = self.membership()
        members = (
            WorkspaceMember.objects.filter(workspace_id=membership.workspace_id)
            .select_related("user")
            .order_by("created_at", "id")
        )
        return Response(MemberSerializer(members, many=True).data)


@extend_schema(tags=["members"], parameters=[WORKSPACE_ID, path_uuid("member_id")])
class MemberDetailView(WorkspaceView):
    def member(self, membership: WorkspaceMember, member_id: uuid.UUID) -> WorkspaceMember:
        member = (
            WorkspaceMember.objects.select_related("user", "workspace")
            .filter(pk=member_id, workspace_id=membership.workspace_id)
            .first()
        )
        if member is None:
            raise NotFound("Member not found")
        return member

    @extend_schema(request=MemberUpdateSerializer,
                   responses={200: MemberSerializer, **error_responses(400, 401, 403, 404, 422)})
    def patch(self, request: Request, workspace_id: str, member_id: str) -> Response:
        actor = self.membership(Role.ADMIN)
        target_id = parse_uuid(member_id, "member_id")
        role = validated_body(request, MemberUpdateSerializer)["role"]
        member = services.member_update(actor=actor, member=self.member(actor, target_id),
                                        role=role)
        return Response(MemberSerializer(member).data)

    @extend_schema(responses={204: None, **error_responses(400, 401, 403, 404, 422)})
    def delete(self, request: Request, workspace_id: str, member_id: str) -> Response:
        actor = self.membership()
        target_id = parse_uuid(member_id, "member_id")
        services.member_remove(actor=actor, member=self.member(actor, target_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Invites ----------------------------------------------------------------------------------


@extend_schema(tags=["invites"], parameters=[WORKSPACE_ID])
class InviteListView(WorkspaceView):
    @extend_schema(responses={200: InviteSerializer(many=True), **MEMBER_ERRORS})
    def get(self, request: Request, workspace_id: str) -> Response:
        membership = self.membership(Role.ADMIN)
        pending = (
            Invite.objects.filter(workspace_id=membership.workspace_id,
                                  status=InviteStatus.PENDING)
            .select_related("invited_by")
            .order_by("created_at", "id")
        )
        return Response(InviteSerializer(pending, many=True).data)

    @extend_schema(request=InviteCreateSerializer,
                   responses={201: InviteSerializer,
                              **error_responses(401, 403, 404, 409, 422, 429)})
    def post(self, request: Request, workspace_id: str) -> Response:
        actor = self.membership(Role.ADMIN)
        data = validated_body(request, InviteCreateSerializer)
        invite = invites.invite_create(actor=actor, email=data["email"], role=data["role"])
        return Response(InviteSerializer(invite).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["invites"], parameters=[WORKSPACE_ID, path_uuid("invite_id")])
class InviteDetailView(WorkspaceView):
    @extend_schema(responses={204: None, **MEMBER_ERRORS})
    def delete(self, request: Request, workspace_id: str, invite_id: str) -> Response:
        membership = self.membership(Role.ADMIN)
        invites.invite_cancel(workspace=membership.workspace,
                               invite_id=parse_uuid(invite_id, "invite_id"))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["invites"], parameters=[path_uuid("invite_id")], request=None)
class InviteAcceptView(APIView):
    """Accepts identity-provider tokens: the invitee may not have a workspace token yet."""

    authentication_classes = [UserTokenAuthentication]

    @extend_schema(responses={200: WorkspaceSerializer, **error_responses(401, 404, 422)})
    def post(self, request: Request, invite_id: str) -> Response:
        workspace = invites.invite_accept(invite_id=parse_uuid(invite_id, "invite_id"),
                                           user=request_user(request))
        return Response(WorkspaceSerializer(workspace).data)


@extend_schema(tags=["invites"], parameters=[path_uuid("invite_id")], request=None)
class InviteDeclineView(APIView):
    authentication_classes = [UserTokenAuthentication]

    @extend_schema(responses={204: None, **error_responses(401, 404, 422)})
    def post(self, request: Request, invite_id: str) -> Response:
        invites.invite_decline(invite_id=parse_uuid(invite_id, "invite_id"),
                               user=request_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

