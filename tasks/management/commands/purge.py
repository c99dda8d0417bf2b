"""``manage.py purge``: apply the retention policies (see ``tasks/retention.py``).

Per environment with ``build_retention_days`` set: builds older than that with their events,
then tasks no event refers to any more with their assets; and audit entries older than
``AUDIT_RETENTION_DAYS``. ``--dry-run`` prints the counts and deletes nothing. Long runs show a
progress bar on stderr (``--no-progress`` to hide it). Run it daily (cron or a systemd timer).
"""

from __future__ import annotations

import datetime
import sys
from typing import Any, TextIO

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tasks import retention
from workspaces.models import Environment


class ProgressBar:
    """``[#####.....]  120/500 builds`` redrawn in place; silent unless enabled."""

    def __init__(self, stream: TextIO, enabled: bool, width: int = 30) -> None:
        self.stream, self.enabled, self.width = stream, enabled, width

    def __call__(self, what: str, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        filled = self.width * min(done, total) // total
        self.stream.write(f"\r  [{'#' * filled}{'.' * (self.width - filled)}] "
                          f"{done}/{total} {what}")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


class Command(BaseCommand):
    help = ("Delete builds older than each environment's retention (with their events), tasks "
            "left without events (with their assets), and old audit entries.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true",
                            help="Print what would be deleted; delete nothing.")
        parser.add_argument("--batch-size", type=int, default=500,
                            help="Rows per transaction (default: %(default)s).")
        parser.add_argument("--environment", default=None,
                            help="Only WORKSPACE_SLUG/ENVIRONMENT_SLUG.")
        parser.add_argument("--progress", dest="progress", action="store_true", default=None,
                            help="Always show the progress bar.")
        parser.add_argument("--no-progress", dest="progress", action="store_false",
                            help="Never show the progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size: int = options["batch_size"]
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        dry_run: bool = options["dry_run"]
        show = options["progress"] if options["progress"] is not None else sys.stderr.isatty()
        progress = ProgressBar(sys.stderr, bool(show))
        verb = "Would delete" if dry_run else "Deleted"
        environments = Environment.objects.select_related("workspace").filter(
            build_retention_days__isnull=False).order_by("workspace__slug", "slug")
        if options["environment"]:
            workspace_slug, _, environment_slug = options["environment"].partition("/")
            environments = environments.filter(workspace__slug=workspace_slug,
                                               slug=environment_slug)
        total = retention.PurgeCounts()
        for environment in environments:
            purge = retention.plan(environment)
            if purge is None:
                continue
            counts = (retention.count(purge) if dry_run
                      else retention.execute(purge, batch_size=batch_size, progress=progress))
            total.add(counts)
            self.stdout.write(
                f"{environment} (keep {environment.build_retention_days} days, before "
                f"{purge.cutoff:%Y-%m-%d %H:%M:%S} UTC): {verb.lower()} {counts.builds} builds, "
                f"{counts.events} events, {counts.tasks} tasks, {counts.assets} assets; "
                f"{counts.kept_for_status} old builds kept (they decide the status of tasks "
                "newer builds use)."
            )
        audit_days: int = settings.AUDIT_RETENTION_DAYS
        audit = 0
        if audit_days:
            cutoff = timezone.now() - datetime.timedelta(days=audit_days)
            audit = (retention.audit_entries_before(cutoff).count() if dry_run
                     else retention.purge_audit(cutoff, batch_size=batch_size))
        self.stdout.write(
            f"{verb} in total: {total.builds} builds, {total.events} events, {total.tasks} "
            f"tasks, {total.assets} assets, {audit} audit entries"
            + (" (dry run: nothing was deleted)." if dry_run else ".")
        )
