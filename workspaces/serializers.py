"""Request validation and response shapes for the workspace endpoints (contract §4.4-4.9).

Input serializers only validate (their errors become the contract's 422 list in the project
exception handler); output serializers render the contract's objects and document them in the
OpenAPI schema.
"""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from rest_framework import serializers

from stardag_site.api.fields import StrictCharField, StrictIntegerField, UtcTimestampField
from workspaces.models import SLUG_PATTERN, Role

# --- Fields -----------------------------------------------------------------------------------

SLUG_MESSAGE = (
    "Slug must be 2-64 characters of lower-case letters, digits, '-' or '_', starting and "
    "ending with a letter or digit"
)


class SlugStringField(StrictCharField):
    """Reports only the first broken rule (a too-short slug is not also a pattern mismatch)."""

    def run_validators(self, value: Any) -> None:
        try:
            super().run_validators(value)
        except serializers.ValidationError as exc:
            first = exc.detail[0] if isinstance(exc.detail, list) else exc.detail
            raise serializers.ValidationError([first]) from None


def slug_field(**kwargs: Any) -> StrictCharField:
    """The slug rule of §2.2 for workspaces and environments."""
    return SlugStringField(
        min_length=2, max_length=64,
        validators=[RegexValidator(SLUG_PATTERN, SLUG_MESSAGE, code="value_error")], **kwargs,
    )


def name_field(**kwargs: Any) -> StrictCharField:
    return StrictCharField(min_length=1, max_length=255, **kwargs)


ROLE_CHOICES = [role.value for role in Role]


# --- Input ------------------------------------------------------------------------------------


class WorkspaceCreateSerializer(serializers.Serializer):
    name = name_field()
    slug = slug_field()
    description = StrictCharField(required=False, allow_null=True, allow_blank=True)
    initial_environment_name = name_field(required=False, allow_null=True)
    initial_environment_slug = slug_field(required=False, allow_null=True)
    initial_target_root_name = name_field(required=False, allow_null=True)
    initial_target_root_uri = StrictCharField(required=False, allow_null=True, min_length=1,
                                              max_length=512)


class WorkspaceUpdateSerializer(serializers.Serializer):
    name = name_field(required=False, allow_null=True)
    description = StrictCharField(required=False, allow_null=True, allow_blank=True)


class MemberUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=ROLE_CHOICES)


def _validate_email(value: str) -> str:
    value = value.strip()
    local, at, domain = value.partition("@")
    if not at or not local or not domain or "@" in domain:
        raise serializers.ValidationError(
            "value is not a valid email address: it must contain one @ with text on both sides",
            code="value_error",
        )
    return value.lower()


class InviteCreateSerializer(serializers.Serializer):
    email = StrictCharField(max_length=255, validators=[_validate_email])
    role = serializers.ChoiceField(choices=ROLE_CHOICES, default=Role.MEMBER)

    def validate_email(self, value: str) -> str:
        return value.strip().lower()


class EnvironmentCreateSerializer(serializers.Serializer):
    name = name_field()
    slug = slug_field()
    description = StrictCharField(required=False, allow_null=True, allow_blank=True)


class EnvironmentUpdateSerializer(serializers.Serializer):
    name = name_field(required=False, allow_null=True)
    description = StrictCharField(required=False, allow_null=True, allow_blank=True)
    max_concurrent_locks = StrictIntegerField(
        required=False, allow_null=True, min_value=0, max_value=2**31 - 1,  # an int column
        help_text="Cap on concurrently held locks; 0 removes the limit.",
    )


class ApiKeyCreateSerializer(serializers.Serializer):
    name = name_field()


class TargetRootCreateSerializer(serializers.Serializer):
    name = name_field()
    uri_prefix = StrictCharField(min_length=1, max_length=512)


class TargetRootUpdateSerializer(serializers.Serializer):
    name = name_field(required=False, allow_null=True)
    uri_prefix = StrictCharField(required=False, allow_null=True, min_length=1, max_length=512)


# --- Output -----------------------------------------------------------------------------------


class WorkspaceSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    slug = serializers.CharField()
    description = serializers.CharField(allow_null=True)
    is_personal = serializers.BooleanField()


class WorkspaceDetailSerializer(WorkspaceSerializer):
    member_count = serializers.IntegerField()
    environment_count = serializers.IntegerField()


class WorkspaceWithRoleSerializer(serializers.Serializer):
    """A workspace as listed for the caller (``/me``, ``GET /workspaces``); from a membership."""

    id = serializers.UUIDField(source="workspace.id")
    name = serializers.CharField(source="workspace.name")
    slug = serializers.CharField(source="workspace.slug")
    role = serializers.ChoiceField(choices=ROLE_CHOICES)
    is_personal = serializers.BooleanField(source="workspace.is_personal")


class MemberSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    user_id = serializers.UUIDField()
    email = serializers.CharField(source="user.email")
    display_name = serializers.CharField(source="user.display_name", allow_null=True)
    role = serializers.ChoiceField(choices=ROLE_CHOICES)


def _inviter_email(invite: Any) -> str | None:
    return invite.invited_by.email if invite.invited_by_id else None


class InviteSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.CharField()
    role = serializers.ChoiceField(choices=ROLE_CHOICES)
    status = serializers.CharField()
    invited_by_email = serializers.SerializerMethodField()

    def get_invited_by_email(self, invite: Any) -> str | None:
        return _inviter_email(invite)


class MyInviteSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    workspace_id = serializers.UUIDField()
    workspace_name = serializers.CharField(source="workspace.name")
    role = serializers.ChoiceField(choices=ROLE_CHOICES)
    invited_by_email = serializers.SerializerMethodField()

    def get_invited_by_email(self, invite: Any) -> str | None:
        return _inviter_email(invite)


class EnvironmentSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    workspace_id = serializers.UUIDField()
    name = serializers.CharField()
    slug = serializers.CharField()
    description = serializers.CharField(allow_null=True)
    owner_id = serializers.UUIDField(allow_null=True)


class ApiKeySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    environment_id = serializers.UUIDField()
    name = serializers.CharField()
    key_prefix = serializers.CharField()
    created_by_id = serializers.UUIDField(allow_null=True)
    created_at = UtcTimestampField()
    last_used_at = UtcTimestampField(allow_null=True)
    revoked_at = UtcTimestampField(allow_null=True)


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(help_text="The full key. Shown only in this response.")


class TargetRootSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    environment_id = serializers.UUIDField()
    name = serializers.CharField()
    uri_prefix = serializers.CharField()
    created_at = UtcTimestampField()


class SdkTargetRootSerializer(serializers.Serializer):
    name = serializers.CharField()
    uri_prefix = serializers.CharField()
