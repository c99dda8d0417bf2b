"""Plain factory functions for test data (real rows, real database)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from rest_framework.test import APIClient

from accounts.models import User
from accounts.tokens import mint_access_token
from workspaces.api_keys import api_key_create
from workspaces.models import Environment, Role, Workspace, WorkspaceMember

_seq = itertools.count(1)


def make_user(email: str | None = None, *, external_id: str | None = None,
              display_name: str | None = None, email_verified: bool = True) -> User:
    """A user as the identity provider made them: by default with a verified address."""
    n = next(_seq)
    email = email or f"user{n}@example.com"
    return User.objects.create(
        email=email,
        external_id=external_id if external_id is not None else f"sub-{n}",
        display_name=display_name,
        email_verified=email_verified,
    )


def make_workspace(owner: User | None = None, *, slug: str | None = None, name: str | None = None,
                   env_slug: str = "default", is_personal: bool = False) -> Workspace:
    n = next(_seq)
    workspace = Workspace.objects.create(
        name=name or f"Workspace {n}", slug=slug or f"ws-{n}", is_personal=is_personal,
        created_by=owner,
    )
    if owner is not None:
        WorkspaceMember.objects.create(workspace=workspace, user=owner, role=Role.OWNER)
    Environment.objects.create(workspace=workspace, name=env_slug.title(), slug=env_slug)
    return workspace


def make_environment(
    workspace: Workspace, slug: str | None = None, **fields: object
) -> Environment:
    slug = slug or f"env-{next(_seq)}"
    return Environment.objects.create(workspace=workspace, name=slug.title(), slug=slug, **fields)


def add_member(workspace: Workspace, user: User, role: str = Role.MEMBER) -> WorkspaceMember:
    return WorkspaceMember.objects.create(workspace=workspace, user=user, role=role)


def make_api_key(environment: Environment, name: str = "test key") -> str:
    """Create a key and return the raw secret."""
    return api_key_create(environment=environment, name=name).raw_key


def internal_token(user: User, workspace: Workspace) -> str:
    token, _ = mint_access_token(user_id=user.id, workspace_id=workspace.id)
    return token


def bearer_client(token: str) -> APIClient:
    """A client that sends ``Authorization: Bearer <token>``."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def api_key_client(raw_key: str) -> APIClient:
    """A client that sends ``X-API-Key: <raw_key>``."""
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw_key)
    return client


@dataclass
class Tenant:
    """A user who owns a workspace with one environment and an API key for it."""

    user: User
    workspace: Workspace
    environment: Environment
    api_key: str

    def key_client(self) -> APIClient:
        return api_key_client(self.api_key)

    def token(self) -> str:
        return internal_token(self.user, self.workspace)

    def jwt_client(self) -> APIClient:
        return bearer_client(self.token())


def make_tenant(label: str) -> Tenant:
    user = make_user(f"{label}@example.com", external_id=f"{label}-sub",
                               display_name=label.title())
    workspace = make_workspace(user, slug=f"{label}-ws", name=f"{label.title()} WS")
    environment = workspace.environments.get()
    return Tenant(user, workspace, environment, make_api_key(environment))
