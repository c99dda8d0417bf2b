"""``audit_record``: one call line in each service whose action is audited.

The actor is not passed in: it is the caller of the request being served (read from
``stardag_site.request_context.current_request``: the user and credential DRF or the admin
authenticated), or the operator of a management command (``audit_cli``). The entry is written
in the service's own transaction, so a rolled-back action leaves no entry.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import models

from audit.models import AuditEntry, Source
from stardag_site.request_context import credential_of, current_request

_cli_operator: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "stardag_audit_cli", default=None
)


@contextmanager
def audit_cli(operator: str) -> Iterator[None]:
    """Attribute the audited actions inside to a command-line operator (e.g. ``apikey``)."""
    token = _cli_operator.set(operator)
    try:
        yield
    finally:
        _cli_operator.reset(token)


def _workspace_of(target: models.Model) -> Any:
    for path in ("workspace", "environment.workspace"):
        value: Any = target
        for part in path.split("."):
            value = getattr(value, part, None)
        if value is not None:
            return value
    return None


def audit_record(*, action: str, target: models.Model, details: dict[str, Any] | None = None,
                 workspace: Any = None) -> AuditEntry:
    """Write one audit entry for ``action`` on ``target`` by the current actor."""
    workspace = workspace if workspace is not None else _workspace_of(target)
    return audit_record_raw(
        action=action, target_type=target._meta.model_name or "", target_id=str(target.pk or ""),
        target_repr=str(target), details=details,
        workspace_id=getattr(workspace, "pk", None), workspace_slug=getattr(workspace, "slug", ""),
    )


def audit_record_raw(*, action: str, target_type: str, target_id: str, target_repr: str,
                     details: dict[str, Any] | None = None, workspace_id: Any = None,
                     workspace_slug: str = "", admin_user: Any = None) -> AuditEntry:
    """``audit_record`` for a target known only by type, id and text (admin log entries, whose
    ``admin_user`` is the actor)."""
    request = current_request.get()
    kind, credential_id, _ = credential_of(request)
    user = getattr(request, "user", None) if request is not None else None
    actor = user if user is not None and user.is_authenticated else None
    if admin_user is not None:
        source, actor, kind, credential_id = Source.ADMIN, admin_user, "session", str(
            admin_user.pk)
    elif request is None:
        source, kind, credential_id = Source.CLI, "cli", _cli_operator.get() or "manage.py"
    elif request.path.startswith("/admin/"):
        source = Source.ADMIN
    else:
        source = Source.API
    if workspace_id is not None and not workspace_slug:
        from workspaces.models import Workspace

        workspace_slug = (Workspace.objects.filter(pk=workspace_id)
                          .values_list("slug", flat=True).first() or "")
    return AuditEntry.objects.create(
        action=action,
        source=source,
        actor=actor,
        actor_email=getattr(actor, "email", "") or "",
        credential_kind=kind or "",
        credential_id=credential_id or "",
        workspace_id=workspace_id if workspace_slug else None,
        workspace_slug=workspace_slug or "",
        target_type=target_type,
        target_id=target_id,
        target_repr=target_repr[:255],
        details=details or {},
        request_id=getattr(request, "request_id", "") if request is not None else "",
    )
