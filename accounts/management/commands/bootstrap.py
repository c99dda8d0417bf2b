"""``manage.py bootstrap``: a first user, workspace, environment and API key, no identity
provider needed, so a newcomer can point the SDK at a fresh server within minutes.

Idempotent: the user, workspace and environment are reused when they exist (the user must be
a member of an existing workspace). A new API key is created on every run, because a key's
secret is only known when it is created; it is printed once, with the environment variables
the SDK reads (``COMMIT_HASH`` included: outside a git checkout the SDK cannot build without
it) and a ``curl`` line that checks the key.

The URL is the running server's: ``--url``, else the one ``bin/serve``'s gunicorn wrote to
``DATA_DIR/server-url`` when it started, else ``http://localhost:$PORT``.
"""

from __future__ import annotations

import os
import re
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections, transaction
from django.db.migrations.executor import MigrationExecutor

from accounts.models import User
from stardag_site.domain_errors import DomainError
from workspaces import services
from workspaces.api_keys import api_key_create
from workspaces.models import SLUG_PATTERN, Environment, Workspace, WorkspaceMember

_SLUG = re.compile(SLUG_PATTERN)


class Command(BaseCommand):
    help = ("Create (or reuse) a user, workspace and environment, and print a new API key plus "
            "the environment variables the Stardag SDK needs.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True, help="E-mail of the first user.")
        parser.add_argument("--workspace-slug", default="default",
                            help="Slug of the workspace (default: %(default)s).")
        parser.add_argument("--workspace-name", default=None,
                            help="Name of a new workspace (default: derived from the slug).")
        parser.add_argument("--environment-slug", default="default",
                            help="Slug of the environment (default: %(default)s).")
        parser.add_argument("--key-name", default="bootstrap",
                            help="Name of the API key (default: %(default)s).")
        parser.add_argument("--url", default=None,
                            help="Public URL of this server, for STARDAG_REGISTRY_URL (default: "
                            "the URL of the server bin/serve started, else "
                            "http://localhost:$PORT).")

    def handle(self, *args: Any, **options: Any) -> None:
        email: str = options["email"].strip()
        workspace_slug: str = options["workspace_slug"]
        environment_slug: str = options["environment_slug"]
        if "@" not in email:
            raise CommandError("--email must be an e-mail address")
        for flag, slug in (("--workspace-slug", workspace_slug),
                           ("--environment-slug", environment_slug)):
            if not (2 <= len(slug) <= 64 and _SLUG.match(slug)):
                raise CommandError(f"{flag} must match {SLUG_PATTERN} (2-64 characters)")
        _require_migrated_database()
        try:
            with transaction.atomic():
                user = self._user(email)
                workspace = self._workspace(user, workspace_slug, options["workspace_name"],
                                            environment_slug)
                environment = self._environment(workspace, environment_slug)
                new_key = api_key_create(environment=environment, name=options["key_name"],
                                         created_by=user)
        except DomainError as exc:
            raise CommandError(exc.message) from exc

        url = (options["url"] or server_url()).rstrip("/")
        key = new_key.raw_key
        self.stdout.write("")
        self.stdout.write(f"API key (shown once, store it now): {key}")
        self.stdout.write("")
        self.stdout.write("Point the Stardag SDK at this server:")
        self.stdout.write(f"  export STARDAG_REGISTRY_URL={url}")
        self.stdout.write(f"  export STARDAG_API_KEY={key}")
        self.stdout.write("Outside a git checkout the SDK also needs a commit label to record "
                          "(inside one it reads git):")
        self.stdout.write("  export COMMIT_HASH=local")
        self.stdout.write("Check the key (answers 200 with a page of builds):")
        self.stdout.write(f'  curl -fsS -H "X-API-Key: {key}" {url}/api/v1/builds')

    def _say(self, message: str) -> None:
        self.stdout.write(message)

    def _user(self, email: str) -> User:
        user = User.objects.filter(email__iexact=email).first()
        if user is not None:
            self._say(f"Using existing user {user.email}")
            return user
        user = User.objects.create_user(email, display_name=email.split("@", 1)[0])
        self._say(f"Created user {user.email}")
        return user

    def _workspace(self, user: User, slug: str, name: str | None,
                   environment_slug: str) -> Workspace:
        workspace = Workspace.objects.filter(slug=slug).first()
        if workspace is not None:
            if not WorkspaceMember.objects.filter(workspace=workspace, user=user).exists():
                raise CommandError(f"Workspace '{slug}' exists and {user.email} is not a member")
            self._say(f"Using existing workspace {slug} ({workspace.id})")
            return workspace
        workspace = services.workspace_create(
            user=user, name=name or slug.replace("-", " ").replace("_", " ").title(), slug=slug,
            initial_environment_slug=environment_slug,
            initial_environment_name=environment_slug.title(), enforce_limit=False,
        )
        self._say(f"Created workspace {slug} ({workspace.id})")
        return workspace

    def _environment(self, workspace: Workspace, slug: str) -> Environment:
        environment = Environment.objects.filter(workspace=workspace, slug=slug).first()
        if environment is not None:
            self._say(f"Using environment {slug} ({environment.id})")
            return environment
        environment = services.environment_create(workspace=workspace, name=slug.title(),
                                                  slug=slug)
        self._say(f"Created environment {slug} ({environment.id})")
        return environment


def server_url() -> str:
    """The URL of the server this checkout runs (see the module docstring)."""
    try:
        recorded = (settings.DATA_DIR / "server-url").read_text().strip()
    except OSError:
        recorded = ""
    return recorded or f"http://localhost:{os.environ.get('PORT') or '8000'}"


def _require_migrated_database() -> None:
    """One line saying what to run first, instead of a "no such table" traceback."""
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except OperationalError as exc:
        raise CommandError(
            f"Cannot reach the database ({str(exc).strip().splitlines()[0]}): check "
            "DATABASE_URL and that the database server is running."
        ) from exc
    if pending:
        raise CommandError(
            "The database is not set up yet: start the server once with bin/serve (it migrates), "
            "or run `bin/manage migrate`, then run bootstrap again."
        )
