"""Template context shared by the admin's login page."""

from django.conf import settings
from django.http import HttpRequest


def sso(request: HttpRequest) -> dict[str, bool]:
    """Tell the admin login template whether to offer "Sign in with SSO"."""
    return {"oidc_admin_sso_enabled": settings.OIDC_ADMIN_SSO_ENABLED}
