"""Tenant isolation over every route (issue 11, acceptance 3).

The test walks the whole URL configuration. Every route must be classified in ``ROUTES`` (a new
route that is not fails ``test_every_route_is_classified``), and every route that names an object
is called, with every method it serves, by credentials of *another* tenant:

* the API key of another workspace's environment;
* the API key of another environment in the same workspace;
* the internal token of another workspace's owner (SDK routes: with ``?environment_id=`` naming
  the victim's environment).

Each must answer the contract's 403 or 404 (§1.4) and write nothing: the row count of every
model and every field of the victim's rows are the same before and after. Routes that only read
the caller's own data are checked to show none of the victim's identifiers.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver

from tests import factories
from tests.factories import Tenant, make_tenant
from workspaces.models import ApiKey, Invite, WorkspaceMember

# How each named route relates to tenants:
# * "public": no tenant data at all (health, key set, docs, login configuration);
# * "own": lists or creates only in the caller's own scope; the body must not show the victim;
# * "object": names the victim's objects in its path; another tenant gets 403/404, no write;
# * "by-name": names an object by a caller-chosen name inside the caller's own environment
#   (locks, task ids): the victim's object of the same name must be untouched.
ROUTES: dict[str, str] = {
    "landing": "public", "health": "public", "health-ready": "public", "metrics": "public",
    "root-jwks": "public", "jwks": "public",
    "root-auth-config": "public", "auth-config": "public", "root-auth-exchange": "public",
    "auth-exchange": "public", "schema": "public", "swagger-ui": "public", "redoc": "public",
    "ui-me": "own", "me": "own", "ui-me-invites": "own", "me-invites": "own",
    "sdk-target-roots": "own", "workspace-list": "own", "build-list": "own",
    "task-list": "own", "task-search": "own", "task-search-keys": "own",
    "task-search-values": "own", "task-search-columns": "own", "lock-list": "own",
    "invite-accept": "object", "invite-decline": "object", "workspace-detail": "object",
    "member-list": "object", "member-detail": "object", "invite-list": "object",
    "invite-detail": "object", "workspace-target-roots": "object",
    "environment-list": "object", "environment-detail": "object", "api-key-list": "object",
    "api-key-detail": "object", "target-root-list": "object", "target-root-detail": "object",
    "build-detail": "object", "build-complete": "object", "build-fail": "object",
    "build-cancel": "object", "build-exit-early": "object", "build-tasks": "object",
    "build-events": "object", "build-graph": "object", "build-task-assets": "object",
    "build-task-start": "object", "build-task-complete": "object", "build-task-fail": "object",
    "build-task-suspend": "object", "build-task-resume": "object",
    "build-task-cancel": "object", "build-task-waiting-for-lock": "object",
    "task-detail": "by-name", "task-assets": "by-name", "task-events": "by-name",
    "task-metadata": "by-name", "task-artifacts": "by-name",
    "api-route-not-found": "public", "build-bulk-cancel": "by-name", "build-frontier": "object",
    "build-resume": "object", "build-roots": "object", "build-scope": "object",
    "build-skip-blocked": "object", "build-task-artifacts": "object",
    "build-task-dependencies": "object", "build-task-retry": "object",
    "build-task-skip": "object", "build-tasks-bulk": "object",
    "concurrency-limit-list": "own", "concurrency-limit-detail": "by-name",
    "concurrency-limit-holders": "by-name", "lock-completion-status": "by-name",
    "lock-acquire": "by-name", "lock-renew": "by-name", "lock-release": "by-name",
    "lock-detail": "by-name",
    # /api/v2 (issue 14)
    "v2-deployments": "own", "v2-deployment": "object", "v2-settings": "object",
    "v2-builds": "own", "v2-build": "object", "v2-build-notify": "object",
    "v2-build-complete": "object", "v2-build-fail": "object", "v2-build-cancel": "object",
    "v2-build-exit-early": "object", "v2-build-resume": "object", "v2-build-plans": "object",
    "v2-build-skip-blocked": "object", "v2-build-frontier": "object",
    "v2-build-executions": "object", "v2-plan": "object", "v2-plan-members": "object",
    "v2-plan-seal": "object", "v2-plan-roots": "object", "v2-plan-graph": "object",
    "v2-member-start": "object", "v2-member-complete": "object", "v2-member-fail": "object",
    "v2-member-interrupt": "object", "v2-member-yield": "object", "v2-member-retry": "object",
    "v2-member-skip": "object", "v2-member-cancel": "object", "v2-member-artifacts": "object",
    "v2-tasks": "own", "v2-task": "by-name", "v2-claim-renew": "by-name",
    "v2-task-artifacts": "by-name", "v2-task-executions": "by-name",
    "v2-task-events": "by-name", "v2-concurrency-limits": "own",
    "v2-concurrency-limit": "by-name",
}
IGNORED_PREFIXES = ("admin/", "oidc/", "static/")  # the operators' console has its own tests

# Plausible, valid bodies, so that authorization (not validation) decides the answer.
BODIES: dict[str, Any] = {
    "workspace-detail": {"name": "Hijacked"},
    "member-detail": {"role": "member"},
    "invite-list": {"email": "mallory@example.com", "role": "admin"},
    "environment-list": {"name": "Hijack", "slug": "hijack"},
    "environment-detail": {"name": "Hijacked", "max_concurrent_locks": 1},
    "api-key-list": {"name": "stolen"},
    "target-root-list": {"name": "stolen", "uri_prefix": "s3://stolen/"},
    "target-root-detail": {"uri_prefix": "s3://stolen/"},
    "build-detail": {"description": "hijacked"},
    "build-tasks": {"task_id": "intruder-task", "task_name": "Intruder"},
    "build-task-assets": [{"type": "markdown", "name": "x", "body": {"content": "x"}}],
    "lock-acquire": {"owner_id": "intruder", "ttl_seconds": 60},
    "lock-renew": {"owner_id": "victim-owner", "ttl_seconds": 60},
    "lock-release": {"owner_id": "victim-owner"},
    "concurrency-limit-detail": {"max_concurrent": 2},
    "v2-concurrency-limit": {"max_concurrent": 2},
    "v2-claim-renew": {"execution_id": "0199b1c2-0000-7000-8000-000000000000"},
}
BODIES_BY_VALUE = {"build-bulk-cancel": lambda values: {"build_ids": [values["build_id"]]}}
METHODS = ("get", "post", "patch", "put", "delete")


def walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def api_routes() -> list[tuple[str, URLPattern]]:
    return [(route, pattern) for route, pattern in walk(get_resolver().url_patterns)
            if not route.startswith(IGNORED_PREFIXES)]


def methods_of(pattern: URLPattern) -> list[str]:
    callback = pattern.callback
    actions = getattr(callback, "actions", None)
    if actions:
        return [m for m in METHODS if m in actions]
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if view_class is None:
        return ["get"]
    return [m for m in METHODS if hasattr(view_class, m)]


def concrete(route: str, values: dict[str, str]) -> str:
    path = route.replace("^", "").replace("$", "").replace("/?", "").replace("\\.", ".")
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: values[m.group(1)], path)
    return "/" + path


def test_every_route_is_classified():
    unclassified = sorted({f"{pattern.name or '?'} ({route})" for route, pattern in api_routes()
                           if pattern.name not in ROUTES})
    assert not unclassified, f"classify these routes in ROUTES: {unclassified}"


@pytest.fixture
def victim(db) -> tuple[Tenant, dict[str, str]]:
    """Tenant A with one of everything, and the path values that name A's objects."""
    tenant = make_tenant("victim")
    client = tenant.key_client()
    build = client.post("/api/v1/builds", {"root_task_ids": ["victim-task"]},
                        format="json").json()
    url = f"/api/v1/builds/{build['id']}/tasks"
    assert client.post(url, {"task_id": "victim-task", "task_name": "Secret",
                             "task_data": {"secret": "victim-data"}},
                       format="json").status_code == 201
    assert client.post(f"{url}/victim-task/start").status_code == 200
    assert client.post(f"{url}/victim-task/complete").status_code == 200
    assert client.post(f"{url}/victim-task/assets",
                       [{"type": "json", "name": "secret", "body": {"k": "victim-asset"}}],
                       format="json").status_code == 201
    assert client.post("/api/v1/locks/victim-task/acquire",
                       {"owner_id": "victim-owner", "ttl_seconds": 600},
                       format="json").status_code == 200
    assert client.put("/api/v1/concurrency-limits/victim-limit", {"max_concurrent": 3},
                      format="json").status_code == 200
    deployment = client.post("/api/v2/deployments", {"kind": "local", "code_id": "victim-code"},
                             format="json").json()
    assert client.post("/api/v2/builds", {"id": build["id"], "root_task_ids": ["victim-task"]},
                       format="json").status_code == 200
    plan = client.post(f"/api/v2/builds/{build['id']}/plans", {
        "plan_id": str(uuid.uuid4()), "deployment_id": deployment["id"], "settings": {},
        "roots": [{"task_id": "victim-task", "task_name": "Secret", "instance_hash": "victim-h",
                   "body": {"secret": "victim-data"}, "observed_at": "2020-01-01T00:00:00Z"}]},
        format="json")
    assert plan.status_code == 200, plan.content
    jwt = tenant.jwt_client()
    env_url = f"/api/v1/ui/workspaces/{tenant.workspace.id}/environments/{tenant.environment.id}"
    root = jwt.post(f"{env_url}/target-roots", {"name": "victim-root",
                                                "uri_prefix": "s3://victim/"}, format="json")
    assert root.status_code == 201
    invite = Invite.objects.create(workspace=tenant.workspace, email="carol@example.com",
                                   role="member", invited_by=tenant.user)
    values = {
        "workspace_id": str(tenant.workspace.id), "environment_id": str(tenant.environment.id),
        "member_id": str(WorkspaceMember.objects.get(workspace=tenant.workspace).id),
        "invite_id": str(invite.id), "key_id": str(ApiKey.objects.get().id),
        "root_id": root.json()["id"], "build_id": build["id"], "task_id": "victim-task",
        "lock_name": "victim-task", "key": "victim-limit",
        "deployment_id": deployment["id"], "plan_id": plan.json()["id"],
        "settings_hash": "11406eac-39d0-5b1b-9423-cfb4a1454543",
    }
    return tenant, values


