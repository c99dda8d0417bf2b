"""Root URL configuration.

No trailing slashes (the SDK never sends one) and no redirects; each app's ``urls.py`` uses
``re_path(r"...$")`` patterns that accept an optional trailing slash. Workspace routes are served
under both ``/api/v1/ui/`` (what the SDK calls) and ``/api/v1/`` (the product doc's spelling).
"""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from stardag_site import views
from stardag_site.metrics import metrics_view

urlpatterns = [
    path("", views.landing, name="landing"),
    re_path(r"^health/ready/?$", views.ready, name="health-ready"),
    re_path(r"^health/?$", views.health, name="health"),
    re_path(r"^metrics/?$", metrics_view, name="metrics"),
    # The SDK's routes first: URL resolution tries patterns in order, and these serve almost
    # every request (their prefixes builds/, tasks/, locks/ overlap no other route). Locks
    # (nine patterns) before tasks (thirty, with search): each app's hot routes come first.
    path("api/v1/", include("builds.urls")),
    path("api/v1/", include("locks.urls")),
    path("api/v1/", include("tasks.urls")),
    path("", include("accounts.urls_root")),
    path("api/v1/", include("accounts.urls")),
    path("api/v1/ui/", include(("workspaces.urls", "workspaces"), namespace="ui-workspaces")),
    path("api/v1/", include(("workspaces.urls", "workspaces"), namespace="workspaces")),
    path("api/v2/", include("builds.urls_v2")),
    path("api/v2/", include("tasks.urls_v2")),
    path("api/v2/", include("locks.urls_v2")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("admin/", admin.site.urls),
]
if settings.OIDC_ADMIN_SSO_ENABLED:
    urlpatterns.append(path("oidc/", include("mozilla_django_oidc.urls")))
# Last: any other /api/ URL is the exact missing-route 404 the SDK falls back on (SDK-WIRE §1.4).
urlpatterns.append(re_path(r"^api/", views.api_route_not_found, name="api-route-not-found"))

handler404 = "stardag_site.views.not_found"
handler500 = "stardag_site.views.internal_error"
