"""Server cost per request through the HTTP API (gunicorn + PostgreSQL), issue 10.

    .venv/bin/python benchmarks/cost_bench.py --label after
    .venv/bin/python benchmarks/cost_bench.py --label after --search-tasks 100000

Starts gunicorn (``stardag_site/gunicorn.conf.py``, ``--workers`` x ``--threads``, DEBUG=0) on
127.0.0.1 against a PostgreSQL database of its own (created and migrated if needed), then drives
it with the SDK 0.1.6 call pattern over keep-alive HTTP connections and measures, per operation:
requests/s, p50/p95/p99 latency, answers by status, and the **CPU per request** of

* the gunicorn worker processes (user + system time from ``/proc/<pid>/stat``), and
* the PostgreSQL backends serving this database (found by their process title in ``/proc``),

both sampled every 0.2 s during a phase (a backend that exits mid-phase keeps its last sample)
and divided by the requests of the phase. CPU per request is the headline figure: unlike
throughput it barely moves when other processes share the machine.

Phases:

1. *cost* (one client, sequential): ``/health``; ``GET /builds/{id}`` with an API key and with a
   bearer token; task register, start, complete (API key, then bearer); lock acquire (first
   grant of a fresh name), release, a refused acquire (423); reads of a 1,000-task build
   (tasks, graph, events). Each write phase runs over its own tasks/names, so e.g. "start" is
   N starts of N registered tasks.
2. *load* (``--clients`` client processes, default 8): task lifecycles (register + start +
   complete, ``--lifecycles`` tasks in all) with API keys and with bearer tokens; contended lock
   acquisitions (4 names, 5 ms hold, back-off 5-20 ms on 423) with an overlap check; build GETs
   and ``/health`` for ``--seconds`` each.
3. *search* (``--search-tasks N``, optional): the cases of ``search_bench.py`` on an
   environment of N tasks (filled and analysed by that script's helpers), same figures.

Writes ``benchmarks/results/cost-<label>.json`` and ``cost-<label>.md``. Gunicorn is always
stopped. Traffic goes to 127.0.0.1 only; every loop is bounded in count or time.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import multiprocessing
import os
import platform
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

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

RESULTS = ROOT / "benchmarks" / "results"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
EXPECTED = {200, 201}


# --- CPU accounting from /proc --------------------------------------------------------------------


def _stat_fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            raw = handle.read().decode()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2:].split()  # fields from 3 (state) on


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a process (all its threads, dead ones included), to the
    nanosecond: the process's CPU-time clock (``clock_getcpuclockid``; Linux encodes it as
    ``(~pid << 3) | 2``). ``/proc/<pid>/stat`` counts in clock ticks (10 ms), too coarse for
    the short chunks ``run_sequential`` measures; it is the fallback."""
    try:
        return time.clock_gettime(((~pid) << 3) | 2)
    except OSError:
        pass
    fields = _stat_fields(pid)
    if fields is None:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def child_pids(parent: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields is not None and int(fields[1]) == parent:
                pids.append(int(entry))
    return pids


def backend_pids(database: str) -> list[int]:
    """PostgreSQL backends connected to ``database`` (process title ``postgres: ... user db``)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                title = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        words = title.split()
        if words and words[0] == "postgres:" and database in words[1:4]:
            pids.append(int(entry))
    return pids


# A fixed pure-Python workload, timed in CPU seconds four times a second by a process of its
# own while the benchmark runs. On a shared VM the CPU itself runs at varying speed (this loop
# was seen taking 20 ms and 36 ms within seconds of each other on the same machine): CPU per
# request moves with it, whatever the code does. Each operation reports the probe's median
# during it, so that two runs can be compared at equal machine speed.
_SPEED_PROBE = """
import sys, time
def work():
    table = {}
    for i in range(20000):
        table[i % 1000] = str(i)
while True:
    started = time.process_time()
    work()
    print(time.time(), (time.process_time() - started) * 1000, flush=True)
    time.sleep(0.25)
"""


class SpeedProbe:
    """Runs ``_SPEED_PROBE`` in a subprocess; ``median_ms(since, until)`` is its median CPU time
    per loop between two ``time.time()`` instants (lower is a faster machine)."""

    def __init__(self) -> None:
        self._samples: list[tuple[float, float]] = []
        self._lock = threading.Lock()
        self._process = subprocess.Popen([sys.executable, "-c", _SPEED_PROBE],
                                         stdout=subprocess.PIPE, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            at, ms = line.split()
            with self._lock:
                self._samples.append((float(at), float(ms)))

    def median_ms(self, since: float, until: float) -> float | None:
        with self._lock:
            window = sorted(ms for at, ms in self._samples if since <= at <= until)
        return round(window[len(window) // 2], 2) if window else None

    def close(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=10)


class CpuSampler:
    """Samples the CPU of the gunicorn workers and of the database's backends every 0.2 s.

    ``start()``/``stop()`` bracket an operation; ``stop()`` returns the CPU seconds each group
    spent in between, and the speed probe's median then. A process first seen during the
    operation counts from zero (it started within it); one that exits keeps its last sample.
    """

    def __init__(self, master_pid: int, database: str) -> None:
        self.master_pid, self.database = master_pid, database
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._base: dict[tuple[str, int], float] = {}
        self._last: dict[tuple[str, int], float] = {}
        self._started_at = 0.0
        self.probe = SpeedProbe()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _scan(self) -> dict[tuple[str, int], float]:
        found: dict[tuple[str, int], float] = {}
        for kind, pids in (("server", child_pids(self.master_pid)),
                           ("postgres", backend_pids(self.database))):
            for pid in pids:
                cpu = process_cpu_seconds(pid)
                if cpu is not None:
                    found[(kind, pid)] = cpu
        return found

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            found = self._scan()
            with self._lock:
                self._last.update(found)

    def start(self) -> None:
        found = self._scan()
        with self._lock:
            self._base = dict(found)
            self._last = dict(found)
        self._started_at = time.time()

    def stop(self) -> dict[str, Any]:
        found = self._scan()
        with self._lock:
            self._last.update(found)
            totals: dict[str, float] = defaultdict(float)
            for key, value in self._last.items():
                totals[key[0]] += value - self._base.get(key, 0.0)
        return {"server": totals["server"], "postgres": totals["postgres"],
                "probe_ms": self.probe.median_ms(self._started_at, time.time())}

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.probe.close()


# --- HTTP client ---------------------------------------------------------------------------------


class Client:
    """One keep-alive connection with fixed credentials; records latency and status."""

    def __init__(self, port: int, auth: dict[str, str]) -> None:
        self.port = port
        self.headers = {"Content-Type": "application/json", "Accept": "application/json"}
        self.params: dict[str, str] = {}
        if "api_key" in auth:
            self.headers["X-API-Key"] = auth["api_key"]
        elif "token" in auth:
            self.headers["Authorization"] = f"Bearer {auth['token']}"
        if "environment_id" in auth:
            self.params = {"environment_id": auth["environment_id"]}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method: str, path: str, body: Any = None,
             params: dict[str, str] | None = None) -> tuple[int, bytes, float]:
        query = {**self.params, **(params or {})}
        target = f"{path}?{urlencode(query)}" if query else path
        payload = json.dumps(body).encode() if body is not None else None
        started = time.perf_counter()
        for attempt in range(2):
            try:
                self.conn.request(method, target, body=payload, headers=self.headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()  # the server closed an idle keep-alive connection: reconnect
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt:
                    raise
        return response.status, data, (time.perf_counter() - started) * 1000


class Recorder:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.statuses: Counter[int] = Counter()

    def add(self, status: int, elapsed_ms: float) -> None:
        self.latencies.append(elapsed_ms)
        self.statuses[status] += 1

    def merge(self, other: dict[str, Any]) -> None:
        self.latencies += other["latencies"]
        self.statuses.update({int(k): v for k, v in other["statuses"].items()})

    def dump(self) -> dict[str, Any]:
        return {"latencies": self.latencies, "statuses": dict(self.statuses)}


# --- SDK-shaped payloads -----------------------------------------------------------------------


def task_payload(tag: str, index: int) -> dict[str, Any]:
    """``task_register`` body as SDK 0.1.6 sends it: the serialised task, its upstream ids."""
    task_id = f"{tag}-{index:06d}"
    upstream = [f"{tag}-{index - 1:06d}"] if index % 5 else []
    data = {
        "__name": "TrainModel", "__namespace": "ml.training", "version": "1",
        "learning_rate": round(0.001 * (1 + index % 10), 4), "epochs": 10 + index % 7,
        "dataset": f"dataset_{index % 30:02d}", "shuffle": bool(index % 2),
        "model": {"kind": "xgboost", "depth": 6, "features": ["a", "b", "c"]},
        "upstream": {"__name": "CleanDataset", "__namespace": "etl", "version": "2",
                     "source": f"s3://bucket/raw/{index % 30:02d}.parquet"},
    }
    return {"task_id": task_id, "task_namespace": "ml.training", "task_name": "TrainModel",
            "task_data": data, "version": "1",
            "output_uri": f"s3://bucket/outputs/ml.training/TrainModel/{task_id}.pkl",
            "dependency_task_ids": upstream}


# --- fixtures (direct database writes before the server starts) --------------------------------


def prepare(big_build_tasks: int) -> dict[str, Any]:
    """A fresh workspace with an API key, a bearer token and a build of ``big_build_tasks``
    tasks (three events, one asset and one edge each), written through the ORM."""
    import datetime as dt

    from django.utils import timezone

    from builds.models import Build, Event
    from builds.services import build_create
    from stardag_site.ids import uuid7
    from tasks.models import Task, TaskAsset, TaskDependency
    from tests.factories import internal_token, make_user, make_workspace
    from workspaces.api_keys import api_key_create

    tag = secrets.token_hex(4)
    owner = make_user(f"cost-{tag}@bench.local", external_id=f"cost-{tag}")
    workspace = make_workspace(owner, slug=f"cost-{tag}", name=f"Cost benchmark {tag}")
    environment = workspace.environments.get()
    key = api_key_create(environment=environment, name="cost benchmark").raw_key
    token = internal_token(owner, workspace)
    build = build_create(environment=environment, commit_hash="bench", root_task_ids=["r"])
    now = timezone.now()
    tasks = [Task(id=uuid7(), environment=environment, task_id=f"big-{i:06d}",
                  task_namespace="ml.training", task_name="TrainModel",
                  task_data=task_payload("big", i)["task_data"], status="completed",
                  status_build=build, last_build=build, asset_count=1,
                  created_at=now + dt.timedelta(microseconds=i),
                  completed_at=now + dt.timedelta(microseconds=i),
                  started_at=now + dt.timedelta(microseconds=i))
             for i in range(big_build_tasks)]
    Task.objects.bulk_create(tasks, batch_size=500)
    TaskDependency.objects.bulk_create(
        [TaskDependency(dependency=a, dependent=b) for a, b in itertools.pairwise(tasks)],
        batch_size=1000)
    Event.objects.bulk_create([
        Event(id=uuid7(), build=build, task=task, event_type=kind,
              created_at=now + dt.timedelta(milliseconds=3 * i + step))
        for i, task in enumerate(tasks)
        for step, kind in enumerate(["task_pending", "task_started", "task_completed"])
    ], batch_size=1000)
    TaskAsset.objects.bulk_create([TaskAsset(id=uuid7(), task=task, environment=environment,
                                             asset_type="json", name="metrics",
                                             body={"accuracy": 0.9})
                                   for task in tasks], batch_size=1000)
    Build.objects.filter(pk=build.pk).update(status="completed", completed_at=now)
    return {"api_key": key, "token": token, "environment_id": str(environment.pk),
            "big_build": str(build.pk)}


# --- phases ------------------------------------------------------------------------------------


def summarise(name: str, phase: str, clients: int, recorder: Recorder, seconds: float,
              cpu: dict[str, float], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    n = len(recorder.latencies)
    lat = recorder.latencies
    errors = {str(s): c for s, c in sorted(recorder.statuses.items())
              if s not in EXPECTED and not (extra or {}).get("ok_status", set()) >= {s}}
    row = {
        "operation": name, "phase": phase, "clients": clients, "requests": n,
        "seconds": round(seconds, 3), "requests_per_s": round(n / seconds, 1) if seconds else 0,
        "p50_ms": round(percentile(lat, 0.50), 2) if lat else None,
        "p95_ms": round(percentile(lat, 0.95), 2) if lat else None,
        "p99_ms": round(percentile(lat, 0.99), 2) if lat else None,
        "statuses": {str(s): c for s, c in sorted(recorder.statuses.items())},
        "errors": errors,
        "server_cpu_ms_per_request": round(cpu["server"] * 1000 / n, 3) if n else None,
        "postgres_cpu_ms_per_request": round(cpu["postgres"] * 1000 / n, 3) if n else None,
        "speed_probe_ms": cpu.get("probe_ms"),
    }
    for key, value in (extra or {}).items():
        if key != "ok_status":
            row[key] = value
    flag = f" errors {errors}" if errors else ""
    print(f"{phase:>6} {name:<34} n={n:<5} {row['requests_per_s']:>8}/s p50 {row['p50_ms']} "
          f"p95 {row['p95_ms']} | server {row['server_cpu_ms_per_request']} ms, "
          f"pg {row['postgres_cpu_ms_per_request']} ms, probe {row['speed_probe_ms']}"
          + (f" | chunk median server {row['server_cpu_ms_chunk_median']}, pg "
             f"{row['postgres_cpu_ms_chunk_median']}" if "server_cpu_ms_chunk_median" in row
             else "") + flag, flush=True)
    return row


def run_sequential(sampler: CpuSampler, name: str, calls: list[tuple], client: Client,
                   ok_status: set[int] | None = None, warmup: int = 5,
                   chunks: int = 10) -> dict[str, Any]:
    """Run ``calls`` ((method, path, body, params)) one after another; the first ``warmup``
    calls of a repeated read are not measured (pass 0 for writes, each call is distinct).

    CPU is also measured per chunk (``chunks`` equal slices of the calls, each bracketed by
    its own samples): the row's ``*_chunk_median`` figures are the median over chunks of CPU
    per request. The VM's CPU speed changes within seconds (see ``_SPEED_PROBE``); a slow
    spell inflates the mean of the whole operation but only the chunks it covers."""
    for call in calls[:warmup]:
        client.call(*call)
    measured = calls[warmup:]
    size = max(1, -(-len(measured) // chunks))
    recorder = Recorder()
    totals: dict[str, float] = defaultdict(float)
    per_chunk: dict[str, list[float]] = defaultdict(list)
    probes: list[float] = []
    started = time.perf_counter()
    for first in range(0, len(measured), size):
        chunk = measured[first:first + size]
        sampler.start()
        for call in chunk:
            status, _, elapsed = client.call(*call)
            recorder.add(status, elapsed)
        cpu = sampler.stop()
        for kind in ("server", "postgres"):
            totals[kind] += cpu[kind]
            per_chunk[kind].append(cpu[kind] * 1000 / len(chunk))
        if cpu["probe_ms"] is not None:
            probes.append(cpu["probe_ms"])
    seconds = time.perf_counter() - started
    probe = round(sorted(probes)[len(probes) // 2], 2) if probes else None
    return summarise(name, "cost", 1, recorder, seconds,
                     {"server": totals["server"], "postgres": totals["postgres"],
                      "probe_ms": probe},
                     {"ok_status": ok_status or set(),
                      "server_cpu_ms_chunk_median":
                          round(statistics.median(per_chunk["server"]), 3),
                      "postgres_cpu_ms_chunk_median":
                          round(statistics.median(per_chunk["postgres"]), 3)})


def cost_phase(sampler: CpuSampler, port: int, fx: dict[str, Any], n: int,
               reads: int) -> list[dict[str, Any]]:
    key_client = Client(port, {"api_key": fx["api_key"]})
    bearer_client = Client(port, {"token": fx["token"], "environment_id": fx["environment_id"]})
    rows = [run_sequential(sampler, "/health", [("GET", "/health", None, None)] * (4 * n + 5),
                           key_client)]
    _, body, _ = key_client.call("POST", "/api/v1/builds",
                                 {"commit_hash": "bench", "root_task_ids": [],
                                  "description": None})
    build = json.loads(body)["id"]
    get = [("GET", f"/api/v1/builds/{build}", None, None)] * (2 * n + 5)
    rows.append(run_sequential(sampler, "GET /builds/{id} (API key)", get, key_client))
    rows.append(run_sequential(sampler, "GET /builds/{id} (bearer)", get, bearer_client))
    for label, client in (("API key", key_client), ("bearer", bearer_client)):
        tag = f"c{secrets.token_hex(3)}"
        payloads = [task_payload(tag, i) for i in range(n)]
        base = f"/api/v1/builds/{build}/tasks"
        rows.append(run_sequential(sampler, f"task register ({label})",
                                   [("POST", base, p, None) for p in payloads], client, warmup=0))
        rows.append(run_sequential(sampler, f"task start ({label})",
                                   [("POST", f"{base}/{p['task_id']}/start", None, None)
                                    for p in payloads], client, warmup=0))
        rows.append(run_sequential(sampler, f"task complete ({label})",
                                   [("POST", f"{base}/{p['task_id']}/complete", None, None)
                                    for p in payloads], client, warmup=0))
    tag = f"l{secrets.token_hex(3)}"
    names = [f"{tag}-{i:06d}" for i in range(n)]
    acquire = {"owner_id": "bench-owner", "ttl_seconds": 60, "check_task_completion": True}
    rows.append(run_sequential(sampler, "lock acquire (uncontended)",
                               [("POST", f"/api/v1/locks/{name}/acquire", acquire, None)
                                for name in names], key_client, warmup=0))
    rows.append(run_sequential(sampler, "lock acquire (refused, 423)",
                               [("POST", f"/api/v1/locks/{name}/acquire",
                                 {**acquire, "owner_id": "someone-else"}, None)
                                for name in names], key_client, ok_status={423}, warmup=0))
    rows.append(run_sequential(sampler, "lock release",
                               [("POST", f"/api/v1/locks/{name}/release",
                                 {"owner_id": "bench-owner", "task_completed": False}, None)
                                for name in names], key_client, warmup=0))
    big = fx["big_build"]
    for what in ("tasks", "graph", "events"):
        rows.append(run_sequential(sampler, f"1,000-task build: {what}",
                                   [("GET", f"/api/v1/builds/{big}/{what}", None, None)]
                                   * (reads + 3), key_client, warmup=3))
    return rows


def _lifecycle_client(index: int, port: int, auth: dict[str, str], build: str, tag: str,
                      count: int, start_at: float) -> dict[str, Any]:
    client = Client(port, auth)
    recorders = {op: Recorder() for op in ("register", "start", "complete")}
    base = f"/api/v1/builds/{build}/tasks"
    time.sleep(max(0.0, start_at - time.time()))
    for i in range(count):
        payload = task_payload(f"{tag}-{index}", i)
        for op, method, path, body in (
            ("register", "POST", base, payload),
            ("start", "POST", f"{base}/{payload['task_id']}/start", None),
            ("complete", "POST", f"{base}/{payload['task_id']}/complete", None),
        ):
            status, _, elapsed = client.call(method, path, body)
            recorders[op].add(status, elapsed)
    return {op: rec.dump() for op, rec in recorders.items()}


def _lock_client(index: int, port: int, auth: dict[str, str], names: list[str], hold: float,
                 start_at: float, deadline: float) -> dict[str, Any]:
    client = Client(port, auth)
    rng = random.Random(f"{os.getpid()}-{index}")
    owner = f"load-{os.getpid()}-{index}"
    acquire, release = Recorder(), Recorder()
    grants: list[tuple[str, int, float, float]] = []
    time.sleep(max(0.0, start_at - time.time()))
    while time.time() < deadline:
        name = rng.choice(names)
        status, data, elapsed = client.call("POST", f"/api/v1/locks/{name}/acquire", {
            "owner_id": owner, "ttl_seconds": 30, "check_task_completion": False})
        acquire.add(status, elapsed)
        if status == 200 and json.loads(data).get("acquired"):
            began = time.time()
            version = json.loads(data)["lock"]["version"]
            time.sleep(hold)
            ended = time.time()
            grants.append((name, version, began, ended))
            status, _, elapsed = client.call("POST", f"/api/v1/locks/{name}/release",
                                             {"owner_id": owner, "task_completed": False})
            release.add(status, elapsed)
        else:
            time.sleep(rng.uniform(0.005, 0.020))
    return {"acquire": acquire.dump(), "release": release.dump(), "grants": grants}


def _get_client(index: int, port: int, auth: dict[str, str], path: str, start_at: float,
                deadline: float) -> dict[str, Any]:
    client = Client(port, auth)
    recorder = Recorder()
    time.sleep(max(0.0, start_at - time.time()))
    while time.time() < deadline:
        status, _, elapsed = client.call("GET", path)
        recorder.add(status, elapsed)
    return recorder.dump()


def load_phase(sampler: CpuSampler, port: int, fx: dict[str, Any],
               args: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    context = multiprocessing.get_context("fork")
    key_auth = {"api_key": fx["api_key"]}
    bearer_auth = {"token": fx["token"], "environment_id": fx["environment_id"]}
    _, body, _ = Client(port, key_auth).call("POST", "/api/v1/builds",
                                             {"commit_hash": "bench", "root_task_ids": []})
    build = json.loads(body)["id"]
    per_client = max(1, args.lifecycles // args.clients)
    with context.Pool(args.clients) as pool:
        for label, auth in (("API key", key_auth), ("bearer", bearer_auth)):
            tag = f"t{secrets.token_hex(3)}"
            start_at = time.time() + 1.0
            sampler.start()
            results = pool.starmap(_lifecycle_client, [
                (i, port, auth, build, tag, per_client, start_at) for i in range(args.clients)])
            seconds = time.time() - start_at
            cpu = sampler.stop()
            total = Recorder()
            per_op = {op: Recorder() for op in ("register", "start", "complete")}
            for result in results:
                for op, dump in result.items():
                    per_op[op].merge(dump)
                    total.merge(dump)
            rows.append(summarise(f"task lifecycles ({label})", "load", args.clients, total,
                                  seconds, cpu, {
                                      "lifecycles": per_client * args.clients,
                                      "lifecycles_per_s": round(per_client * args.clients
                                                                / seconds, 1),
                                      **{f"{op}_p95_ms": round(percentile(r.latencies, 0.95), 2)
                                         for op, r in per_op.items()}}))
            print(f"       lifecycles/s {rows[-1]['lifecycles_per_s']}", flush=True)

        names = [f"contended-{secrets.token_hex(3)}-{i}" for i in range(4)]
        start_at = time.time() + 1.0
        deadline = start_at + args.seconds
        sampler.start()
        results = pool.starmap(_lock_client, [
            (i, port, key_auth, names, 0.005, start_at, deadline) for i in range(args.clients)])
        seconds = time.time() - start_at
        cpu = sampler.stop()
        from benchmarks.lock_bench import check_grants

        acquire, release = Recorder(), Recorder()
        grants = []
        for result in results:
            acquire.merge(result["acquire"])
            release.merge(result["release"])
            grants += result["grants"]
        problems, peak = check_grants(grants)
        both = Recorder()
        both.merge(acquire.dump())
        both.merge(release.dump())
        rows.append(summarise("locks contended (acquire+release)", "load", args.clients, both,
                              seconds, cpu, {
                                  "ok_status": {423},
                                  "acquisitions": len(grants),
                                  "acquisitions_per_s": round(len(grants) / seconds, 1),
                                  "acquire_p95_ms": round(percentile(acquire.latencies, 0.95), 2),
                                  "refusals_423": acquire.statuses.get(423, 0),
                                  "overlap_check": "OK" if not problems else problems[:3],
                                  "peak_held": peak}))
        print(f"       acquisitions/s {rows[-1]['acquisitions_per_s']}, overlap "
              f"{rows[-1]['overlap_check']}", flush=True)

        for label, auth, path in (
            ("GET /builds/{id} (API key)", key_auth, f"/api/v1/builds/{build}"),
            ("GET /builds/{id} (bearer)", bearer_auth, f"/api/v1/builds/{build}"),
            ("/health", {}, "/health"),
        ):
            start_at = time.time() + 1.0
            deadline = start_at + args.seconds
            sampler.start()
            results = pool.starmap(_get_client, [
                (i, port, auth, path, start_at, deadline) for i in range(args.clients)])
            seconds = time.time() - start_at
            cpu = sampler.stop()
            recorder = Recorder()
            for result in results:
                recorder.merge(result)
            rows.append(summarise(label, "load", args.clients, recorder, seconds, cpu))
    return rows


def search_phase(sampler: CpuSampler, port: int, size: int,
                 requests: int) -> list[dict[str, Any]]:
    """The cases of ``search_bench.py`` on its ``bench-<size>`` environment (filled there)."""
    from benchmarks.search_bench import cases, popular_name, prepare_environment

    environment, key, _ = prepare_environment(size, refill=False)
    name = popular_name(environment)
    from django.db import connections

    connections.close_all()
    client = Client(port, {"api_key": key})
    rows = []
    for label, path, params in cases(name, size):
        calls = [("GET", path, None, params)] * (requests + 3)
        rows.append(run_sequential(sampler, f"search: {label}", calls, client, warmup=3))
    return rows


# --- report ------------------------------------------------------------------------------------


def server_errors(log: Path) -> dict[str, int]:
    """The exceptions the server logged (last line of each traceback), counted: the cause of
    any 5xx in the table."""
    counts: Counter[str] = Counter()
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    for index, line in enumerate(lines):
        if line.startswith("Traceback"):
            tail = next((later for later in lines[index + 1:]
                         if later and not later.startswith((" ", "Traceback", "The above",
                                                             "During handling"))), "?")
            counts[tail[:200]] += 1
    return dict(counts.most_common(10))


def markdown(report: dict[str, Any]) -> str:
    lines = [
        f"# Server cost per request ({report['label']})",
        "",
        f"* measured {report['measured']} on {report['cpus']} CPUs ({report['cpu_model']}), "
        f"PostgreSQL {report['postgres']}; gunicorn `stardag_site/gunicorn.conf.py`, DEBUG=0, "
        f"{report['workers']} workers x {report['threads']} threads",
        f"* load average (1/5/15 min) before {report['load_before']}, after "
        f"{report['load_after']} (other processes share the machine: throughput is noisy, CPU "
        "per request is the headline figure)",
        f"* command: `{report['command']}`",
        "* server ms = user+system CPU of the gunicorn workers per request; PostgreSQL ms = CPU "
        "of this database's backends per request",
        "* (chunk median) = the median over ten slices of a one-client operation of its CPU per "
        "request (a slow spell of the VM inflates the whole operation's mean, but only the "
        "slices it covers)",
        "* speed probe ms = median CPU time of a fixed Python loop run four times a second "
        "during the operation (the VM's CPU speed varies; lower is faster, and every CPU figure "
        "of the row scales with it)",
        "",
        "| phase | operation | clients | requests | req/s | p50 ms | p95 ms | p99 ms | "
        "server CPU ms/req | (chunk median) | PostgreSQL CPU ms/req | (chunk median) | "
        "speed probe ms | statuses |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in report["rows"]:
        statuses = ", ".join(f"{k}: {v}" for k, v in row["statuses"].items())
        lines.append(
            f"| {row['phase']} | {row['operation']} | {row['clients']} | {row['requests']} | "
            f"{row['requests_per_s']} | {row['p50_ms']} | {row['p95_ms']} | {row['p99_ms']} | "
            f"**{row['server_cpu_ms_per_request']}** | "
            f"{row.get('server_cpu_ms_chunk_median', '')} | "
            f"{row['postgres_cpu_ms_per_request']} | "
            f"{row.get('postgres_cpu_ms_chunk_median', '')} | "
            f"{row.get('speed_probe_ms')} | {statuses} |")
    if report.get("server_errors"):
        lines += ["", f"Server errors logged: {report['server_errors']}"]
    extras = [row for row in report["rows"] if "lifecycles_per_s" in row
              or "acquisitions_per_s" in row]
    if extras:
        lines += ["", "Load phase:", ""]
        for row in extras:
            if "lifecycles_per_s" in row:
                lines.append(f"* {row['operation']}: **{row['lifecycles_per_s']} lifecycles/s** "
                             f"({row['lifecycles']} tasks; p95 register "
                             f"{row['register_p95_ms']} / start {row['start_p95_ms']} / "
                             f"complete {row['complete_p95_ms']} ms), errors "
                             f"{row['errors'] or 'none'}")
            else:
                lines.append(f"* {row['operation']}: **{row['acquisitions_per_s']} "
                             f"acquisitions/s** on 4 names ({row['acquisitions']} grants, "
                             f"{row['refusals_423']} refusals, acquire p95 "
                             f"{row['acquire_p95_ms']} ms), overlap check "
                             f"{row['overlap_check']}, errors {row['errors'] or 'none'}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url",
                        default="postgres://postgres@127.0.0.1:5432/stardag_perf_bench")
    parser.add_argument("--port", type=int, default=18801)
    parser.add_argument("--label", default="latest", help="report name: cost-<label>.md/json")
    parser.add_argument("--workers", type=int, default=2, help="WEB_CONCURRENCY")
    parser.add_argument("--threads", type=int, help="GUNICORN_THREADS (default: the conf's)")
    parser.add_argument("-n", "--requests", type=int, default=300,
                        help="requests per write operation (reads use 2-4x as many)")
    parser.add_argument("--reads", type=int, default=40, help="reads of the 1,000-task build")
    parser.add_argument("--big-build", type=int, default=1000, help="tasks of the big build")
    parser.add_argument("--clients", type=int, default=8, help="client processes (load phase)")
    parser.add_argument("--lifecycles", type=int, default=1000, help="tasks in the load phase")
    parser.add_argument("--seconds", type=float, default=8.0, help="duration of timed loads")
    parser.add_argument("--search-tasks", type=int, default=0,
                        help="also run the search cases at this size (0: skip)")
    parser.add_argument("--search-requests", type=int, default=30)
    parser.add_argument("--skip", action="append", default=[], choices=["cost", "load"])
    args = parser.parse_args()
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("the benchmark needs PostgreSQL")
    if not (1 <= args.requests <= 5000 and 1 <= args.clients <= 32
            and 0 < args.seconds <= 60 and args.lifecycles <= 20000):
        parser.error("--requests 1..5000, --clients 1..32, --seconds up to 60")

    ensure_database(args.database_url)
    setup_django(args.database_url)
    fixtures = prepare(args.big_build)
    version = pg_version()
    from django.db import connections

    connections.close_all()
    os.environ["WEB_CONCURRENCY"] = str(args.workers)
    # The limiter still counts every request (its cost is part of the figures), but the load
    # phase's few thousand requests a minute on one key must not be refused.
    os.environ.setdefault("RATE_LIMIT_REQUESTS", "1000000")
    if args.threads:
        os.environ["GUNICORN_THREADS"] = str(args.threads)
    threads = os.environ.get("GUNICORN_THREADS", "conf default")
    database = args.database_url.rsplit("/", 1)[1]
    load_before = "/".join(f"{v:.2f}" for v in os.getloadavg())
    server_log = Path(tempfile.gettempdir()) / f"stardag-cost-{args.label}-server.log"
    server = start_server(args.database_url, args.port, server_log)
    sampler = CpuSampler(server.pid, database)
    rows: list[dict[str, Any]] = []
    try:
        if "cost" not in args.skip:
            rows += cost_phase(sampler, args.port, fixtures, args.requests, args.reads)
        if "load" not in args.skip:
            rows += load_phase(sampler, args.port, fixtures, args)
        if args.search_tasks:
            rows += search_phase(sampler, args.port, args.search_tasks, args.search_requests)
    finally:
        sampler.close()
        stop_server(server)
    report = {
        "label": args.label,
        "measured": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "cpus": os.cpu_count(),
        "cpu_model": platform.processor() or platform.machine(),
        "postgres": version,
        "workers": args.workers,
        "threads": threads,
        "load_before": load_before,
        "load_after": "/".join(f"{v:.2f}" for v in os.getloadavg()),
        "command": f".venv/bin/python {' '.join(sys.argv)}",
        "rows": rows,
        "server_errors": server_errors(server_log),
        "server_log": str(server_log),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"cost-{args.label}.json").write_text(json.dumps(report, indent=1) + "\n")
    (RESULTS / f"cost-{args.label}.md").write_text(markdown(report))
    print(f"wrote {RESULTS / f'cost-{args.label}.md'}")


if __name__ == "__main__":
    main()