def snapshot(victim: Tenant) -> dict[str, Any]:
    """Row counts of every model, and every field of the victim's rows."""
    state: dict[str, Any] = {}
    for model in apps.get_models():
        if model._meta.app_label in ("accounts", "workspaces", "builds", "tasks", "locks"):
            state[model._meta.label] = model.objects.count()
            fields = {f.name for f in model._meta.concrete_fields}
            for scope in ("workspace", "environment"):
                if scope in fields:
                    target = victim.workspace if scope == "workspace" else victim.environment
                    state[f"{model._meta.label}:{scope}"] = sorted(
                        map(str, model.objects.filter(**{scope: target}).values_list()))
    return state


@pytest.fixture
def intruders(victim, db) -> dict[str, Any]:
    tenant, _ = victim
    other = make_tenant("intruder")
    sibling_env = factories.make_environment(tenant.workspace, "sibling")
    sibling = factories.api_key_client(factories.make_api_key(sibling_env))
    return {"another workspace's key": other.key_client(),
            "another environment's key": sibling,
            "another workspace's token": other.jwt_client()}


def test_other_tenants_get_403_or_404_and_write_nothing(victim, intruders):
    tenant, values = victim
    revealing = [values["environment_id"], "victim-owner", "victim-data", "victim-asset",
                 '"is_completed":true']
    checked = 0
    failures = []
    for route, pattern in api_routes():
        kind = ROUTES.get(pattern.name or "")
        if kind not in ("object", "by-name"):
            continue
        path = concrete(route, values)
        sdk = path.startswith(("/api/v1/builds", "/api/v1/tasks", "/api/v1/locks",
                               "/api/v1/concurrency-limits", "/api/v2/"))
        for method in methods_of(pattern):
            for label, client in intruders.items():
                if not sdk and "key" in label:
                    continue  # workspace routes take no API keys (covered by their own tests)
                query = {"environment_id": values["environment_id"]} if (
                    sdk and "token" in label) else {}
                before = snapshot(tenant)
                if method == "get":
                    response = client.get(path, query)
                else:
                    url = f"{path}?environment_id={query['environment_id']}" if query else path
                    name = pattern.name or ""
                    body = (BODIES_BY_VALUE[name](values) if name in BODIES_BY_VALUE
                            else BODIES.get(name))
                    response = getattr(client, method)(url, body, format="json")
                after = snapshot(tenant)
                checked += 1
                changed = {k for k in before if before[k] != after[k]}
                body = response.content.decode()
                if kind == "object" or query:
                    ok = response.status_code in (403, 404)
                else:
                    # A name in the caller's own environment: its own lock or nothing, never
                    # the victim's (409 is the contract's "not found or not owned" on locks).
                    ok = response.status_code in (200, 204, 403, 404, 409) and not any(
                        secret in body for secret in revealing)
                    # Writes in the caller's own namespace (its own lock or limit of that
                    # name) are legitimate: only the victim's rows must be untouched.
                    changed = {k for k in changed if ":" in k}
                if not ok or changed:
                    failures.append(f"{method.upper()} {path} {query or ''} as {label}: "
                                    f"{response.status_code} changed={sorted(changed)} "
                                    f"{body[:160]}")
    assert not failures, "\n".join(failures)
    print(f"tenant isolation: {checked} requests checked")
    assert checked > 100


def test_own_scope_routes_never_show_the_victim(victim, intruders):
    _, values = victim
    secrets = [values[name] for name in ("workspace_id", "environment_id", "build_id",
                                         "root_id", "invite_id")] + ["victim-data",
                                                                     "victim-asset"]
    checked = 0
    for route, pattern in api_routes():
        if ROUTES.get(pattern.name or "") != "own" or "get" not in methods_of(pattern):
            continue
        path = concrete(route, values)
        for label, client in intruders.items():
            response = client.get(path)
            checked += 1
            body = response.content.decode()
            leaked = [secret for secret in secrets if secret in body]
            assert not leaked, f"GET {path} as {label} shows {leaked}"
    assert checked > 30
