"""A small driver of the /api/v2 protocol for in-process tests: what the SDK sends, by hand."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from rest_framework.test import APIClient

V2 = "/api/v2"


def now_iso(offset_seconds: float = 0) -> str:
    moment = datetime.datetime.now(datetime.UTC) + datetime.timedelta(
        seconds=offset_seconds)
    return moment.isoformat().replace("+00:00", "Z")


def item(name: str, *, upstreams: list[str] | None = None, body: dict[str, Any] | None = None,
         observed_complete: bool = False, observed_at: str | None = None,
         task_id: str | None = None, instance_hash: str | None = None,
         version: str = "") -> dict[str, Any]:
    """A registration item; ids derive from the name so the same name is the same task."""
    return {
        "task_id": task_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"task/{name}")),
        "task_namespace": "", "task_name": name.split("#")[0], "version": version,
        "output_uri": f"/targets/{name}.json",
        "instance_hash": instance_hash or str(uuid.uuid5(uuid.NAMESPACE_URL, f"inst/{name}")),
        "body": body if body is not None else {"name": name},
        "declared_upstreams": upstreams, "observed_complete": observed_complete,
        "observed_at": observed_at or now_iso(),
    }


def h(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"inst/{name}"))


def tid(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"task/{name}"))


class Driver:
    """One client, one environment; each call returns (status, json)."""

    def __init__(self, client: APIClient) -> None:
        self.client = client

    def post(self, path: str, body: Any = None) -> tuple[int, Any]:
        response = self.client.post(V2 + path, body, format="json")
        return response.status_code, response.json()

    def get(self, path: str) -> tuple[int, Any]:
        response = self.client.get(V2 + path)
        return response.status_code, response.json()

    def ok(self, method: str, path: str, body: Any = None) -> Any:
        status, data = self.post(path, body) if method == "POST" else self.get(path)
        assert status == 200, (method, path, status, data)
        return data

    def deployment(self, code_id: str = "code-1") -> str:
        return self.ok("POST", "/deployments", {"id": str(uuid.uuid4()), "kind": "local",
                                                "code_id": code_id})["id"]

    def build(self, roots: list[str], build_id: str | None = None) -> str:
        return self.ok("POST", "/builds", {"id": build_id or str(uuid.uuid4()),
                                           "root_task_ids": sorted(roots)})["id"]

    def plan(self, build_id: str, deployment_id: str, roots: list[dict[str, Any]],
             plan_id: str | None = None, settings: dict[str, str] | None = None) -> str:
        return self.ok("POST", f"/builds/{build_id}/plans", {
            "plan_id": plan_id or str(uuid.uuid4()), "deployment_id": deployment_id,
            "settings": settings or {}, "roots": roots})["id"]

    def start(self, plan_id: str, task_id: str, execution_id: str | None = None,
              **extra: Any) -> tuple[int, Any]:
        return self.post(f"/plans/{plan_id}/members/{task_id}/start", {
            "execution_id": execution_id or str(uuid.uuid4()), "claim": True,
            "claim_ttl_seconds": 120, "executor": "sync_thread", **extra})

    def report(self, plan_id: str, task_id: str, action: str, execution_id: str,
               **extra: Any) -> tuple[int, Any]:
        return self.post(f"/plans/{plan_id}/members/{task_id}/{action}",
                         {"execution_id": execution_id, **extra})

    def run(self, plan_id: str, task_id: str) -> str:
        """Start and complete one member; returns its execution id."""
        execution_id = str(uuid.uuid4())
        status, data = self.start(plan_id, task_id, execution_id)
        assert status == 200, data
        status, data = self.report(plan_id, task_id, "complete", execution_id)
        assert status == 200, data
        return execution_id


def code(response: tuple[int, Any]) -> tuple[int, str]:
    status, data = response
    return status, data["detail"]["code"]
