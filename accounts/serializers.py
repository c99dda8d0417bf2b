"""Bodies of the auth and user endpoints (contract §4.2-4.3)."""

from __future__ import annotations

from rest_framework import serializers

from stardag_site.api.fields import StrictUUIDField
from workspaces.serializers import WorkspaceWithRoleSerializer


class JwkSerializer(serializers.Serializer):
    kty = serializers.CharField()
    use = serializers.CharField()
    alg = serializers.CharField()
    kid = serializers.CharField()
    n = serializers.CharField()
    e = serializers.CharField()


class JwksSerializer(serializers.Serializer):
    keys = JwkSerializer(many=True)


class AuthConfigSerializer(serializers.Serializer):
    oidc_issuer = serializers.CharField(help_text="Issuer URL as clients see it.")
    oidc_client_id = serializers.CharField(help_text="Public OIDC client id of the CLI.")


class ExchangeSerializer(serializers.Serializer):
    workspace_id = StrictUUIDField()


class AccessTokenSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    token_type = serializers.CharField()
    expires_in = serializers.IntegerField(help_text="Lifetime of the token in seconds.")


class UserSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    external_id = serializers.CharField(allow_null=True)
    email = serializers.CharField()
    display_name = serializers.CharField(allow_null=True)


class MeSerializer(serializers.Serializer):
    user = UserSerializer()
    workspaces = WorkspaceWithRoleSerializer(many=True)
