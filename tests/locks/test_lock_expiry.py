"""Acceptance 2: a holder that stops renewing loses the lock after its TTL; another owner gets
it; the old owner's renew and release then get 409 (real time, no clock tricks)."""

from __future__ import annotations

import time

from tests.locks.helpers import NOT_OWNED, lock_url


def test_lease_lapses_after_its_ttl_and_passes_to_another_owner(client_a):
    first = client_a.post(lock_url("t", "acquire"), {"owner_id": "sleepy", "ttl_seconds": 1},
                          format="json")
    assert first.json()["lock"]["version"] == 0
    early = client_a.post(lock_url("t", "acquire"), {"owner_id": "eager"}, format="json")
    assert early.status_code == 423

    time.sleep(1.2)
    assert client_a.get("/api/v1/locks").json() == {"locks": [], "count": 0}
    taken = client_a.post(lock_url("t", "acquire"), {"owner_id": "eager"}, format="json")
    assert taken.status_code == 200
    assert (taken.json()["lock"]["owner_id"], taken.json()["lock"]["version"]) == ("eager", 1)

    renew = client_a.post(lock_url("t", "renew"), {"owner_id": "sleepy"}, format="json")
    assert (renew.status_code, renew.json()) == (409, NOT_OWNED)
    release = client_a.post(lock_url("t", "release"), {"owner_id": "sleepy"}, format="json")
    assert (release.status_code, release.json()) == (409, NOT_OWNED)
    assert client_a.get(lock_url("t")).json()["owner_id"] == "eager"
    assert client_a.post(lock_url("t", "release"), {"owner_id": "eager"},
                         format="json").json() == {"released": True}
