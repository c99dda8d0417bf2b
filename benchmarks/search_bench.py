"""Task search latency through the HTTP API (gunicorn + PostgreSQL), issue 5 acceptance 3.

    .venv/bin/python benchmarks/search_bench.py --tasks 10000 --tasks 100000 \\
        --database-url postgres://postgres@127.0.0.1:5432/stardag_bench

For each size: makes sure an environment ``bench-<N>`` holds exactly N tasks with their builds,
events and assets (filled once with COPY, reused afterwards; ``--refill`` forces a new fill),
starts gunicorn on 127.0.0.1 with production settings (suggestion cache off), sends a bounded
number of sequential requests per case over one keep-alive connection with an API key, and
writes p50/p95 per case to ``benchmarks/results/search-<N>.md``. Gunicorn is always stopped at
the end. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode, urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stardag_site.keys import generate_rsa_private_key_pem  # noqa: E402

SERVER_ENV = {
    "DEBUG": "0",
    "SECURE_SSL_REDIRECT": "0",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "JWT_PRIVATE_KEY": generate_rsa_private_key_pem(),
}


def ensure_database(url: str) -> None:
    import psycopg

    name = urlparse(url).path.lstrip("/")
    admin_url = url[: url.rindex("/")] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')  # our own fixed CLI argument, not input


def setup_django(url: str) -> None:
    os.environ.update(SERVER_ENV)
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.bench_settings"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def recreate_database(url: str) -> None:
    """Drop and create the benchmark database: tables that were never analysed, as after a
    bulk load on a server without autovacuum (``--no-analyze-first``)."""
    import psycopg

    name = urlparse(url).path.lstrip("/")
    admin_url = url[: url.rindex("/")] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')  # our own fixed CLI argument
        conn.execute(f'CREATE DATABASE "{name}"')


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("tasks_task", "builds_event", "builds_build", "tasks_taskasset",
                      "task_search_number", "task_search_row"):
            cursor.execute(f"VACUUM ANALYZE {table}")  # fixed table names


def prepare_environment(size: int, refill: bool,
                        analyze_tables: bool = True) -> tuple[object, str, dict]:
    """The ``bench-<size>`` environment with exactly ``size`` tasks, and a fresh API key."""
    from django.db import connection

    from benchmarks.search_fill import fill
    from builds.models import Build, Event
    from tasks.models import Task, TaskAsset
    from tests.factories import make_user, make_workspace
    from workspaces.api_keys import api_key_create
    from workspaces.models import Workspace

    slug = f"bench-{size}"
    workspace = Workspace.objects.filter(slug=slug).first()
    if workspace is None:
        tag = secrets.token_hex(4)
        owner = make_user(f"{slug}-{tag}@bench.local", external_id=f"{slug}-{tag}")
        workspace = make_workspace(owner, slug=slug, name=f"Benchmark {size}")
    environment = workspace.environments.get()
    stats: dict = {"reused": True}
    if refill or Task.objects.filter(environment=environment).count() != size:
        with connection.cursor() as cursor:
            for sql in (
                "DELETE FROM builds_event WHERE build_id IN "
                "(SELECT id FROM builds_build WHERE environment_id = %s)",
                "DELETE FROM tasks_taskasset WHERE environment_id = %s",
                "DELETE FROM tasks_taskdependency WHERE dependent_id IN "
                "(SELECT id FROM tasks_task WHERE environment_id = %s)",
                "UPDATE tasks_task SET last_build_id = NULL, status_build_id = NULL "
                "WHERE environment_id = %s",
                "DELETE FROM builds_buildroottask WHERE build_id IN "
                "(SELECT id FROM builds_build WHERE environment_id = %s)",
                "DELETE FROM tasks_task WHERE environment_id = %s",
                "DELETE FROM builds_build WHERE environment_id = %s",
            ):
                cursor.execute(sql, [environment.pk])
        with connection.cursor() as cursor:
            # The bulk load (COPY plus the side-table triggers) runs longer than the server's
            # DB_STATEMENT_TIMEOUT_MS; this session only.
            cursor.execute("SET statement_timeout = 0")
        started = time.perf_counter()
        fill(environment, size)
        stats = {"reused": False, "fill_seconds": round(time.perf_counter() - started, 1)}
    if analyze_tables:
        analyze()
    stats.update(
        tasks=Task.objects.filter(environment=environment).count(),
        builds=Build.objects.filter(environment=environment).count(),
        events=Event.objects.filter(build__environment=environment).count(),
        assets=TaskAsset.objects.filter(environment=environment).count(),
    )
    key = api_key_create(environment=environment, name="search benchmark").raw_key
    return environment, key, stats


def popular_name(environment: object) -> str:
    from django.db.models import Count

    from tasks.models import Task

    row = (Task.objects.filter(environment=environment).values("task_name")
           .annotate(n=Count("id")).order_by("-n").first())
    return row["task_name"] if row else "TrainModel"


def cases(name: str, size: int) -> list[tuple[str, str, dict]]:
    search, suggest = "/api/v1/tasks/search", "/api/v1/tasks/search"
    return [
        ("name filter", search, {"filter": f"task_name:{name}"}),
        ("namespace + status", search, {"filter": "task_namespace:ml.training,status:failed"}),
        ("param equality", search, {"filter": "param.dataset:dataset_07"}),
        ("nested param equality (~20 %, extra)", search, {"filter": "param.model.kind:xgboost"}),
        ("numeric param range", search, {"filter": "param.lr:>=:0.001,param.lr:<:0.002"}),
        ("asset numeric range (extra)", search, {"filter": "asset.metrics.accuracy:>:0.99"}),
        ("q text", search, {"q": "train"}),
        ("sort created_at:desc (page 1)", search, {"sort": "created_at:desc"}),
        ("sort created_at:asc", search, {"sort": "created_at:asc"}),
        ("sort task_name:asc", search, {"sort": "task_name:asc"}),
        ("sort task_name:desc", search, {"sort": "task_name:desc"}),
        ("sort task_namespace:asc", search, {"sort": "task_namespace:asc"}),
        ("sort task_namespace:desc", search, {"sort": "task_namespace:desc"}),
        ("page 1,000", search, {"page": "1000"}),
        ("last page (extra)", search, {"page": str(math.ceil(size / 50))}),
        ("page 1,000 + status (extra)", search, {"filter": "status:completed", "page": "1000"}),
        ("include_assets (extra)", search, {"include_assets": "metrics,report"}),
        ("combined: namespace + numeric range", search,
         {"filter": "task_namespace:=:ml.training,param.lr:>:0.01"}),
        ("combined: namespace + numeric range + q + sort + page 2", search,
         {"filter": "task_namespace:=:ml.training,param.lr:>:0.01", "q": "train",
          "sort": "task_name:asc", "page": "2"}),
        ("combined: two param clauses + status", search,
         {"filter": "param.lr:>:0.01,param.epochs:>=:20,status:completed"}),
        ("combined: asset range + param range (extra)", search,
         {"filter": "asset.metrics.accuracy:>:0.9,param.lr:<:0.001"}),
        ("keys", f"{suggest}/keys", {}),
        ("values task_name", f"{suggest}/values", {"key": "task_name"}),
        ("values build_name (extra)", f"{suggest}/values", {"key": "build_name"}),
        ("values param (extra)", f"{suggest}/values", {"key": "param.model.kind"}),
        ("columns", f"{suggest}/columns", {}),
    ]


def start_server(url: str, port: int, log_path: Path | None = None) -> subprocess.Popen:
    """Start gunicorn on 127.0.0.1:``port``. Its log goes to a file (``log_path``, else a
    temporary one), never to a pipe: nobody reads a pipe while requests run, and once it fills
    the workers block on logging."""
    env = {**os.environ, **SERVER_ENV, "DATABASE_URL": url,
           "DJANGO_SETTINGS_MODULE": "benchmarks.bench_settings"}
    log = (open(log_path, "w+b") if log_path is not None  # noqa: SIM115 (as long as the server)
           else tempfile.TemporaryFile())  # noqa: SIM115
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-c", "stardag_site/gunicorn.conf.py",
         "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log,
    )
    for _ in range(60):  # up to ~30 s
        time.sleep(0.5)
        if server.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"gunicorn exited: {log.read().decode()[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            continue
    stop_server(server)
    raise RuntimeError("gunicorn did not become healthy")


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def measure(port: int, key: str, path: str, params: dict, requests: int,
            warmup: int) -> tuple[list[float], dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    target = f"{path}?{urlencode(params)}" if params else path
    latencies: list[float] = []
    body: dict = {}
    for i in range(warmup + requests):
        started = time.perf_counter()
        conn.request("GET", target, headers={"X-API-Key": key})
        response = conn.getresponse()
        payload = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200:
            raise RuntimeError(f"{target}: {response.status} {payload[:300]!r}")
        if i == 0:
            body = json.loads(payload)
        if i >= warmup:
            latencies.append(elapsed)
    conn.close()
    return latencies, body


def describe(body: dict) -> str:
    if "total" in body:
        return f"total {body['total']}, {len(body['tasks'])} rows"
    for name in ("keys", "values"):
        if name in body:
            return f"{len(body[name])} {name}"
    return f"{len(body.get('params', []))} params, {len(body.get('assets', []))} assets"


def _load(values: tuple[float, float, float]) -> str:
    return "/".join(f"{v:.1f}" for v in values)


def pg_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]


def run(size: int, args: argparse.Namespace) -> list[Path]:
    if args.no_analyze_first:
        environment, key, stats = prepare_environment(size, args.refill, analyze_tables=False)
        written = [run_cases(size, args, environment, key, {**stats, "analyzed": False},
                             "-no-analyze", "right after the bulk load, no ANALYZE")]
        analyze()
        return [*written, run_cases(size, args, environment, key, {**stats, "analyzed": True},
                                    "", "after VACUUM ANALYZE")]
    environment, key, stats = prepare_environment(size, args.refill)
    return [run_cases(size, args, environment, key, stats, "", "after VACUUM ANALYZE")]


def run_cases(size: int, args: argparse.Namespace, environment: object, key: str, stats: dict,
              suffix: str, statistics: str) -> Path:
    rows = []
    load_before = os.getloadavg()
    server = start_server(args.database_url, args.port)
    try:
        for label, path, params in cases(popular_name(environment), size):
            latencies, body = measure(args.port, key, path, params, args.requests, args.warmup)
            rows.append((label, f"{path.removeprefix('/api/v1/tasks/search') or 'search'} "
                         f"{urlencode(params)}".strip(), percentile(latencies, 0.5),
                         percentile(latencies, 0.95), max(latencies), describe(body)))
            print(f"{size:>7} {label:<40} p50 {rows[-1][2]:7.1f} ms  p95 {rows[-1][3]:7.1f} ms",
                  flush=True)
    finally:
        stop_server(server)
    load_after = os.getloadavg()
    out = ROOT / "benchmarks" / "results" / f"search-{size}{suffix}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        f"# Task search latency, {size:,} tasks ({statistics})",
        "",
        f"* measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPUs "
        f"({platform.processor() or platform.machine()}), PostgreSQL {pg_version()}, "
        "gunicorn `stardag_site/gunicorn.conf.py` (DEBUG=0, suggestion cache off)",
        f"* data: {json.dumps(stats)}",
        f"* load average (1/5/15 min) before {_load(load_before)}, after {_load(load_after)} "
        "(other processes share the machine; the server and PostgreSQL need ~1 core)",
        f"* {args.requests} sequential requests per case after {args.warmup} warm-up requests, "
        "one keep-alive connection, API key auth, page_size 50",
        f"* command: `.venv/bin/python {' '.join(sys.argv)}`",
        "",
        "| case | request | p50 ms | p95 ms | max ms | answer |",
        "|---|---|---:|---:|---:|---|",
    ]
    lines += [f"| {label} | `{request}` | {p50:.1f} | {p95:.1f} | {worst:.1f} | {answer} |"
              for label, request, p50, p95, worst, answer in rows]
    out.write_text("\n".join(lines) + "\n")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, action="append", required=True,
                        help="environment size; repeat for several sizes")
    parser.add_argument("--database-url", required=True,
                        help="PostgreSQL URL of a database used only for benchmarks")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--requests", type=int, default=60, help="measured requests per case")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--refill", action="store_true", help="refill even if the size matches")
    parser.add_argument("--no-analyze-first", action="store_true",
                        help="drop and recreate the database, fill it, run the cases before any "
                        "ANALYZE (results file suffix -no-analyze), then again after VACUUM "
                        "ANALYZE; one --tasks size only")
    args = parser.parse_args()
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("the benchmark needs PostgreSQL")
    if not 1 <= args.requests <= 1000:
        parser.error("--requests must be within 1..1000")
    if args.no_analyze_first:
        if len(args.tasks) != 1:
            parser.error("--no-analyze-first takes one --tasks size")
        recreate_database(args.database_url)
    else:
        ensure_database(args.database_url)
    setup_django(args.database_url)
    for size in args.tasks:
        for path in run(size, args):
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
