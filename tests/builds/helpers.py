"""Helpers for registry tests: drive the API the way the SDK does."""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient


def task_body(task_id: str, *deps: str, name: str = "Add", namespace: str = "math",
              **extra: Any) -> dict[str, Any]:
    return {"task_id": task_id, "task_name": name, "task_namespace": namespace,
            "task_data": {"__name": name, "a": 1, "deps": list(deps)}, "version": "1",
            "output_uri": f"/tmp/out/{task_id}.json", "dependency_task_ids": list(deps),
            **extra}


def create_build(client: APIClient, **body: Any) -> dict[str, Any]:
    response = client.post("/api/v1/builds", {"commit_hash": "abc1234", "root_task_ids": [],
                                              "description": None, **body}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def register(client: APIClient, build_id: str, task_id: str, *deps: str,
             **extra: Any) -> dict[str, Any]:
    response = client.post(f"/api/v1/builds/{build_id}/tasks", task_body(task_id, *deps, **extra),
                           format="json")
    assert response.status_code == 201, response.content
    return response.json()


def lifecycle(client: APIClient, build_id: str, task_id: str, action: str,
              **params: str) -> dict[str, Any]:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    url = f"/api/v1/builds/{build_id}/tasks/{task_id}/{action}" + (f"?{query}" if query else "")
    response = client.post(url)
    assert response.status_code == 200, response.content
    return response.json()
