"""Tenancy on /api/v2: an API key of another environment gets 404 on every route that names an
id of this one, and nothing is written (SDK-WIRE 4.1; the v1 isolation rule extended)."""

from __future__ import annotations

import uuid

from builds.models_v2 import Deployment, Plan, SettingsBody, V2Build
from tasks.models_v2 import Execution, PlanMember, V2Artifact, V2Event, V2Task
from tests.v2.helpers import Driver, item, tid
from tests.v2.test_protocol import local_build

MODELS = (Deployment, Plan, SettingsBody, V2Build, Execution, PlanMember, V2Artifact, V2Event,
          V2Task)


def snapshot() -> dict[str, list[tuple]]:
    return {model.__name__: sorted(map(str, model.objects.values_list()))
            for model in MODELS}


def test_another_environment_sees_404_everywhere_and_writes_nothing(client_a, client_b,
                                                                    tenant_b) -> None:
    a = local_build(Driver(client_a))
    execution = str(uuid.uuid4())
    assert a.api.start(a.plan, tid("S"), execution)[0] == 200
    b = Driver(client_b)
    before = snapshot()
    task, member = tid("S"), f"/plans/{a.plan}/members/{tid('S')}"
    posts = {
        f"/builds/{a.build}/complete": {"force": True},
        f"/builds/{a.build}/fail": {"error_message": "x"},
        f"/builds/{a.build}/cancel": None,
        f"/builds/{a.build}/exit-early": None,
        f"/builds/{a.build}/resume": {"settings": {}},
        f"/builds/{a.build}/plans": {"plan_id": str(uuid.uuid4()),
                                     "deployment_id": a.deployment, "settings": {},
                                     "roots": [item("R")]},
        f"/builds/{a.build}/skip-blocked": None,
        f"/plans/{a.plan}/members": {"items": [item("Z")]},
        f"/plans/{a.plan}/seal": None,
        f"{member}/start": {"execution_id": str(uuid.uuid4()), "claim": True},
        f"{member}/complete": {"execution_id": execution},
        f"{member}/fail": {"execution_id": execution, "error_message": "x"},
        f"{member}/interrupt": {"execution_id": execution},
        f"{member}/yield": {"execution_id": execution, "deployment_id": a.deployment,
                            "batch_id": str(uuid.uuid4()), "items": [item("C")],
                            "yielded": [], "suspend": True},
        f"{member}/retry": None,
        f"{member}/skip": None,
        f"{member}/cancel": None,
        f"{member}/artifacts": {"execution_id": execution,
                                "artifacts": [{"type": "json", "name": "n", "body": {}}]},
        f"/tasks/{task}/claim/renew": {"execution_id": execution},
    }
    gets = [f"/builds/{a.build}", f"/builds/{a.build}/frontier", f"/builds/{a.build}/plans",
            f"/builds/{a.build}/executions", f"/plans/{a.plan}", f"/plans/{a.plan}/roots",
            f"/plans/{a.plan}/graph", f"/tasks/{task}", f"/tasks/{task}/artifacts",
            f"/tasks/{task}/executions", f"/tasks/{task}/events",
            f"/deployments/{a.deployment}"]
    answers = {path: b.post(path, body) for path, body in posts.items()}
    answers.update({path: b.get(path) for path in gets})
    wrong = {path: (status, data) for path, (status, data) in answers.items()
             if status != 404 or not data["detail"]["code"].startswith("unknown_")}
    assert wrong == {}
    assert snapshot() == before
    # Lists show nothing of the other environment.
    assert b.ok("GET", "/builds")["builds"] == []
    assert b.ok("GET", "/tasks")["tasks"] == []
    assert b.ok("GET", "/deployments")["deployments"] == []


def test_a_bearer_token_with_environment_id_reaches_the_same_rows(tenant_a) -> None:
    api = Driver(tenant_a.key_client())
    a = local_build(api)
    jwt = tenant_a.jwt_client()
    response = jwt.get(f"/api/v2/builds/{a.build}?environment_id={tenant_a.environment.pk}")
    assert response.status_code == 200 and response.json()["id"] == a.build
    assert jwt.get(f"/api/v2/builds/{a.build}").status_code == 400  # environment_id required
