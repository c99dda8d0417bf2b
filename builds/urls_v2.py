"""``/api/v2`` build-side routes (SDK-WIRE 4.4). Build creation and every route that touches
tasks (plans, members, lifecycle, frontier) are in ``tasks/urls_v2.py``."""

from django.urls import re_path

from builds import views_v2

# Ids are UUIDs: anything else (``wake-candidates``) is the missing-route 404, never a 405.
ID = r"[0-9a-fA-F-]{32,36}"

urlpatterns = [
    re_path(r"^deployments/?$", views_v2.DeploymentsView.as_view(), name="v2-deployments"),
    re_path(rf"^deployments/(?P<deployment_id>{ID})/?$", views_v2.DeploymentDetailView.as_view(),
            name="v2-deployment"),
    re_path(r"^settings/(?P<settings_hash>[^/]+)/?$", views_v2.SettingsView.as_view(),
            name="v2-settings"),
    re_path(rf"^builds/(?P<build_id>{ID})/?$", views_v2.BuildDetailView.as_view(),
            name="v2-build"),
    re_path(rf"^builds/(?P<build_id>{ID})/notify/?$", views_v2.BuildNotifyView.as_view(),
            name="v2-build-notify"),
]
