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



def test_gunicorn_answers_health_before_django_with_the_same_body_and_headers(client, db):
    """``stardag_site.wsgi`` answers ``GET /health`` itself (issue 10: ≤ 0.5 ms of CPU); the
    answer must be the one Django's view gives, headers included."""
    from stardag_site.wsgi import application

    captured: dict = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        captured.update(status=status, headers=headers)

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/health", "SERVER_NAME": "any.host",
               "SERVER_PORT": "80", "wsgi.url_scheme": "http", "HTTP_X_REQUEST_ID": "probe-1"}
    with CaptureQueriesContext(connection) as queries:
        body = b"".join(application(environ, start_response))
    assert len(queries) == 0
    django_response = client.get("/health", HTTP_HOST="localhost", HTTP_X_REQUEST_ID="probe-1")
    assert captured["status"] == "200 OK"
    assert body == django_response.content
    assert dict(captured["headers"]) == dict(django_response.headers.items())
    assert dict(captured["headers"])["X-Request-ID"] == "probe-1"
    application({**environ, "HTTP_X_REQUEST_ID": "bad id!"}, start_response)
    assert len(dict(captured["headers"])["X-Request-ID"]) == 32  # a fresh id instead


def test_other_methods_and_cors_requests_still_go_through_django(client, db):
    from stardag_site.wsgi import with_health_fast_path

    reached = []

    def django_app(environ, start_response):
        reached.append(environ["REQUEST_METHOD"])
        start_response("405 Method Not Allowed", [])
        return [b""]

    app = with_health_fast_path(django_app)
    app({"REQUEST_METHOD": "POST", "PATH_INFO": "/health"}, lambda *a: None)
    app({"REQUEST_METHOD": "GET", "PATH_INFO": "/health", "HTTP_ORIGIN": "https://ui"},
        lambda *a: None)
    app({"REQUEST_METHOD": "GET", "PATH_INFO": "/health/ready"}, lambda *a: None)
    assert reached == ["POST", "GET", "GET"]
    assert client.post("/health").status_code == 405
