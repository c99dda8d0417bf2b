"""Import direction: the apps depend one way, the shared kit stays below them (issue 9).

Every ``import`` in the application code (module level, inside functions and under
``TYPE_CHECKING`` alike; migrations excluded) is read with ``ast`` and checked against three
contracts. The layering, top to bottom:

* ``locks`` → ``tasks`` → ``builds``: a lock completes a task, a task lives in builds, and a
  build knows nothing of tasks or locks (the build-task routes and views belong to ``tasks``).
* ``accounts`` → ``workspaces`` → identity: the account API (``/ui/me``, token exchange,
  first-contact provisioning, ``bootstrap``) creates and lists workspaces, while workspaces only
  need the user model. Identity (``accounts.models``, ``accounts.tokens``, ``accounts.oidc``:
  who a person is and how a token is verified) is therefore the bottom layer of the apps, even
  though it lives in the ``accounts`` package. The audit log's record (``audit.models``,
  ``audit.services``) sits there too, so every service can write to it; the audit app's admin
  hooks, which look at workspaces, sit with ``accounts``.
* ``stardag_site``: the composition root (settings, root URLs, root views) may import anything;
  the request-edge kit (errors, fields, parsing, pagination, filtering, schema helpers, ids,
  keys, env, middleware, admin mixins) imports no app, so every app can use it. The credential
  edge (``stardag_site.api.authentication`` and ``.mixins``) resolves users, API keys and
  environments, so it may import ``accounts`` and ``workspaces`` but never builds, tasks or locks.

Only direct imports are checked. The credential edge is the one place where a chain crosses the
app order (``workspaces.views`` → ``authentication`` → ``accounts.services``, which provisions
a personal workspace on first contact); it is explicit and named here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP_PACKAGES = ("accounts", "audit", "workspaces", "builds", "tasks", "locks", "stardag_site")

# Apps, top to bottom: a module may import its own layer and the layers below it, never above.
APP_LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("locks", ("locks",)),
    ("tasks", ("tasks",)),
    ("builds", ("builds",)),
    ("accounts", ("accounts", "audit")),
    ("workspaces", ("workspaces",)),
    ("identity", ("accounts.models", "accounts.tokens", "accounts.oidc", "audit.models",
                  "audit.services")),
]
COMPOSITION_ROOT = (
    "stardag_site.settings", "stardag_site.test_settings", "stardag_site.urls",
    "stardag_site.views", "stardag_site.wsgi",
)
CREDENTIAL_EDGE = ("stardag_site.api.authentication", "stardag_site.api.mixins")
CREDENTIAL_EDGE_MAY_IMPORT = ("accounts", "workspaces")
APPS = ("accounts", "audit", "workspaces", "builds", "tasks", "locks")
# Known upward imports, each with the reason it is tolerated for now. Keep this list short.
KNOWN_EXCEPTIONS = {
    # A lazy import that fills in a workspace slug for the audit log when the caller only
    # passed the id; callers passing the slug would remove it.
    ("audit.services", "workspaces.models"),
}


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def _longest_match(module: str, prefixes: tuple[str, ...]) -> str | None:
    matches = [p for p in prefixes if _within(module, p)]
    return max(matches, key=len) if matches else None


def app_layer(module: str) -> int | None:
    """Index in ``APP_LAYERS`` (0 = top) by the longest matching prefix; None outside apps."""
    best: tuple[int, int] | None = None  # (prefix length, layer index)
    for index, (_, prefixes) in enumerate(APP_LAYERS):
        prefix = _longest_match(module, prefixes)
        if prefix is not None and (best is None or len(prefix) > best[0]):
            best = (len(prefix), index)
    return None if best is None else best[1]


def violation(importer: str, imported: str) -> str | None:
    """Why ``importer`` must not import ``imported``, or None if the import is allowed."""
    if (importer, imported) in KNOWN_EXCEPTIONS:
        return None
    if _within(importer, "stardag_site"):
        if _longest_match(importer, COMPOSITION_ROOT):
            return None
        if not _longest_match(imported, APPS):
            return None
        if _longest_match(importer, CREDENTIAL_EDGE):
            if _longest_match(imported, CREDENTIAL_EDGE_MAY_IMPORT):
                return None
            return "the credential edge imports only accounts and workspaces"
        return "the stardag_site kit imports no app"
    source, target = app_layer(importer), app_layer(imported)
    if source is None or target is None or target >= source:
        return None
    return f"{APP_LAYERS[source][0]} imports upward into {APP_LAYERS[target][0]}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports_of(path: Path) -> set[str]:
    """Every first-party module ``path`` imports (``from pkg import mod`` counts as pkg.mod)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names
                         if _is_module(f"{node.module}.{alias.name}"))
    return {name for name in found if name.split(".")[0] in APP_PACKAGES}


def application_modules() -> list[Path]:
    return sorted(
        path for package in APP_PACKAGES for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    )


def test_no_application_module_imports_upward():
    problems = [
        f"{_module_name(path)} → {imported}: {reason}"
        for path in application_modules()
        for imported in sorted(imports_of(path))
        if (reason := violation(_module_name(path), imported))
    ]
    assert problems == []


def test_the_check_reads_every_app_and_real_imports():
    # Guards against a check that passes because it reads nothing.
    modules = {_module_name(path) for path in application_modules()}
    assert {"builds.services", "tasks.build_views", "locks.services",
            "stardag_site.api.authentication"} <= modules
    assert "builds.models" in imports_of(ROOT / "tasks" / "build_views.py")
    assert "accounts.services" in imports_of(ROOT / "stardag_site" / "api" / "authentication.py")


@pytest.mark.parametrize(("importer", "imported"), [
    ("builds.services", "tasks.status"),
    ("builds.urls", "tasks.build_views"),
    ("tasks.services", "locks.services"),
    ("workspaces.services", "accounts.services"),
    ("accounts.models", "workspaces.models"),
    ("workspaces.models", "accounts.views"),
    ("stardag_site.api.errors", "workspaces.models"),
    ("stardag_site.admin_mixins", "builds.admin"),
    ("stardag_site.api.mixins", "builds.models"),
])
def test_upward_imports_are_reported(importer, imported):
    assert violation(importer, imported) is not None


@pytest.mark.parametrize(("importer", "imported"), [
    ("tasks.build_views", "builds.views"),
    ("locks.services", "tasks.services"),
    ("accounts.services", "workspaces.services"),
    ("workspaces.services", "accounts.models"),
    ("tasks.search.filters", "tasks.search.conditions"),
    ("stardag_site.api.authentication", "accounts.services"),
    ("stardag_site.urls", "locks.urls"),
    ("builds.views", "stardag_site.api.mixins"),
])
def test_downward_imports_are_allowed(importer, imported):
    assert violation(importer, imported) is None
