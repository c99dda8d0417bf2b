"""``/api/v2/concurrency-limits`` (SDK-WIRE 4.4): the named limits of the caller's environment.

The limit rows are the v1 ones (``locks.models.ConcurrencyLimit``); a slot is a v2 task with the
key in its ``limit_keys`` and a live claim, counted the same way the claiming start enforces it
(``locks.services_v2.limits_for_start``, which ``locks.apps`` hands to ``tasks.v2.services``:
tasks sit below locks and do not import it).
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from builds.views_v2 import V2View
from locks.models import ConcurrencyLimit
from locks.services import concurrency_limit_delete, concurrency_limit_set
from locks.services_v2 import live_limited_tasks
from stardag_site.api.errors import Refusal
from stardag_site.api.params import query_bool
from stardag_site.api.v2 import body_of, v2_doc
from tasks.models_v2 import Execution


class ConcurrencyLimitsView(V2View):
    @v2_doc("List concurrency limits",
            "Each key with its cap and the slots in use (live claims); `include_holders=true` "
            "adds who holds them.", operation_id="api_v2_concurrency_limits_list")
    def get(self, request: Request) -> Response:
        env = self.environment.pk
        live = live_limited_tasks(env)
        started = dict(Execution.objects.filter(pk__in=[t.execution_id for t in live])
                       .values_list("pk", "started_at"))
        holders = query_bool(request, "include_holders", False)
        rows = []
        for limit in ConcurrencyLimit.objects.filter(environment_id=env).order_by("key"):
            held = [t for t in live if limit.key in t.limit_keys]
            row: dict[str, Any] = {"key": limit.key, "max_concurrent": limit.max_concurrent,
                                   "in_use": len(held)}
            if holders:
                row["holders"] = [
                    {"task_id": t.task_id, "task_name": t.task_name,
                     "build_id": t.claim_plan.build_id if t.claim_plan else None,
                     "plan_id": t.claim_plan_id, "execution_id": t.execution_id,
                     "started_at": started.get(t.execution_id) if t.execution_id else None}
                    for t in held]
            rows.append(row)
        return Response({"limits": rows})


class ConcurrencyLimitView(V2View):
    @v2_doc("Set a concurrency limit", "At most `max_concurrent` live claims carry the key.",
            body=True)
    def put(self, request: Request, key: str) -> Response:
        body = body_of(request)
        value = body.int("max_concurrent")
        if value is None or value < 0:
            raise Refusal("invalid_request", "max_concurrent must be a non-negative integer",
                          status_code=422)
        limit = concurrency_limit_set(environment=self.environment, key=key,
                                      max_concurrent=value)
        return Response({"key": limit.key, "max_concurrent": limit.max_concurrent})

    @v2_doc("Delete a concurrency limit", "404 `unknown_limit` when the key has none.")
    def delete(self, request: Request, key: str) -> Response:
        if not concurrency_limit_delete(environment=self.environment, key=key):
            raise Refusal("unknown_limit", f"no limit {key}", status_code=404)
        return Response({"key": key, "deleted": True})
