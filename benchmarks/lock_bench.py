"""Lease-lock throughput through the HTTP API (gunicorn + PostgreSQL), many client processes.

    .venv/bin/python benchmarks/lock_bench.py
    .venv/bin/python benchmarks/lock_bench.py --cap 2

Creates the database if needed and migrates it, makes a fresh workspace (so lock versions start
at 1) with an API key, optionally sets the environment's ``max_concurrent_locks`` (``--cap``),
starts gunicorn on 127.0.0.1 (``WEB_CONCURRENCY``/``GUNICORN_THREADS`` from ``--workers`` /
``--threads``), then runs ``--processes`` client processes, each with its own keep-alive
``httpx.Client``, for ``--duration`` seconds: pick one of ``--names`` lock names at random,
acquire it (own owner_id, ttl 30 s, no completion check); on 200 hold it 1-3 ms and release it;
on 423/429 back off 5-20 ms. Afterwards it checks per name that the client-observed hold
intervals never overlap and that versions strictly increase in grant order, computes the peak
number of simultaneously held locks, and writes a section of ``benchmarks/results/locks.md``.
Gunicorn is always stopped. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import os
import platform
import random
import secrets
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.search_bench import (  # noqa: E402
    ensure_database,
    percentile,
    pg_version,
    setup_django,
    start_server,
    stop_server,
)

RESULTS = ROOT / "benchmarks" / "results" / "locks.md"
TTL_SECONDS = 30


def prepare_environment(cap: int | None) -> str:
    """A fresh workspace (lock versions start at 1), the cap if any, and a new API key."""
    from tests.factories import make_user, make_workspace
    from workspaces.api_keys import api_key_create
    from workspaces.services import environment_update

    tag = secrets.token_hex(4)
    owner = make_user(f"lockbench-{tag}@bench.local", external_id=f"lockbench-{tag}")
    workspace = make_workspace(owner, slug=f"lockbench-{tag}", name=f"Lock benchmark {tag}")
    environment = workspace.environments.get()
    if cap is not None:
        environment_update(environment=environment, max_concurrent_locks=cap)
    return api_key_create(environment=environment, name="lock benchmark").raw_key


def worker(index: int, base_url: str, key: str, names: list[str], start_at: float,
           deadline: float) -> dict:
    """One client process; returns its grants, latencies and counters."""
    rng = random.Random(f"{os.getpid()}-{index}")
    owner = f"bench-{os.getpid()}-{index}"
    grants: list[tuple[str, int, float, float]] = []
    latency: dict[int, list[float]] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    with httpx.Client(base_url=base_url, headers={"X-API-Key": key}, timeout=30) as client:
        time.sleep(max(0.0, start_at - time.time()))
        while time.time() < deadline:
            name = rng.choice(names)
            t0 = time.perf_counter()
            try:
                response = client.post(f"/api/v1/locks/{name}/acquire", json={
                    "owner_id": owner, "ttl_seconds": TTL_SECONDS,
                    "check_task_completion": False})
            except httpx.HTTPError as error:
                counts[f"error_acquire_{type(error).__name__}"] += 1
                time.sleep(0.05)
                continue
            t_start = time.time()
            elapsed = (time.perf_counter() - t0) * 1000
            status = response.status_code
            latency[status].append(elapsed)
            counts[f"acquire_{status}"] += 1
            if status == 200 and response.json().get("acquired"):
                version = response.json()["lock"]["version"]
                time.sleep(rng.uniform(0.001, 0.003))
                t_end = time.time()
                grants.append((name, version, t_start, t_end))
                try:
                    released = client.post(f"/api/v1/locks/{name}/release",
                                           json={"owner_id": owner})
                    counts[f"release_{released.status_code}"] += 1
                except httpx.HTTPError as error:
                    counts[f"error_release_{type(error).__name__}"] += 1
            else:
                time.sleep(rng.uniform(0.005, 0.020))
    return {"grants": grants, "latency": dict(latency), "counts": dict(counts)}


def check_grants(grants: list[tuple[str, int, float, float]]) -> tuple[list[str], int]:
    """Problems (overlapping holds, non-increasing versions) and the peak of held locks."""
    problems: list[str] = []
    by_name: dict[str, list[tuple[str, int, float, float]]] = defaultdict(list)
    for grant in grants:
        by_name[grant[0]].append(grant)
    for name, rows in sorted(by_name.items()):
        rows.sort(key=lambda row: row[2])
        for previous, current in itertools.pairwise(rows):
            if current[2] < previous[3]:
                problems.append(f"{name}: hold v{current[1]} starts {current[2]:.6f} before "
                                f"v{previous[1]} ends {previous[3]:.6f}")
            if current[1] <= previous[1]:
                problems.append(f"{name}: version {current[1]} after {previous[1]}")
    events = sorted([(start, 1) for _, _, start, _ in grants]
                    + [(end, -1) for _, _, _, end in grants])  # ends first on equal times
    peak = held = 0
    for _, delta in events:
        held += delta
        peak = max(peak, held)
    return problems, peak


def write_section(title: str, lines: list[str]) -> None:
    """Replace (or append) the ``## title`` section of the results file, keeping the others."""
    header = "# Lease-lock throughput (`benchmarks/lock_bench.py`)\n"
    sections: dict[str, str] = {}
    if RESULTS.exists():
        for chunk in RESULTS.read_text().split("\n## ")[1:]:
            heading, _, body = chunk.partition("\n")
            sections[heading] = body
    sections[title] = "\n".join(lines) + "\n"
    order = sorted(sections, key=lambda heading: (heading != "no cap", heading))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(header + "".join(f"\n## {h}\n{sections[h].rstrip()}\n" for h in order))


