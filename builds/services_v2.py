"""v2 build-side services (SDK-WIRE 4.2, 4.4): deployments, settings, build creation.

Every write is idempotent on a client-minted id (SDK-WIRE 4.5.1): a re-delivered create returns the
stored row. Refusals are ``Refusal`` with the code ``stardag.testing.InMemoryRegistry`` raises.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from builds.models_v2 import Deployment, Plan, SettingsBody, V2Build
from stardag_site.api.errors import Refusal
from workspaces.models import Environment

SETTINGS_NAMESPACE = uuid.UUID("d9bc3c1c-6c3b-534d-be75-aaa4c8d71c59")
RESERVED_SETTINGS_PREFIXES = ("STARDAG_", "MODAL_")


def settings_hash(body: dict[str, str]) -> str:
    """uuid5 over the canonical JSON of the flat dict; the SDK computes the same value."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return str(uuid.uuid5(SETTINGS_NAMESPACE, canonical))


def settings_check(body: Any) -> None:
    if not isinstance(body, dict):
        raise Refusal("invalid_settings", "settings must be an object", status_code=400)
    for key, value in body.items():
        if not isinstance(value, str):
            raise Refusal("invalid_settings", key, status_code=400)
        if key.startswith(RESERVED_SETTINGS_PREFIXES):
            raise Refusal("reserved_settings_key", key, status_code=400)


def settings_store(*, environment: Environment, body: dict[str, str]) -> str:
    """Validate, insert if absent, and return the hash. Caller holds the transaction."""
    settings_check(body)
    digest = settings_hash(body)
    SettingsBody.objects.bulk_create(
        [SettingsBody(environment=environment, hash=digest, body=body)], ignore_conflicts=True)
    return digest


def deployment_create(*, environment: Environment, kind: str, code_id: str,
                      deployment_id: uuid.UUID | None, app_name: str | None,
                      image_id: str | None = None,
                      modal_app_id: str | None = None) -> tuple[Deployment, bool]:
    """Local: lookup-or-create by code id, born activated, the stored row's own id returned.
    Modal: insert-if-absent by the client id, activated later (Modal activation is not served
    yet). Generation is monotonic per (environment, kind, app)."""
    if kind == "local":
        app_name = app_name or "local"
    else:
        if deployment_id is None:
            raise Refusal("deployment_id_required", status_code=400)
        if not app_name:
            raise Refusal("app_name_required", status_code=400)
    for _attempt in range(3):
        try:
            with transaction.atomic():
                existing = _existing_deployment(environment, kind, code_id, deployment_id)
                if existing is not None:
                    if kind == "local" and existing.app_name != app_name:
                        raise Refusal("local_deployment_conflict")
                    if kind != "local" and (existing.kind, existing.app_name,
                                            existing.code_id) != (kind, app_name, code_id):
                        raise Refusal("deployment_id_conflict")
                    return existing, False
                generation = 1 + (Deployment.objects.filter(
                    environment=environment, kind=kind, app_name=app_name,
                ).aggregate(m=Max("generation"))["m"] or 0)
                now = timezone.now()
                row = Deployment.objects.create(
                    id=deployment_id or uuid.uuid4(), environment=environment, kind=kind,
                    app_name=app_name, code_id=code_id, image_id=image_id,
                    modal_app_id=modal_app_id, generation=generation, deployed_at=now,
                    activated_at=now if kind == "local" else None)
                return row, True
        except IntegrityError:
            continue  # a concurrent create of the same row (or generation): look again
    raise Refusal("deployment_id_conflict", "deployment id already in use")


def _existing_deployment(environment: Environment, kind: str, code_id: str,
                         deployment_id: uuid.UUID | None) -> Deployment | None:
    if kind == "local":
        found = Deployment.objects.filter(environment=environment, kind="local",
                                          code_id=code_id).first()
        if found is not None:
            return found
    if deployment_id is None:
        return None
    found = Deployment.objects.filter(pk=deployment_id).first()
    if found is not None and found.environment_id != environment.pk:
        raise Refusal("deployment_id_conflict", "deployment id already in use")
    if found is not None and kind == "local":
        raise Refusal("deployment_id_conflict")
    return found


def deployment_is_current(deployment: Deployment) -> bool:
    """The activated row with the highest generation of its app; a local one never is."""
    if deployment.kind == "local" or deployment.activated_at is None:
        return False
    top = (Deployment.objects.filter(environment_id=deployment.environment_id,
                                     kind=deployment.kind, app_name=deployment.app_name,
                                     activated_at__isnull=False)
           .order_by("-generation").values_list("id", flat=True).first())
    return top == deployment.pk


def plan_active(build: V2Build) -> Plan | None:
    return (Plan.objects.filter(build=build, activated_at__isnull=False,
                                superseded_at__isnull=True).first())
