"""Time 1,000 API-key-authenticated ``GET /api/v1/target-roots`` calls (issue 2, acceptance 6).

Against a running server (e.g. gunicorn on port 8000; create a key with ``manage.py bootstrap``):

    .venv/bin/python benchmarks/api_key_auth.py --url http://127.0.0.1:8000 --api-key sk_...

or with ``STARDAG_REGISTRY_URL`` / ``STARDAG_API_KEY`` set. Without a server, ``--in-process``
measures the same request through Django's test client on a throwaway SQLite database
(authentication, routing, query and rendering; no HTTP or WSGI server).

Calls are sequential over one keep-alive connection; the script prints the total and the mean,
median and 95th percentile per call. It asserts nothing: it is a measurement.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

PATH = "/api/v1/target-roots"


def over_http(url: str, api_key: str) -> Callable[[], int]:
    import httpx

    client = httpx.Client(base_url=url.rstrip("/"), headers={"X-API-Key": api_key}, timeout=30)
    return lambda: client.get(PATH).status_code


def in_process() -> Callable[[], int]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ["DJANGO_SETTINGS_MODULE"] = "stardag_site.test_settings"
    os.environ["DATABASE_URL"] = "sqlite://:memory:"
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    call_command("migrate", verbosity=0)
    from accounts.models import User
    from workspaces.api_keys import api_key_create
    from workspaces.models import TargetRoot
    from workspaces.services import workspace_create

    user = User.objects.create_user("bench@example.com")
    workspace = workspace_create(user=user, name="Bench", slug="bench")
    environment = workspace.environments.get()
    TargetRoot.objects.create(environment=environment, name="default", uri_prefix="s3://b/p/")
    raw_key = api_key_create(environment=environment, name="bench").raw_key
    client = Client(HTTP_X_API_KEY=raw_key)
    return lambda: client.get(PATH).status_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("STARDAG_REGISTRY_URL"))
    parser.add_argument("--api-key", default=os.environ.get("STARDAG_API_KEY"))
    parser.add_argument("--in-process", action="store_true",
                        help="use Django's test client on a throwaway database")
    parser.add_argument("-n", "--calls", type=int, default=1000)
    args = parser.parse_args()

    if args.in_process:
        call, target = in_process(), "Django test client (in-process, SQLite in memory)"
    elif args.url and args.api_key:
        call, target = over_http(args.url, args.api_key), args.url
    else:
        parser.error("give --url and --api-key (or STARDAG_REGISTRY_URL / STARDAG_API_KEY), "
                     "or --in-process")

    for _ in range(20):  # warm-up: connections, caches, last_used_at write
        assert call() == 200, "the API key was not accepted"
    timings = []
    started = time.perf_counter()
    for _ in range(args.calls):
        t0 = time.perf_counter()
        status = call()
        timings.append(time.perf_counter() - t0)
        if status != 200:
            raise SystemExit(f"unexpected status {status}")
    total = time.perf_counter() - started
    timings.sort()
    print(f"{args.calls} x GET {PATH} with X-API-Key against {target}")
    print(f"total {total * 1000:.0f} ms; per call mean {statistics.mean(timings) * 1000:.2f} ms, "
          f"median {statistics.median(timings) * 1000:.2f} ms, "
          f"p95 {timings[int(len(timings) * 0.95)] * 1000:.2f} ms")


if __name__ == "__main__":
    main()
