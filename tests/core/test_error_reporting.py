"""Optional Sentry reporting: with ``SENTRY_DSN`` set, an unhandled error reaches the Sentry
endpoint (here a local one that records what it receives), once, without the credential."""

from __future__ import annotations

import gzip
import json
import subprocess
import threading
import zlib
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

from tests.servers import PYTHON, REPO, base_env

SECRET = "sk_abcdef_" + "S" * 32

SCRIPT = f"""
import django, sentry_sdk
django.setup()
from django.test import Client
response = Client(HTTP_HOST="localhost", raise_request_exception=False).get(
    "/api/v1/builds", HTTP_X_API_KEY="{SECRET}")
print(response.status_code)
sentry_sdk.flush(10)
"""


class Collector(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        Collector.received.append(body)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


def test_an_unhandled_error_is_reported_to_sentry_without_secrets(tmp_path: Path) -> None:
    Collector.received = []
    server = HTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        dsn = f"http://publickey@127.0.0.1:{server.server_port}/42"
        # The database was never migrated: the API-key lookup fails with a real error.
        result = subprocess.run([PYTHON, "-c", SCRIPT], cwd=REPO, capture_output=True,
                                text=True, timeout=60,
                                env=base_env(tmp_path, SENTRY_DSN=dsn,
                                             SENTRY_ENVIRONMENT="ci"))
    finally:
        server.shutdown()
    assert result.stdout.strip() == "500", result.stderr
    events = []
    for envelope in Collector.received:
        for line in envelope.splitlines():
            try:
                item = json.loads(line)
            except ValueError:
                continue
            if isinstance(item, dict) and "exception" in item:
                events.append(item)
    assert len(events) == 1, Collector.received
    [event] = events
    assert event["exception"]["values"][-1]["type"] == "OperationalError"
    assert event["environment"] == "ci" and event["release"].startswith("stardag-site@")
    everything = b"".join(Collector.received).decode(errors="replace")
    assert SECRET not in everything and "S" * 32 not in everything
