"""``validated_body`` reuses one serializer per thread (``stardag_site.api.bodies``): each body
is judged on its own, whatever the bodies before it and whatever other threads validate."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

ACQUIRE = {"owner_id": "o-1", "ttl_seconds": 60, "check_task_completion": False}


def _acquire(client, name: str, body) -> tuple[int, object]:
    response = client.post(f"/api/v1/locks/{name}/acquire", body, format="json")
    return response.status_code, response.json()


def test_a_bad_body_after_good_ones_gets_its_own_errors_and_the_next_good_one_passes(tenant_a):
    client = tenant_a.key_client()
    assert _acquire(client, "one", ACQUIRE)[0] == 200
    status, body = _acquire(client, "two", {"owner_id": "", "ttl_seconds": "soon"})
    assert status == 422
    assert {tuple(item["loc"]) for item in body["detail"]} == {("body", "owner_id"),
                                                              ("body", "ttl_seconds")}
    status, body = _acquire(client, "three", {**ACQUIRE, "ttl_seconds": 5})
    assert status == 200, body
    assert body["lock"]["owner_id"] == "o-1"
    # Defaults come back for fields a body leaves out, not the previous body's values.
    status, body = _acquire(client, "four", {"owner_id": "o-2"})
    assert status == 200, body
    assert body["lock"]["owner_id"] == "o-2"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_threads_validating_at_once_each_get_their_own_answer(tenant_a):
    client_errors: list[object] = []
    results: dict[int, tuple[int, object]] = {}

    def run(index: int) -> None:
        try:
            client = tenant_a.key_client()
            body = ({**ACQUIRE, "owner_id": f"owner-{index}"} if index % 2
                    else {"owner_id": f"owner-{index}", "ttl_seconds": -1})
            results[index] = _acquire(client, f"lock-{index}", body)
        except Exception as exc:  # pragma: no cover - reported below
            client_errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert client_errors == []
    for index, (status, body) in results.items():
        if index % 2:
            assert status == 200, body
            assert body["lock"]["owner_id"] == f"owner-{index}"
        else:
            assert status == 422, body
            assert [item["loc"] for item in body["detail"]] == [["body", "ttl_seconds"]]
    assert len(results) == 8
