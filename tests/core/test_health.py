from django.db import connection
from django.test.utils import CaptureQueriesContext

from stardag_site.version import server_version


def test_health_answers_without_touching_the_database(client, db):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "healthy", "version": server_version()}
    assert len(queries) == 0


def test_unknown_api_path_is_json_404(client, db):
    response = client.get("/api/v1/definitely-not-here")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}
