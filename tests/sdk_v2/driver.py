"""Runs inside a released SDK's own virtualenv (0.27/0.28), never in the server's.

``python driver.py <scenario>`` runs one default local ``sd.build()`` against the registry that
``STARDAG_API_URL`` and ``STARDAG_API_KEY`` (or the CLI's stored token) name, and prints one
JSON line: the task ids of the DAG and how the build ended. Scenarios:

* ``dag``: a root with a static dependency and a dynamic one (``yield``), markdown and JSON
  artifacts;
* ``failing``: a task that raises, with a downstream task;
* ``overlap <a|b>``: two slow tasks under a root; ``a`` and ``b`` share one slow task, and
  claims live 2 s while a slow body runs 4 s (renewed every 0.5 s);
* ``retry <build_id>``: the failing DAG again with ``resume_build_id`` (a resumed build
  retries its failed members), after ``BOOM_OK=1`` lets the failing task succeed.

With ``BEARER_SETUP`` (JSON: token, workspace_id, environment_id, user, url) the driver first
stores a CLI login the way ``stardag auth login`` does (profile in ``~/.stardag/config.toml``,
token in the SDK's access-token cache), so the build authenticates with the bearer token.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from typing import Any

import stardag as sd
from stardag.artifact import JSONArtifact, MarkdownArtifact


class Leaf(sd.Task[int]):
    value: int

    def run(self) -> None:
        self._save(self.value)

    def artifacts(self) -> list[Any]:
        return [MarkdownArtifact(name="report", body=f"# leaf {self.value}")]


class Dyn(sd.Task[int]):
    n: int

    def run(self):  # type: ignore[no-untyped-def]
        child = Leaf(value=self.n * 100)
        yield child
        self._save(child.load() + 1)


class Root(sd.Task[int]):
    leaf: Leaf
    dyn: Dyn

    def requires(self) -> Any:
        return {"leaf": self.leaf, "dyn": self.dyn}

    def run(self) -> None:
        self._save(self.leaf.load() + self.dyn.load())

    def artifacts(self) -> list[Any]:
        return [JSONArtifact(name="summary", body={"total": self.load()})]


class Boom(sd.Task[int]):
    seed: int

    def run(self) -> None:
        if os.environ.get("BOOM_OK") != "1":
            raise RuntimeError("boom")
        self._save(self.seed)


class AfterBoom(sd.Task[int]):
    boom: Boom

    def requires(self) -> Any:
        return self.boom

    def run(self) -> None:
        self._save(self.boom.load() + 1)


class Slow(sd.Task[int]):
    """Appends a line to ``$MARKER_DIR/<its id>`` each time its body runs, then outlasts its
    claim's TTL, so only renewal keeps the claim."""

    n: int

    def run(self) -> None:
        with open(os.path.join(os.environ["MARKER_DIR"], str(self.id)), "a") as marker:
            marker.write(f"{os.getpid()}\n")
        time.sleep(float(os.environ.get("SLOW_SECONDS", "4")))
        self._save(self.n)


class Gather(sd.Task[int]):
    label: str
    parts: list[Slow]

    def requires(self) -> Any:
        return list(self.parts)

    def run(self) -> None:
        self._save(sum(p.load() for p in self.parts))


def store_login(setup: dict[str, str]) -> None:
    from stardag.config.paths import get_user_config_path
    from stardag.registry._auth import save_access_token_cache

    path = get_user_config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    url, user = setup["url"], setup["user"]
    workspace, environment = setup["workspace_id"], setup["environment_id"]
    path.write_text(
        f'[registry.local]\nurl = "{url}"\n\n'
        f'[profile.test]\nregistry = "local"\nuser = "{user}"\n'
        f'workspace = "{workspace}"\nenvironment = "{environment}"\n\n'
        '[default]\nprofile = "test"\n')
    save_access_token_cache("local", setup["workspace_id"], setup["token"], 3600, setup["user"])


def main() -> None:
    scenario = sys.argv[1]
    if os.environ.get("BEARER_SETUP"):
        store_login(json.loads(os.environ["BEARER_SETUP"]))
    tag = int(os.environ.get("DAG_TAG", "1"))
    result: dict[str, Any] = {"sdk": sd.__version__}
    if scenario == "overlap":
        # Two of these with different labels share Slow(n=2).
        label = sys.argv[2]
        numbers = (1, 2) if label == "a" else (2, 3)
        root = Gather(label=label, parts=[Slow(n=n) for n in numbers])
        result["ids"] = {f"slow{n}": str(Slow(n=n).id) for n in numbers}
        result["ids"]["root"] = str(root.id)
    elif scenario == "dag":
        leaf, dyn = Leaf(value=tag), Dyn(n=tag)
        root = Root(leaf=leaf, dyn=dyn)
        child = Leaf(value=tag * 100)
        result["ids"] = {"root": str(root.id), "leaf": str(leaf.id), "dyn": str(dyn.id),
                         "child": str(child.id)}
    else:
        boom = Boom(seed=tag)
        root = AfterBoom(boom=boom)
        result["ids"] = {"root": str(root.id), "boom": str(boom.id)}
    kwargs: dict[str, Any] = {}
    if scenario == "retry":
        kwargs = {"resume_build_id": uuid.UUID(sys.argv[2])}  # a resume retries failed members
    if scenario == "overlap":
        from stardag.build import ClaimConfig

        kwargs = {"claim_config": ClaimConfig(
            in_process_ttl_seconds=2, renew_interval_seconds=0.5,
            wait_initial_interval_seconds=0.2, wait_max_interval_seconds=0.5)}
    try:
        outcome = sd.build(root, **kwargs)
        result["ok"] = True
        result["outcome"] = repr(outcome)[:2000]
    except Exception as exc:
        result["ok"] = False
        result["error"] = f"{type(exc).__name__}: {exc}"[:4000]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
