"""Wire shapes of builds and their events (contract §4.10), and the build request bodies."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.validators import RegexValidator
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from builds.models import Build, Event
from stardag_site.api.fields import StrictCharField, UtcTimestampField, utc_timestamp
from stardag_site.db.rows import fetch_rows
from stardag_site.db.text import (
    JsonText,
    UtcTimestampText,
    UuidText,
    json_fragment,
    timestamp_text,
    uuid_text,
)

BUILD_NAME_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


class TriggerUserSerializer(serializers.Serializer):
    id = serializers.CharField(source="external_id")
    email = serializers.EmailField()
    display_name = serializers.CharField(allow_null=True)


def trigger_users(builds: Iterable[Build]) -> dict[str, User]:
    """Users named by the builds' manual-override triggers, in one query (or none)."""
    subjects = {build.status_trigger for build in builds if build.status_trigger}
    if not subjects:
        return {}
    return {str(user.external_id): user
            for user in User.objects.filter(external_id__in=subjects)}


class BuildSerializer(serializers.ModelSerializer):
    """Build (§4.10). Pass ``context={"trigger_users": trigger_users(builds)}`` so
    ``status_triggered_by_user`` costs no query per build.
    """

    environment_id = serializers.UUIDField(read_only=True)
    user_id = serializers.UUIDField(read_only=True, allow_null=True)
    root_task_ids = serializers.ListField(child=serializers.CharField(), read_only=True)
    created_at = UtcTimestampField()
    started_at = UtcTimestampField(allow_null=True)
    completed_at = UtcTimestampField(allow_null=True)
    status_triggered_by_user = serializers.SerializerMethodField()
    scope_key = serializers.SerializerMethodField()
    build_config = serializers.JSONField(read_only=True, allow_null=True)
    executor_metadata = serializers.JSONField(read_only=True, allow_null=True)
    last_activity_at = serializers.SerializerMethodField()
    latest_error_message = serializers.SerializerMethodField()

    class Meta:
        model = Build
        fields = [
            "id", "environment_id", "user_id", "name", "description", "commit_hash",
            "root_task_ids", "created_at", "status", "started_at", "completed_at",
            "status_triggered_by_user",
            # Additive, for SDK ≥0.10 (SDK-WIRE C1, C8, N5): 0.26 refuses a build whose
            # answer lacks ``scope_key``.
            "scope_key", "build_config", "is_resumed", "executor_metadata",
            # Shown by the 0.20+ CLI (C8).
            "last_activity_at", "latest_error_message",
        ]
        read_only_fields = fields

    def get_scope_key(self, build: Build) -> str:
        return build.scope_key or f"build:{build.pk}"

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_last_activity_at(self, build: Build) -> str | None:
        """The latest event's time (annotated on list and retrieve); an answer to a build's own
        transition falls back to that transition's stamp, which is its latest event."""
        value = getattr(build, "last_activity_at", None)
        if value is None:
            stamps = [stamp for stamp in (build.started_at, build.completed_at) if stamp]
            value = max(stamps) if stamps else None
        return UtcTimestampField().to_representation(value) if value else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_latest_error_message(self, build: Build) -> str | None:
        """The failure reason while the build is failed (blank reasons are not reasons)."""
        if build.status != "failed":
            return None
        return getattr(build, "latest_error_message", None) or None

    @extend_schema_field(TriggerUserSerializer(allow_null=True))
    def get_status_triggered_by_user(self, build: Build) -> dict[str, Any] | None:
        if not build.status_trigger:
            return None
        users = self.context.get("trigger_users")
        if users is None:
            users = trigger_users([build])
        user = users.get(build.status_trigger)
        return TriggerUserSerializer(user).data if user is not None else None


def _trigger_user_body(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.external_id, "email": user.email, "display_name": user.display_name}


