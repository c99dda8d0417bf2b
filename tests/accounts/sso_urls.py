"""The project's URLs with mozilla-django-oidc's routes, as when admin SSO is configured."""

from django.urls import include, path

from stardag_site.urls import urlpatterns as project_urlpatterns

urlpatterns = [*project_urlpatterns, path("oidc/", include("mozilla_django_oidc.urls"))]
