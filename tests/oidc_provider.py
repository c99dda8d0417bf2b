"""A real, minimal OIDC provider for tests: an RSA key, tokens signed with it, and its JWKS
served over HTTP on 127.0.0.1 so the server's JWKS cache fetches it like any deployment would.
``LocalJsonServer`` also serves the CLI tests' token endpoint.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa


class _QuietServer(ThreadingHTTPServer):
    """A client that gave up on a hanging answer (a timeout under test) is expected: no
    traceback on stderr for it."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class LocalJsonServer:
    """A threaded HTTP server on a free port of 127.0.0.1 that answers ``method`` requests with
    ``answer(request) -> (status, JSON body)``; other methods get the standard 501."""

    def __init__(self, answer: Callable[[BaseHTTPRequestHandler], tuple[int, bytes]], *,
                 method: str = "GET") -> None:
        class Handler(BaseHTTPRequestHandler):
            def reply(self) -> None:
                status, body = answer(self)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        setattr(Handler, f"do_{method}", Handler.reply)
        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class LocalOidcProvider:
    """``hang()`` makes the key endpoint stall (as a struggling provider does) until
    ``recover()``; ``fail()`` makes it answer 500. Both are undone by ``recover()``."""

    def __init__(self) -> None:
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = f"test-{uuid.uuid4().hex[:8]}"
        self.jwks_requests = 0
        self._count_lock = threading.Lock()
        self._healthy = threading.Event()
        self._healthy.set()
        self.failing = False
        self.http = LocalJsonServer(self._answer)
        self.issuer = f"{self.http.url}/realms/stardag"
        self.jwks_url = f"{self.issuer}/protocol/openid-connect/certs"

    def hang(self) -> None:
        self._healthy.clear()

    def fail(self) -> None:
        self.failing = True

    def recover(self) -> None:
        self.failing = False
        self._healthy.set()

    def _answer(self, request: BaseHTTPRequestHandler) -> tuple[int, bytes]:
        with self._count_lock:
            self.jwks_requests += 1
        if request.path.endswith("/certs"):
            self._healthy.wait(timeout=30)  # a hanging provider; recover() releases it
            if self.failing:
                return 500, b'{"error": "unavailable"}'
            return 200, json.dumps(self.jwks()).encode()
        if request.path.endswith("/.well-known/openid-configuration"):
            return 200, json.dumps({"issuer": self.issuer}).encode()
        return 404, b"{}"

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private_key.public_key()))
        jwk.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        return {"keys": [jwk]}

    def rotate(self) -> None:
        """Switch to a new signing key (and key id), as an identity provider does."""
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = f"test-{uuid.uuid4().hex[:8]}"

    def token(self, sub: str = "alice-sub", *, email: str | None = "alice@example.com",
              email_verified: bool | None = True, name: str | None = "Alice",
              aud: Any = "stardag-sdk",
              expires_in: int = 300, issuer: str | None = None, kid: str | None = None,
              **extra: Any) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {"sub": sub, "iss": issuer or self.issuer, "iat": now,
                                  "exp": now + expires_in}
        if email_verified is not None:  # None: the claim is left out, as some providers do
            claims["email_verified"] = email_verified
        if email is not None:
            claims["email"] = email
        if name is not None:
            claims["name"] = name
        if aud is not None:
            claims["aud"] = aud
        claims.update(extra)
        headers = {"kid": kid if kid is not None else self.kid}
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers=headers)

    def close(self) -> None:
        self.http.close()