def build_dict(build: Build, users: dict[str, User]) -> dict[str, Any]:
    """``BuildSerializer``'s output as a plain dict (a test pins the equality): a serializer
    instance per request cost more CPU than the rest of ``GET /builds/{id}`` together."""
    trigger = users.get(build.status_trigger) if build.status_trigger else None
    return {
        "id": str(build.id),
        "environment_id": str(build.environment_id),
        "user_id": str(build.user_id) if build.user_id is not None else None,
        "name": build.name,
        "description": build.description,
        "commit_hash": build.commit_hash,
        "root_task_ids": [str(value) for value in build.root_task_ids],
        "created_at": utc_timestamp(build.created_at),
        "status": build.status,
        "started_at": utc_timestamp(build.started_at),
        "completed_at": utc_timestamp(build.completed_at),
        "status_triggered_by_user": _trigger_user_body(trigger),
        "scope_key": build.scope_key or f"build:{build.pk}",
        "build_config": build.build_config,
        "is_resumed": build.is_resumed,
        "executor_metadata": build.executor_metadata,
        "last_activity_at": _last_activity(build),
        "latest_error_message": ((getattr(build, "latest_error_message", None) or None)
                                 if build.status == "failed" else None),
    }


def _last_activity(build: Build) -> str | None:
    """As ``BuildSerializer.get_last_activity_at``: the annotated latest event time, else the
    build's own latest transition stamp."""
    value = getattr(build, "last_activity_at", None)
    if value is None:
        stamps = [stamp for stamp in (build.started_at, build.completed_at) if stamp]
        value = max(stamps) if stamps else None
    return utc_timestamp(value)


def build_body(builds: list[Build] | Build) -> Any:
    """Serialized build(s) with the trigger users fetched once for the whole list."""
    items = builds if isinstance(builds, list) else [builds]
    users = trigger_users(items)
    if isinstance(builds, list):
        return [build_dict(build, users) for build in builds]
    return build_dict(builds, users)


class BuildListSerializer(serializers.Serializer):
    """Page envelope of ``GET /builds`` (for the schema)."""

    builds = BuildSerializer(many=True)
    total = serializers.IntegerField()
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()


class BuildCreateSerializer(serializers.Serializer):
    """``POST /builds``. ``environment_id``/``user_id`` in the body are ignored by design."""

    commit_hash = StrictCharField(max_length=255, allow_null=True, allow_blank=True,
                                  required=False, default=None, trim_whitespace=False)
    # Entries are task ids (at most 64 characters, like ``Task.task_id``); longer text could
    # not fit the root-task index row on PostgreSQL.
    root_task_ids = serializers.ListField(
        child=StrictCharField(allow_blank=True, trim_whitespace=False, max_length=64),
        required=False, default=list,
    )
    description = StrictCharField(allow_null=True, allow_blank=True, required=False,
                                  default=None, trim_whitespace=False)
    scope_key = serializers.CharField(max_length=255, allow_null=True, required=False,
                                      default=None, trim_whitespace=False)
    build_config = serializers.DictField(allow_null=True, required=False, default=None)
    executor_metadata = serializers.DictField(allow_null=True, required=False, default=None)


class BuildScopeSerializer(serializers.Serializer):
    """``PUT /builds/{id}/scope`` (SDK-WIRE N28)."""

    scope_key = serializers.CharField(min_length=1, max_length=255, trim_whitespace=False)
    build_config = serializers.DictField(allow_null=True, required=False, default=None)


class BuildRootsSerializer(serializers.Serializer):
    """``POST /builds/{id}/roots`` (N7): root task ids to append."""

    root_task_ids = serializers.ListField(
        child=serializers.CharField(min_length=1, max_length=64, trim_whitespace=False),
        max_length=1000,
    )


class BuildCancelResultSerializer(BuildSerializer):
    """``POST /builds/{id}/cancel?cascade=true``: the build plus the tasks cancelled with it."""

    # Only present with ``cascade=true``: not read-only, so the schema does not mark them required.
    cascaded_task_ids = serializers.ListField(child=serializers.CharField(), required=False)
    cascaded_task_count = serializers.IntegerField(required=False)

    class Meta(BuildSerializer.Meta):
        fields = [*BuildSerializer.Meta.fields, "cascaded_task_ids", "cascaded_task_count"]
        read_only_fields = fields


