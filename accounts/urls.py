"""Auth and user endpoints under ``/api/v1/`` (contract §4.2-4.3, with the §1.2 aliases), plus
the SDK's ``GET /api/v1/target-roots``, routed here because ``workspaces/urls.py`` is mounted
twice (``/api/v1/ui/`` and ``/api/v1/``) and this endpoint must exist once."""

from django.urls import re_path

from accounts import views
from workspaces.environment_views import SdkTargetRootListView

urlpatterns = [
    re_path(r"^\.well-known/jwks\.json$", views.JwksView.as_view(), name="jwks"),
    re_path(r"^auth/config/?$", views.AuthConfigView.as_view(), name="auth-config"),
    re_path(r"^auth/exchange/?$", views.ExchangeView.as_view(), name="auth-exchange"),
    re_path(r"^ui/me/?$", views.MeView.as_view(), name="ui-me"),
    re_path(r"^me/?$", views.MeView.as_view(), name="me"),
    re_path(r"^ui/me/invites/?$", views.MyInvitesView.as_view(), name="ui-me-invites"),
    re_path(r"^me/invites/?$", views.MyInvitesView.as_view(), name="me-invites"),
    re_path(r"^target-roots/?$", SdkTargetRootListView.as_view(), name="sdk-target-roots"),
]
