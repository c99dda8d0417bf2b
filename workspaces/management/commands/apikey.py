"""``manage.py apikey create|list|revoke``: API keys from the command line (scripts, CI
provisioning, an operator without the admin at hand).

* ``apikey create --environment WORKSPACE/ENVIRONMENT --name NAME [--created-by EMAIL]`` prints
  the new key once (the only copy; only its digest is stored).
* ``apikey list [--environment WORKSPACE/ENVIRONMENT] [--include-revoked]`` prints id, prefix,
  environment, name, creation, last use and state; never a secret.
* ``apikey revoke KEY_ID`` revokes a key (idempotent).

Every create and revoke goes through the same services as the API and is audited with the
credential ``cli``.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from audit.services import audit_cli
from workspaces.api_keys import api_key_create, api_key_revoke
from workspaces.models import ApiKey, Environment


def _environment(spec: str) -> Environment:
    workspace_slug, slash, environment_slug = spec.partition("/")
    if not slash or not workspace_slug or not environment_slug:
        raise CommandError("--environment must be WORKSPACE_SLUG/ENVIRONMENT_SLUG")
    environment = (Environment.objects.select_related("workspace")
                   .filter(workspace__slug=workspace_slug, slug=environment_slug).first())
    if environment is None:
        raise CommandError(f"No environment {spec}")
    return environment


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "-"


class Command(BaseCommand):
    help = "Create, list or revoke API keys (create prints the key once)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a key and print it once.")
        create.add_argument("--environment", required=True,
                            help="WORKSPACE_SLUG/ENVIRONMENT_SLUG")
        create.add_argument("--name", required=True, help="What the key is for.")
        create.add_argument("--created-by", default=None,
                            help="E-mail of the user recorded as the key's creator.")
        listing = sub.add_parser("list", help="List keys (never their secrets).")
        listing.add_argument("--environment", default=None,
                             help="Only keys of WORKSPACE_SLUG/ENVIRONMENT_SLUG.")
        listing.add_argument("--include-revoked", action="store_true")
        revoke = sub.add_parser("revoke", help="Revoke a key by id.")
        revoke.add_argument("key_id", help="The key's id (from `apikey list`).")

    def handle(self, *args: Any, **options: Any) -> None:
        with audit_cli("manage.py apikey"):
            getattr(self, f"_{options['action']}")(options)

    def _create(self, options: dict[str, Any]) -> None:
        environment = _environment(options["environment"])
        creator = None
        if options["created_by"]:
            creator = User.objects.filter(email__iexact=options["created_by"]).first()
            if creator is None:
                raise CommandError(f"No user {options['created_by']}")
        name = options["name"].strip()
        if not name or len(name) > 255:
            raise CommandError("--name must be 1-255 characters")
        new_key = api_key_create(environment=environment, name=name, created_by=creator)
        self.stdout.write(f"Created API key {new_key.api_key.pk} for {environment} "
                          f"(prefix sk_{new_key.api_key.key_prefix}).")
        self.stdout.write("The key (shown once, store it now):")
        self.stdout.write(new_key.raw_key)

    def _list(self, options: dict[str, Any]) -> None:
        keys = ApiKey.objects.select_related("environment__workspace").order_by("created_at")
        if options["environment"]:
            keys = keys.filter(environment=_environment(options["environment"]))
        if not options["include_revoked"]:
            keys = keys.active()
        self.stdout.write("id\tprefix\tenvironment\tname\tcreated\tlast used\tstate")
        for key in keys:
            state = f"revoked {_when(key.revoked_at)}" if key.revoked_at else "active"
            self.stdout.write("\t".join([
                str(key.pk), f"sk_{key.key_prefix}", str(key.environment), key.name,
                _when(key.created_at), _when(key.last_used_at), state,
            ]))

    def _revoke(self, options: dict[str, Any]) -> None:
        try:
            key_id = uuid.UUID(options["key_id"])
        except ValueError as exc:
            raise CommandError("KEY_ID must be the key's id (a UUID, see `apikey list`)") from exc
        api_key = ApiKey.objects.select_related("environment__workspace").filter(
            pk=key_id).first()
        if api_key is None:
            raise CommandError(f"No API key {key_id}")
        was_active = api_key.revoked_at is None
        api_key_revoke(api_key=api_key)
        self.stdout.write(f"Revoked API key {api_key.pk} (sk_{api_key.key_prefix}, "
                          f"{api_key.environment})." if was_active else
                          f"API key {api_key.pk} was already revoked.")
