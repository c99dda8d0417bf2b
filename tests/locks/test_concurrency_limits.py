"""Named concurrency limits (SDK-WIRE §3.4 N18-N21, issue 12): stored per environment."""

from __future__ import annotations


def test_set_list_replace_delete(client_a, client_b):
    assert client_a.get("/api/v1/concurrency-limits").json() == {"limits": []}
    set_ = client_a.put("/api/v1/concurrency-limits/gpu", {"max_concurrent": 2}, format="json")
    assert set_.status_code == 200 and set_.json() == {"key": "gpu", "max_concurrent": 2}
    client_a.put("/api/v1/concurrency-limits/gpu", {"max_concurrent": 3}, format="json")
    client_a.put("/api/v1/concurrency-limits/db", {"max_concurrent": 1}, format="json")

    assert client_a.get("/api/v1/concurrency-limits").json() == {"limits": [
        {"key": "db", "max_concurrent": 1}, {"key": "gpu", "max_concurrent": 3}]}
    assert client_b.get("/api/v1/concurrency-limits").json() == {"limits": []}
    assert client_a.get("/api/v1/concurrency-limits/gpu/holders").json() == {
        "key": "gpu", "holders": [], "total": 0}

    assert client_b.delete("/api/v1/concurrency-limits/gpu").status_code == 404
    assert client_a.delete("/api/v1/concurrency-limits/gpu").status_code == 204
    assert client_a.delete("/api/v1/concurrency-limits/gpu").json() == {
        "detail": "Concurrency limit not found"}
    assert [row["key"] for row in client_a.get("/api/v1/concurrency-limits").json()["limits"]] == [
        "db"]


def test_invalid_limits_are_422(client_a):
    for body in ({"max_concurrent": 0}, {}, {"max_concurrent": "x"}):
        response = client_a.put("/api/v1/concurrency-limits/k", body, format="json")
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"][:2] == ["body", "max_concurrent"]
