"""Tenancy scoping, in one place (docs/contract.md §3.5-§3.7).

* SDK endpoints run in exactly one environment, fixed by the credential
  (``request.auth.environment``, ``SdkScopedMixin.environment``). Every query of tenant data
  starts from the model's ``for_environment()`` queryset method, in views and services alike;
  views never build an unscoped queryset of tenant data.
* Workspace endpoints are decided by the caller's membership in the workspace of the path
  (§3.7): not a member → 404 ``Workspace not found`` (existence is not revealed), too low a
  role → 403. Environments, keys and roots are then resolved *through* that workspace.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request

from stardag_site.api.authentication import (
    InternalTokenAuthentication,
    Principal,
    SdkAuthentication,
)
from stardag_site.api.errors import Forbidden, NotFound
from stardag_site.api.params import parse_uuid
from workspaces.models import Environment, Role, WorkspaceMember, role_at_least


class SdkScopedMixin:
    """For views under /api/v1/builds, /tasks, /locks, /target-roots."""

    authentication_classes = [SdkAuthentication]
    request: Request

    @property
    def principal(self) -> Principal:
        return self.request.auth  # type: ignore[return-value]

    @property
    def environment(self) -> Environment:
        environment = self.principal.environment
        assert environment is not None, "SdkAuthentication always resolves an environment"
        return environment


class WorkspaceScopedMixin:
    """For views under /api/v1/{ui/}workspaces/{workspace_id}/..."""

    authentication_classes = [InternalTokenAuthentication]
    request: Request
    kwargs: dict[str, Any]

    def membership(self, minimum: str = Role.MEMBER) -> WorkspaceMember:
        workspace_id = parse_uuid(self.kwargs["workspace_id"], "workspace_id")
        membership = (
            WorkspaceMember.objects.select_related("workspace")
            .filter(workspace_id=workspace_id, user=self.request.user)
            .first()
        )
        if membership is None:
            raise NotFound("Workspace not found")
        if not role_at_least(membership.role, minimum):
            raise Forbidden(f"Requires {minimum} role or higher")
        return membership

    def environment_of(self, membership: WorkspaceMember) -> Environment:
        environment_id = parse_uuid(self.kwargs["environment_id"], "environment_id")
        environment = Environment.objects.filter(
            workspace_id=membership.workspace_id, pk=environment_id
        ).first()
        if environment is None:
            raise NotFound("Environment not found")
        return environment
