"""Root-level aliases (contract §1.2): ``/.well-known/jwks.json``, ``/auth/config``,
``/auth/exchange``. Same behaviour as the ``/api/v1`` spellings in ``accounts/urls.py``."""

from django.urls import re_path

from accounts import views

urlpatterns = [
    re_path(r"^\.well-known/jwks\.json$", views.RootJwksView.as_view(), name="root-jwks"),
    re_path(r"^auth/config/?$", views.RootAuthConfigView.as_view(), name="root-auth-config"),
    re_path(r"^auth/exchange/?$", views.RootExchangeView.as_view(),
            name="root-auth-exchange"),
]
