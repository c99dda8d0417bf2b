"""Auth and user endpoints (contract §4.2-4.3).

The root-level aliases (``/.well-known/jwks.json``, ``/auth/config``, ``/auth/exchange``) reuse
these views through subclasses that are left out of the OpenAPI schema, so each operation is
documented once, under ``/api/v1``.
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.serializers import (
    AccessTokenSerializer,
    AuthConfigSerializer,
    ExchangeSerializer,
    JwksSerializer,
    MeSerializer,
)
from accounts.services import access_token_exchange
from accounts.tokens import public_jwks
from stardag_site.api.authentication import (
    OidcTokenAuthentication,
    UserTokenAuthentication,
    request_user,
)
from stardag_site.api.bodies import validated_body
from stardag_site.api.schema import error_responses
from workspaces.invites import invites_pending_for
from workspaces.models import WorkspaceMember
from workspaces.serializers import MyInviteSerializer


class PublicView(APIView):
    authentication_classes: list[type] = []


class JwksView(PublicView):
    @extend_schema(tags=["auth"], responses={200: JwksSerializer},
                   summary="Public keys that verify our access tokens")
    def get(self, request: Request) -> Response:
        response = Response(public_jwks())
        response["Cache-Control"] = "public, max-age=300"
        return response


class AuthConfigView(PublicView):
    @extend_schema(tags=["auth"], responses={200: AuthConfigSerializer},
                   summary="Identity-provider settings for the CLI login")
    def get(self, request: Request) -> Response:
        issuer = settings.OIDC_EXTERNAL_ISSUER_URL or settings.OIDC_ISSUER_URL
        return Response({"oidc_issuer": issuer, "oidc_client_id": settings.OIDC_SDK_CLIENT_ID})


class ExchangeView(APIView):
    """Swap an identity-provider access token for a workspace-scoped internal token."""

    authentication_classes = [OidcTokenAuthentication]

    @extend_schema(
        tags=["auth"], request=ExchangeSerializer,
        responses={200: AccessTokenSerializer, **error_responses(400, 401, 403, 409, 422)},
        summary="Exchange an OIDC access token for a workspace-scoped access token",
    )
    def post(self, request: Request) -> Response:
        workspace_id = validated_body(request, ExchangeSerializer)["workspace_id"]
        token, expires_in = access_token_exchange(user=request_user(request),
                                                  workspace_id=workspace_id)
        return Response({"access_token": token, "token_type": "Bearer",
                         "expires_in": expires_in})


class MeView(APIView):
    authentication_classes = [UserTokenAuthentication]

    @extend_schema(tags=["me"], responses={200: MeSerializer, **error_responses(400, 401, 409)},
                   summary="The caller and their workspaces")
    def get(self, request: Request) -> Response:
        memberships = WorkspaceMember.objects.of_user(request.user)
        return Response(MeSerializer({"user": request.user, "workspaces": memberships}).data)


class MyInvitesView(APIView):
    authentication_classes = [UserTokenAuthentication]

    @extend_schema(tags=["me"], responses={200: MyInviteSerializer(many=True),
                                           **error_responses(400, 401, 409)},
                   summary="Pending invites addressed to the caller's e-mail")
    def get(self, request: Request) -> Response:
        invites = invites_pending_for(request_user(request))
        return Response(MyInviteSerializer(invites, many=True).data)


@extend_schema(exclude=True)
class RootJwksView(JwksView):
    pass


@extend_schema(exclude=True)
class RootAuthConfigView(AuthConfigView):
    pass


@extend_schema(exclude=True)
class RootExchangeView(ExchangeView):
    pass
