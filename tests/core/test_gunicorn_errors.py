"""Errors gunicorn answers itself are JSON too (issue 11): a real gunicorn, real sockets."""

from __future__ import annotations

import json
import socket

import pytest

from tests.gunicorn_server import GunicornServer


def raw_request(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), headers, body


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with GunicornServer(tmp_path_factory.mktemp("gunicorn"), workers=1, migrate=False) as s:
        yield s


def test_over_long_request_line_is_json_414(server):
    path = "/api/v1/builds?q=" + "x" * 9000
    status, headers, body = raw_request(
        server.port, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    assert status == 414
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body)["detail"].startswith("URI Too Long")


def test_malformed_request_is_json_400(server):
    status, headers, body = raw_request(
        server.port, b"GET /api/v1/builds HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n")
    assert status == 400
    assert headers["Content-Type"] == "application/json"
    assert "detail" in json.loads(body)
