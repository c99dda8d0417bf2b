"""Brute-force protection of the admin's password sign-in (issue 8, item 12): after N failures
for an account, or from a client address, the next sign-in is refused even with the right
password. Attempts live in the database, so every test starts with none (rolled back)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.utils import timezone

pytestmark = pytest.mark.django_db

PASSWORD = "password"  # pytest-django's admin_user
LIMIT = settings.AXES_FAILURE_LIMIT


def sign_in(email: str, password: str, address: str = "192.0.2.1", **headers: str):
    """A fresh browser at ``address``: returns (response, signed in?)."""
    client = Client(REMOTE_ADDR=address, **headers)
    response = client.post("/admin/login/?next=/admin/",
                           {"username": email, "password": password})
    return response, client.get("/admin/").status_code == 200


def assert_refused(response, signed_in):
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert not signed_in


def test_defaults():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    assert settings.AUTHENTICATION_BACKENDS[0] == "accounts.login_throttle.LoginThrottleBackend"


def test_account_is_locked_after_n_failures_from_anywhere(admin_user):
    for n in range(LIMIT):  # each from another address: only the account links them
        response, _ = sign_in("admin@example.com" if n % 2 else "ADMIN@Example.com ", "wrong",
                              address=f"198.51.100.{n + 1}")
        # The login form again, with its error; the N-th failure already answers the lock.
        assert response.status_code == (200 if n < LIMIT - 1 else 429)
    assert_refused(*sign_in("admin@example.com", PASSWORD, address="203.0.113.7"))
    # Other accounts are not affected, not even from the addresses used above.
    from accounts.models import User

    User.objects.create_superuser("other@example.com", PASSWORD)
    assert sign_in("other@example.com", PASSWORD, address="198.51.100.1")[1]


def test_address_is_locked_after_n_failures_on_any_accounts(admin_user):
    for n in range(LIMIT):
        sign_in(f"guess{n}@example.com", "wrong", address="192.0.2.66")
    assert_refused(*sign_in("admin@example.com", PASSWORD, address="192.0.2.66"))
    assert sign_in("admin@example.com", PASSWORD, address="192.0.2.67")[1]


def test_fewer_failures_do_not_lock(admin_user):
    for _ in range(LIMIT - 1):
        sign_in("admin@example.com", "wrong")
    assert sign_in("admin@example.com", PASSWORD)[1]


def test_lock_ends_after_the_cool_off(admin_user):
    for _ in range(LIMIT):
        sign_in("admin@example.com", "wrong")
    assert_refused(*sign_in("admin@example.com", PASSWORD))
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))
    assert sign_in("admin@example.com", PASSWORD)[1]


def test_operator_lifts_a_lock_by_deleting_the_attempt(admin_user, admin_client):
    for _ in range(LIMIT):
        sign_in("admin@example.com", "wrong", address="192.0.2.9")
    assert_refused(*sign_in("admin@example.com", PASSWORD, address="192.0.2.10"))
    listing = admin_client.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200 and "admin@example.com" in listing.content.decode()
    selected = list(AccessAttempt.objects.filter(username="admin@example.com")
                    .values_list("pk", flat=True))
    assert selected
    admin_client.post("/admin/axes/accessattempt/", {
        "action": "delete_selected", "post": "yes", "_selected_action": selected})
    assert not AccessAttempt.objects.filter(username="admin@example.com").exists()
    assert sign_in("admin@example.com", PASSWORD, address="192.0.2.10")[1]


def test_forwarded_for_is_ignored_unless_proxies_are_configured(admin_user, settings):
    for n in range(LIMIT):
        sign_in(f"guess{n}@example.com", "wrong", address="192.0.2.50",
                HTTP_X_FORWARDED_FOR=f"10.9.9.{n}")
    # A client cannot escape its address's lock by sending a made-up header.
    assert_refused(*sign_in("admin@example.com", PASSWORD, address="192.0.2.50",
                            HTTP_X_FORWARDED_FOR="10.1.1.1"))


def test_behind_a_proxy_the_address_is_the_one_the_proxy_appended(admin_user, settings):
    settings.ADMIN_LOGIN_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    for n in range(LIMIT):  # the client forges a left-most entry; the proxy appends the truth
        sign_in(f"guess{n}@example.com", "wrong", address=proxy,
                HTTP_X_FORWARDED_FOR=f"10.7.7.{n}, 198.51.100.77")
    assert_refused(*sign_in("admin@example.com", PASSWORD, address=proxy,
                            HTTP_X_FORWARDED_FOR="198.51.100.77"))
    # Another client behind the same proxy still signs in.
    assert sign_in("admin@example.com", PASSWORD, address=proxy,
                   HTTP_X_FORWARDED_FOR="198.51.100.78")[1]