class BulkCancelSerializer(serializers.Serializer):
    """``POST /builds/bulk-cancel`` (N13). At least one of ``build_ids``/``idle_for_seconds``."""

    include_reactive = serializers.BooleanField(required=False, default=False)
    cascade = serializers.BooleanField(required=False, default=False)
    dry_run = serializers.BooleanField(required=False, default=False)
    limit = serializers.IntegerField(min_value=1, max_value=1000, required=False, default=100)
    build_ids = serializers.ListField(child=serializers.UUIDField(), required=False,
                                      allow_null=True, default=None, max_length=1000)
    idle_for_seconds = serializers.IntegerField(min_value=60, required=False, allow_null=True,
                                                default=None)
    reactive_app_name = serializers.CharField(required=False, allow_null=True, default=None)
    reason = serializers.CharField(required=False, allow_null=True, default=None,
                                   max_length=2000)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["build_ids"] is None and attrs["idle_for_seconds"] is None:
            raise serializers.ValidationError("Give build_ids or idle_for_seconds (or both).")
        return attrs


class BulkCancelBuildSerializer(serializers.Serializer):
    build_id = serializers.UUIDField()
    name = serializers.CharField()
    last_activity_at = UtcTimestampField(allow_null=True)
    reactive_app_name = serializers.CharField(allow_null=True)
    cascaded_task_ids = serializers.ListField(child=serializers.CharField())


class BulkCancelResultSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    builds = BulkCancelBuildSerializer(many=True)
    build_count = serializers.IntegerField()
    task_count = serializers.IntegerField()
    skipped = serializers.DictField(child=serializers.CharField())
    truncated = serializers.BooleanField()


class BuildUpdateSerializer(serializers.Serializer):
    """Legacy ``PATCH /builds/{id}`` (§9): absent keys are left unchanged."""

    name = StrictCharField(
        max_length=64, required=False,
        validators=[RegexValidator(BUILD_NAME_PATTERN, code="value_error", message=(
            "Name must be lower-case words of letters and digits joined by '-'."))],
    )
    description = StrictCharField(allow_null=True, allow_blank=True, required=False,
                                  trim_whitespace=False)
    commit_hash = StrictCharField(max_length=255, allow_null=True, allow_blank=True,
                                  required=False, trim_whitespace=False)


class EventSerializer(serializers.ModelSerializer):
    """Event (§4.10.5); ``task_id`` is the task's INTERNAL id."""

    build_id = serializers.UUIDField(read_only=True)
    task_id = serializers.UUIDField(read_only=True, allow_null=True)
    created_at = UtcTimestampField()
    event_metadata = serializers.JSONField(read_only=True, allow_null=True)

    class Meta:
        model = Event
        fields = ["id", "build_id", "task_id", "event_type", "created_at", "error_message",
                  "event_metadata"]
        read_only_fields = fields


def event_row() -> tuple[Any, ...]:
    """``values_list`` arguments for ``event_dicts`` (text from PostgreSQL, see
    ``stardag_site.db.text``)."""
    return (UuidText("id"), UuidText("build_id"), UuidText("task_id"), "event_type",
            UtcTimestampText("created_at"), "error_message", JsonText("event_metadata"))


EVENT_ORDER = ("created_at", "id")


def event_list_body(events: QuerySet[Event]) -> list[dict[str, Any]]:
    """The JSON list of ``events`` (oldest first), as ``EventSerializer(many=True)`` writes it."""
    return event_dicts(fetch_rows(events.order_by(*EVENT_ORDER).values_list(*event_row())))


def event_dicts(rows: Iterable[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """``EventSerializer(many=True)``'s JSON from ``values_list(*event_row())`` rows (a test
    pins the equality); no model instance or serializer per event."""
    return [
        {"id": uuid_text(pk), "build_id": uuid_text(build_id), "task_id": uuid_text(task_id),
         "event_type": event_type, "created_at": timestamp_text(created_at),
         "error_message": error_message, "event_metadata": json_fragment(metadata)}
        for pk, build_id, task_id, event_type, created_at, error_message, metadata in rows
    ]
