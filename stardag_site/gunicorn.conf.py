"""gunicorn configuration, tunable from the environment.

Sync workers suit this synchronous Django app; a couple of threads per worker absorb the SDK's
bursts of small POSTs (one per task event) without holding a process per request.
"""

import multiprocessing
import os
import shutil
import tempfile
from pathlib import Path

# Development mode (DEBUG=1, the zero-config ``bin/serve``) serves Django's debug pages, which
# show settings; it listens on the loopback interface only unless BIND_HOST (or GUNICORN_BIND)
# says otherwise. Production (DEBUG unset or 0) listens on every interface. (Not ``HOST``: some
# shells export that with the machine's name.)
_debug = os.environ.get("DEBUG", "0").strip().lower() in {"1", "true", "yes", "on"}
_host = os.environ.get("BIND_HOST") or ("127.0.0.1" if _debug else "0.0.0.0")
bind = os.environ.get("GUNICORN_BIND") or f"{_host}:{os.environ.get('PORT', '8000')}"
# Workers and threads, measured on 2 cores with benchmarks/cost_bench.py's load phase (8 SDK-like
# clients on the same machine, PostgreSQL; results in benchmarks/results/cost-gw*.md and
# cost-final.md, issue 10): 2x2, 2x4, 4x2 and 4x4 all gave 51-58 task lifecycles/s with API
# keys and 40-48 with bearer tokens, and the same CPU per request; the machine's two cores, not
# the server's concurrency, are the limit. 4 workers x 4 threads gave the most contended lock
# acquisitions (67/s against 53-56/s at 4 or fewer threads in all), so it stays the default:
# a worker is a process per core and a spare, and its threads overlap waits on the database.
workers = int(os.environ.get("WEB_CONCURRENCY", min(4, multiprocessing.cpu_count() * 2)))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread" if threads > 1 else "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
_json_logs = os.environ.get("LOG_FORMAT", "plain") == "json"
# The application logs one line per request in either LOG_FORMAT (request id, method, path,
# status, duration, credential: ``stardag_site/request_context.py``), so gunicorn's access line
# would only repeat it, and formatting it cost ~0.2 ms of CPU per request on a 2-core machine
# (measured with a trivial WSGI app: 0.58 ms per request without, 0.74-0.84 ms with the access
# log going to /dev/null). Off unless GUNICORN_ACCESS_LOG names a target ("-" for stdout).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "") or None
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
wsgi_app = "stardag_site.wsgi:application"
if _json_logs:  # gunicorn's own lines (boot, worker exits) as JSON objects too
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "stardag_site.logs.JsonFormatter"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json",
                                 "stream": "ext://sys.stderr"}},
        "loggers": {
            "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        },
    }

# Prometheus metrics from several workers: prometheus-client's multiprocess mode keeps each
# worker's values in files under PROMETHEUS_MULTIPROC_DIR and /metrics sums them. A fresh
# directory per server instance (set here, in the master, before any worker imports the client)
# keeps two instances on one host, or a restart, from mixing their numbers.
_metrics_dir_created = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _metrics_dir_created:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="stardag-metrics-")


def child_exit(server: object, worker: object) -> None:
    """Forget a dead worker's live gauges (its counters stay in the totals)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]

# gunicorn >= 25.1 opens a control socket (for ``gunicornc``) at ONE path per user by default,
# ``~/.gunicorn/gunicorn.ctl``: a second instance on the host takes it over and stopping either
# deletes the other's. Off unless this instance is given a path of its own.
_control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
control_socket_disable = not _control_socket
if _control_socket:
    control_socket = _control_socket


# Where this server can be reached, for ``manage.py bootstrap`` run in another terminal: it prints
# STARDAG_REGISTRY_URL for the server actually started (PORT honoured) instead of a guess.
_SERVER_URL_FILE = Path(
    os.environ.get("DATA_DIR") or Path(__file__).resolve().parent.parent / "data"
) / "server-url"


def _listen_url(address: object) -> str | None:
    if not (isinstance(address, tuple) and len(address) >= 2):
        return None  # a unix socket: only the proxy in front knows the public URL
    host, port = str(address[0]), address[1]
    # Any-address and the loopback address (the development default) are "localhost" for a
    # client on this machine, the name the README and ALLOWED_HOSTS use.
    if host in ("0.0.0.0", "::", "", "127.0.0.1"):
        host = "localhost"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def when_ready(server: object) -> None:
    """Record this instance's URL in DATA_DIR/server-url (best effort)."""
    urls = [_listen_url(listener.cfg_addr) for listener in getattr(server, "LISTENERS", [])]
    url = next((u for u in urls if u), None)
    if url is None:
        return
    try:
        _SERVER_URL_FILE.parent.mkdir(parents=True, exist_ok=True)
        _SERVER_URL_FILE.write_text(url + "\n")
        server._stardag_url = url  # type: ignore[attr-defined]
    except OSError:
        pass


def on_exit(server: object) -> None:
    """Forget the URL, unless another instance has written its own since; remove the metrics
    directory this instance made."""
    url = getattr(server, "_stardag_url", None)
    try:
        if url and _SERVER_URL_FILE.read_text().strip() == url:
            _SERVER_URL_FILE.unlink()
    except OSError:
        pass
    if _metrics_dir_created:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)


# Errors gunicorn answers itself (414 request line too long, 431, 400) are JSON like every
# other API error; see stardag_site/gunicorn_errors.py.
from gunicorn import util as _gunicorn_util  # noqa: E402

from stardag_site.gunicorn_errors import write_json_error  # noqa: E402

_gunicorn_util.write_error = write_json_error
