"""What an SDK test gets from the ``sdk_env`` fixture (the fixture itself is in conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rest_framework.test import APIClient

from tests.factories import Tenant

COMMIT_HASH = "5dag0c0-test"


@dataclass
class SdkEnv:
    """A live server, one tenant whose API key the SDK uses, and a REST client to inspect."""

    url: str
    tenant: Tenant
    target_root: Path

    @property
    def api(self) -> APIClient:
        """In-process client with the same API key, for assertions through the REST API."""
        return self.tenant.key_client()

    def get(self, path: str) -> Any:
        response = self.api.get(path)
        assert response.status_code == 200, (path, response.status_code, response.content)
        return response.json()

    def registry(self) -> Any:
        """A fresh ``APIRegistry`` built from the environment (what ``sd.build`` uses)."""
        from stardag.registry import APIRegistry

        return APIRegistry()
