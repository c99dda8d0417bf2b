"""Workspace routes (contract §4.4-4.9, §9), relative to their mount point: the root URLconf
includes this module under both ``/api/v1/ui/`` and ``/api/v1/`` (§1.2). Ids are captured as
free strings and validated in the views, so a malformed id is a 422, never a 404."""

from django.urls import re_path

from workspaces import environment_views as env_views
from workspaces import views

WS = r"^workspaces/(?P<workspace_id>[^/]+)"
ENV = WS + r"/environments/(?P<environment_id>[^/]+)"

urlpatterns = [
    re_path(r"^workspaces/?$", views.WorkspaceListView.as_view(), name="workspace-list"),
    re_path(r"^workspaces/invites/(?P<invite_id>[^/]+)/accept/?$",
            views.InviteAcceptView.as_view(), name="invite-accept"),
    re_path(r"^workspaces/invites/(?P<invite_id>[^/]+)/decline/?$",
            views.InviteDeclineView.as_view(), name="invite-decline"),
    re_path(WS + r"/?$", views.WorkspaceDetailView.as_view(), name="workspace-detail"),
    re_path(WS + r"/members/?$", views.MemberListView.as_view(), name="member-list"),
    re_path(WS + r"/members/(?P<member_id>[^/]+)/?$", views.MemberDetailView.as_view(),
            name="member-detail"),
    re_path(WS + r"/invites/?$", views.InviteListView.as_view(), name="invite-list"),
    re_path(WS + r"/invites/(?P<invite_id>[^/]+)/?$", views.InviteDetailView.as_view(),
            name="invite-detail"),
    re_path(WS + r"/target-roots/?$", env_views.WorkspaceTargetRootListView.as_view(),
            name="workspace-target-roots"),
    re_path(WS + r"/environments/?$", env_views.EnvironmentListView.as_view(),
            name="environment-list"),
    re_path(ENV + r"/?$", env_views.EnvironmentDetailView.as_view(), name="environment-detail"),
    re_path(ENV + r"/api-keys/?$", env_views.ApiKeyListView.as_view(), name="api-key-list"),
    re_path(ENV + r"/api-keys/(?P<key_id>[^/]+)/?$", env_views.ApiKeyDetailView.as_view(),
            name="api-key-detail"),
    re_path(ENV + r"/target-roots/?$", env_views.TargetRootListView.as_view(),
            name="target-root-list"),
    re_path(ENV + r"/target-roots/(?P<root_id>[^/]+)/?$",
            env_views.TargetRootDetailView.as_view(), name="target-root-detail"),
]
