"""Audit entries for the admin's form edits that do not go through an audited service.

The admin writes a ``LogEntry`` for every add, change and delete it performs (with the fields
and inline objects it touched). Most audited admin operations call the services, which record
their own entries with the admin's session as the credential: API keys (created and revoked
by ``api_key_create`` / ``api_key_revoke``), role changes and removals in a member inline
(``member_update`` / ``member_remove``), cancelled invites and force-released locks. What is
left is turned into audit entries here: invites added, edited or deleted with the invite form,
and memberships *added* in a workspace's (or user's) member inline.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.db.models.signals import post_save
from django.dispatch import receiver

from audit.services import audit_record_raw

_VERBS = {ADDITION: "created", CHANGE: "changed", DELETION: "deleted"}
_AUDITED_MODELS = {("workspaces", "invite"): "invite"}


def _messages(entry: LogEntry) -> list[dict[str, Any]]:
    try:
        parsed = json.loads(entry.change_message or "[]")
    except ValueError:
        return []
    return parsed if isinstance(parsed, list) else []


@receiver(post_save, sender=LogEntry, dispatch_uid="audit_admin_log_entries")
def audit_admin_log_entry(sender: Any, instance: LogEntry, created: bool, **kwargs: Any) -> None:
    if not created or instance.content_type is None:
        return
    key = (instance.content_type.app_label, instance.content_type.model)
    messages = _messages(instance)
    if key in _AUDITED_MODELS:
        fields = [field for item in messages for field in item.get("changed", {}).get("fields", [])]
        audit_record_raw(
            action=f"{_AUDITED_MODELS[key]}.{_VERBS.get(instance.action_flag, 'changed')}",
            target_type=instance.content_type.model, target_id=instance.object_id or "",
            target_repr=instance.object_repr,
            details={"fields": fields} if fields else {},
            workspace_id=_workspace_id(key, instance.object_id), admin_user=instance.user,
        )
    for item in messages:
        added = item.get("added")
        if isinstance(added, dict) and added.get("name") == "workspace member":
            audit_record_raw(
                action="member.added", target_type="workspacemember", target_id="",
                target_repr=str(added.get("object", ""))[:255],
                details={"via": f"{instance.content_type.model} {instance.object_repr}"},
                workspace_id=instance.object_id if key == ("workspaces", "workspace") else None,
                admin_user=instance.user,
            )


def _workspace_id(key: tuple[str, str], object_id: str | None) -> Any:
    from workspaces.models import Invite

    if not object_id:
        return None
    return Invite.objects.filter(pk=object_id).values_list("workspace_id", flat=True).first()
