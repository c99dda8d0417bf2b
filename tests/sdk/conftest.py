"""Run the released SDK (``stardag==0.1.6``) against this server.

``sdk_env`` serves the project on pytest-django's ``live_server``, creates an environment with
an API key, and points the SDK at it exactly as a user would: ``STARDAG_REGISTRY_URL``,
``STARDAG_API_KEY``, ``COMMIT_HASH`` and ``STARDAG_TARGET_ROOTS`` (outputs under ``tmp_path``),
with ``HOME`` moved to ``tmp_path`` so no real ``~/.stardag`` config leaks in. The SDK caches
its configuration, registry, target factory and commit hash in module-level providers; they are
cleared before and after each test so every test reads its own environment.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.servers.basehttp import WSGIServer
from django.db import connections
from django.test.testcases import LiveServerThread

from tests.factories import make_tenant
from tests.sdk.env import COMMIT_HASH, SdkEnv

_CLEARED_ENV = ("SHORT_SHA", "STARDAG_PROFILE", "STARDAG_WORKSPACE_ID",
                "STARDAG_ENVIRONMENT_ID", "STARDAG_API_TIMEOUT")


class SerialWSGIServer(WSGIServer):
    """Serves one request at a time (and answers ``Connection: close``).

    Used for the live server only when the test database is in-memory SQLite: the server then
    shares the test's single connection across all request threads, and concurrent requests
    (the SDK's concurrent builder sends many) collide on it with "database table is locked".
    Production SQLite has a connection per worker on a file and IMMEDIATE transactions; on
    PostgreSQL the live server stays threaded, so the SDK tests run truly concurrently there.
    """

    def __init__(self, *args: Any, connections_override: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connections_override = connections_override


def _test_database_is_in_memory_sqlite() -> bool:
    database = settings.DATABASES["default"]
    test_name = (database.get("TEST") or {}).get("NAME")
    return database["ENGINE"].endswith("sqlite3") and test_name in (None, "", ":memory:")


if _test_database_is_in_memory_sqlite():
    LiveServerThread.server_class = SerialWSGIServer  # type: ignore[assignment]


def reset_sdk_caches() -> None:
    """Forget everything the SDK memoised from a previous environment."""
    from stardag.config import config_provider
    from stardag.registry import get_git_commit_hash, registry_provider
    from stardag.target import target_factory_provider

    config_provider.clear()
    registry_provider.clear()
    target_factory_provider.clear()
    get_git_commit_hash.cache_clear()


@pytest.fixture
def sdk_env(live_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
            transactional_db: None) -> Iterator[SdkEnv]:
    tenant = make_tenant("sdk")
    target_root = tmp_path / "targets"
    target_root.mkdir()
    (tmp_path / "home").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)  # no project .stardag/config.toml above the cwd
    for name in _CLEARED_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STARDAG_REGISTRY_URL", live_server.url)
    monkeypatch.setenv("STARDAG_API_KEY", tenant.api_key)
    monkeypatch.setenv("COMMIT_HASH", COMMIT_HASH)
    monkeypatch.setenv("STARDAG_TARGET_ROOTS", json.dumps({"default": str(target_root)}))
    # Live-server request threads must not keep persistent connections open past the test
    # (PostgreSQL would refuse to drop the test database at the end of the session).
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    reset_sdk_caches()
    yield SdkEnv(url=live_server.url, tenant=tenant, target_root=target_root)
    reset_sdk_caches()
