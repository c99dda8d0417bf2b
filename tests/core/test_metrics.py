"""``/metrics``: hidden unless a token or addresses are configured; with several gunicorn workers
the counts of every worker are summed (prometheus-client multiprocess mode, one directory per
server instance)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.servers import base_env, gunicorn, http


def test_metrics_are_hidden_without_configuration(client, db) -> None:
    response = client.get("/metrics", HTTP_HOST="localhost")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_metrics_need_the_token(client, db, settings) -> None:
    settings.METRICS_TOKEN = "scrape-secret"
    assert client.get("/metrics", HTTP_HOST="localhost").status_code == 404
    assert client.get("/metrics", HTTP_HOST="localhost",
                      HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    response = client.get("/metrics", HTTP_HOST="localhost",
                          HTTP_AUTHORIZATION="Bearer scrape-secret")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    names = {family.name for family in text_string_to_metric_families(response.content.decode())}
    assert {"stardag_http_requests", "stardag_http_request_duration_seconds",
            "stardag_db_queries", "stardag_builds_created", "stardag_task_events",
            "stardag_lock_acquisitions"} <= names


def test_metrics_from_allowed_addresses(client, db, settings) -> None:
    settings.METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("10.1.0.0/16")]
    assert client.get("/metrics", HTTP_HOST="localhost",
                      REMOTE_ADDR="10.2.0.7").status_code == 404
    assert client.get("/metrics", HTTP_HOST="localhost",
                      REMOTE_ADDR="10.1.3.4").status_code == 200


def requests_counted(text: str, route: str) -> float:
    return sum(sample.value for family in text_string_to_metric_families(text)
               for sample in family.samples
               if sample.name == "stardag_http_requests_total"
               and sample.labels.get("route") == route)


def test_several_workers_are_summed(tmp_path: Path) -> None:
    env = base_env(tmp_path, WEB_CONCURRENCY="3", GUNICORN_THREADS="1",
                   METRICS_TOKEN="scrape-secret")
    scrape = {"Authorization": "Bearer scrape-secret"}
    with gunicorn(env, tmp_path / "server.log") as server:
        status, first, _ = http("GET", f"{server.url}/metrics", headers=scrape)
        assert status == 200
        for _ in range(30):
            assert http("GET", f"{server.url}/health")[0] == 200
        for _ in range(6):  # several scrapes, answered by whichever worker: all see the sum
            status, text, _ = http("GET", f"{server.url}/metrics", headers=scrape)
            assert requests_counted(text, "health") - requests_counted(first, "health") == 30
