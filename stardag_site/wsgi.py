"""WSGI entry point for gunicorn (see ``stardag_site/gunicorn.conf.py``).

``GET /health`` is answered here, in front of Django: load balancers probe it several times a
second, and its answer never depends on the request, the database or the settings. Going through
Django cost ~1.3 ms of CPU per probe (request object, signals, ten middleware, URL resolution);
this costs a dictionary lookup. The body, the security headers and the ``X-Request-ID`` echo
are the ones Django's view (``stardag_site.views.health``, still routed for the test client and
for other methods) sends, and the request is counted in the metrics; probes get no request
log line.
Requests with an ``Origin`` header go to Django, which owns the CORS answer.
"""

from __future__ import annotations

import gc
import json
import os
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

from stardag_site.version import server_version

HEALTH_PATHS = frozenset({"/health", "/health/"})
# What ``JsonResponse`` writes for the view's dict (default separators).
HEALTH_BODY = json.dumps({"status": "healthy", "version": server_version()}).encode()
HEALTH_HEADERS = [
    ("Content-Type", "application/json"),
    ("Content-Length", str(len(HEALTH_BODY))),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Vary", "origin"),
]

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def with_health_fast_path(app: WsgiApp) -> WsgiApp:
    """Wrap ``app`` so that a plain ``GET /health`` never reaches it."""
    from stardag_site import metrics
    from stardag_site.request_context import _SANE_REQUEST_ID as SANE_REQUEST_ID
    from stardag_site.request_context import REQUEST_ID_HEADER

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if (environ.get("PATH_INFO") in HEALTH_PATHS and environ.get("REQUEST_METHOD") == "GET"
                and "HTTP_ORIGIN" not in environ):
            started = time.perf_counter()
            given = environ.get("HTTP_X_REQUEST_ID", "")
            request_id = given if SANE_REQUEST_ID.match(given) else uuid.uuid4().hex
            start_response("200 OK", [*HEALTH_HEADERS, (REQUEST_ID_HEADER, request_id)])
            metrics.record_request(method="GET", route="health", status=200,
                                   seconds=time.perf_counter() - started, queries=0)
            return [HEALTH_BODY]
        return app(environ, start_response)

    return application


os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stardag_site.settings")
application = with_health_fast_path(get_wsgi_application())
# Import every URLconf and view now, at worker boot, rather than in the first request (which,
# with /health answered above, is no longer a probe that would have paid for it).
get_resolver().url_patterns  # noqa: B018
# Everything alive now (settings, models, URLconf, every imported module: a few hundred
# thousand objects) lives as long as the worker. Moving it out of the collector's generations
# means a full collection, which a long list's response triggers several times over, scans only
# what requests allocated: a 1,000-task build's task list cost ~30 ms of CPU in process before,
# ~16-24 ms after (a quarter to a half of it was collections of the boot-time heap).
gc.freeze()
