"""Admin fixtures: a view-only staff user (the superuser console is pytest-django's
``admin_client``, signed in as ``admin_user``)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from accounts.models import User


@pytest.fixture
def viewer(db: None) -> User:
    """Staff with only the view permissions of keys, locks, invites and workspaces."""
    user = User.objects.create_user("viewer@example.com", "another-long-password",
                                    is_staff=True)
    codenames = ["view_apikey", "view_lock", "view_invite", "view_workspace", "view_user",
                 "view_environment"]
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


@pytest.fixture
def viewer_site(viewer: User) -> Client:
    client = Client()
    client.force_login(viewer)
    return client
