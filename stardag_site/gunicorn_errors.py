"""JSON bodies for the errors gunicorn answers itself, before Django sees the request.

gunicorn refuses an over-long request line (414), too many or too large headers (431) and
malformed requests (400) with a small HTML page. API clients expect ``{"detail": ...}`` for
every error (contract §1.4), so ``gunicorn.conf.py`` installs ``write_json_error`` in place of
``gunicorn.util.write_error``, the one function gunicorn's workers call to send those pages.
"""

from __future__ import annotations

import json
import socket

from gunicorn.util import write_nonblock


def write_json_error(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
    """Same signature and framing as ``gunicorn.util.write_error``, with a JSON body."""
    detail = f"{reason}: {mesg}" if mesg else reason
    body = json.dumps({"detail": detail}).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    write_nonblock(sock, head.encode("latin-1") + body)