def _ms(samples: list[float]) -> str:
    if not samples:
        return "n/a"
    return f"p50 {percentile(samples, 0.5):.1f} ms, p95 {percentile(samples, 0.95):.1f} ms"


def run(args: argparse.Namespace) -> None:
    ensure_database(args.database_url)
    setup_django(args.database_url)
    key = prepare_environment(args.cap)
    from django.db import connections

    version = pg_version()
    connections.close_all()  # nothing Django-side is shared with the forked clients
    os.environ.update(WEB_CONCURRENCY=str(args.workers), GUNICORN_THREADS=str(args.threads))
    names = [f"bench-lock-{i}" for i in range(args.names)]
    load_before = os.getloadavg()
    server = start_server(args.database_url, args.port)
    try:
        start_at = time.time() + 2.0  # every client connected and waiting
        deadline = start_at + args.duration
        context = multiprocessing.get_context("fork")
        with context.Pool(args.processes) as pool:
            results = pool.starmap(worker, [
                (i, f"http://127.0.0.1:{args.port}", key, names, start_at, deadline)
                for i in range(args.processes)])
    finally:
        stop_server(server)
    load_after = os.getloadavg()
    elapsed = args.duration  # requests start before the deadline

    grants = [grant for result in results for grant in result["grants"]]
    counts: dict[str, int] = defaultdict(int)
    latency: dict[int, list[float]] = defaultdict(list)
    for result in results:
        for name, value in result["counts"].items():
            counts[name] += value
        for status, samples in result["latency"].items():
            latency[status] += samples
    problems, peak = check_grants(grants)
    calls = sum(value for name, value in counts.items()
                if name.startswith(("acquire_", "release_")))
    acquired = len(grants)
    other = {name: value for name, value in counts.items()
             if name not in ("acquire_200", "acquire_423", "acquire_429", "release_200")}
    title = f"cap {args.cap}" if args.cap is not None else "no cap"
    cap_line = (f"* peak simultaneously held locks (client-observed hold intervals, all names): "
                f"{peak} (cap {args.cap}: {'OK' if peak <= args.cap else 'EXCEEDED'}); "
                f"429 responses: {counts['acquire_429']}" if args.cap is not None else
                f"* peak simultaneously held locks (all names, no cap): {peak} of {args.names}")
    lines = [
        "",
        f"* measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPUs (nproc) "
        f"({platform.processor() or platform.machine()}), PostgreSQL {version}; gunicorn "
        f"`stardag_site/gunicorn.conf.py`, DEBUG=0, WEB_CONCURRENCY={args.workers}, "
        f"GUNICORN_THREADS={args.threads}; clients, server and PostgreSQL share the machine",
        f"* {args.processes} client processes x 1 keep-alive connection, {args.duration:g} s, "
        f"{args.names} lock names, hold 1-3 ms, back-off 5-20 ms on 423/429",
        f"* command: `.venv/bin/python {' '.join(sys.argv)}`",
        f"* load average (1/5/15 min) before {'/'.join(f'{v:.2f}' for v in load_before)}, "
        f"after {'/'.join(f'{v:.2f}' for v in load_after)}",
        "",
        f"* **acquisitions/s: {acquired / elapsed:.1f}** ({acquired} grants in {elapsed:.1f} s)",
        f"* lock calls/s (acquire + release): {calls / elapsed:.1f} ({calls} calls)",
        f"* 423 held_by_other: {counts['acquire_423']}",
        f"* acquire latency, 200: {_ms(latency[200])}",
        f"* acquire latency, 423: {_ms(latency[423])}",
        *([f"* acquire latency, 429: {_ms(latency[429])}"] if latency.get(429) else []),
        "* overlap / version check: "
        + ("OK (no overlapping holds per name, versions strictly increasing)" if not problems
           else f"FAILED, {len(problems)} problems, e.g. {problems[:3]}"),
        cap_line,
        f"* other outcomes: {other or 'none'}",
    ]
    print(f"## {title}\n" + "\n".join(lines))
    write_section(title, lines)
    print(f"wrote {RESULTS}")
    if problems or (args.cap is not None and peak > args.cap):
        raise SystemExit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url",
                        default="postgres://postgres@127.0.0.1:5432/stardag_lockbench")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--processes", type=int, default=16, help="client processes")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds")
    parser.add_argument("--names", type=int, default=5, help="distinct lock names")
    parser.add_argument("--workers", type=int, default=4, help="WEB_CONCURRENCY")
    parser.add_argument("--threads", type=int, default=4, help="GUNICORN_THREADS")
    parser.add_argument("--cap", type=int, help="environment max_concurrent_locks")
    args = parser.parse_args()
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("the benchmark needs PostgreSQL")
    if not (1 <= args.processes <= 64 and 0 < args.duration <= 120 and 1 <= args.names <= 100):
        parser.error("--processes 1..64, --duration up to 120 s, --names 1..100")
    if args.cap is not None and args.cap < 1:
        parser.error("--cap must be at least 1")
    run(args)


if __name__ == "__main__":
    main()
