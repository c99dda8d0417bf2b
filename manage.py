#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stardag_site.settings")
    # Management commands default to development mode so that a fresh checkout can run
    # ``manage.py makemigrations`` or ``createsuperuser`` without secrets. The server's entry
    # point (``stardag_site/wsgi.py``, used by gunicorn) keeps the production default; production
    # deployments export DEBUG=0 for both (see README, "Production").
    os.environ.setdefault("DEBUG", "1")
    # The server cancels statements after DB_STATEMENT_TIMEOUT_MS; migrations and batch commands
    # may legitimately run longer, so commands run without a timeout unless one is set.
    os.environ.setdefault("DB_STATEMENT_TIMEOUT_MS", "0")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
