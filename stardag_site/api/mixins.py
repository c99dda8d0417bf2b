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

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from rest_framework.authentication import BaseAuthentication
from rest_framework.views import APIView

from stardag_site.api.authentication import (
    InternalTokenAuthentication,
    Principal,
    SdkAuthentication,
    request_user,
)
from stardag_site.api.errors import Forbidden, NotFound
from stardag_site.api.params import parse_uuid
from workspaces.models import Environment, Role, WorkspaceMember, role_at_least

# The mixins only ever sit on DRF views; the type checker is told so (at run time: object).
if TYPE_CHECKING:
    _View = APIView
else:
    _View = object


class SdkScopedMixin(_View):
    """For views under /api/v1/builds, /tasks, /locks, /target-roots."""

    authentication_classes: Sequence[type[BaseAuthentication]] = [SdkAuthentication]

    @property
    def principal(self) -> Principal:
        return cast(Principal, self.request.auth)  # what our authentication classes store

    @property
    def environment(self) -> Environment:
        environment = self.principal.environment
        assert environment is not None, "SdkAuthentication always resolves an environment"
        return environment


class WorkspaceScopedMixin(_View):
    """For views under /api/v1/{ui/}workspaces/{workspace_id}/..."""

    authentication_classes: Sequence[type[BaseAuthentication]] = [InternalTokenAuthentication]
    kwargs: dict[str, Any]

    def membership(self, minimum: str = Role.MEMBER) -> WorkspaceMember:
        workspace_id = parse_uuid(self.kwargs["workspace_id"], "workspace_id")
        membership = (
            WorkspaceMember.objects.select_related("workspace")
            .filter(workspace_id=workspace_id, user=request_user(self.request))
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
