"""Stumble 6: the README's ``createsuperuser`` line is one the command accepts (``--email``;
there is no ``--username`` on this user model)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from accounts.models import User

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_createsuperuser_line_in_the_readme_works(db, monkeypatch) -> None:
    lines = re.findall(r"^bin/manage (createsuperuser[^\n`]*)$", README.read_text(), re.MULTILINE)
    assert lines, "the README shows how to create an administrator"
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-enough-password-1")
    for line in lines:
        command, *args = shlex.split(line)
        call_command(command, *args, "--noinput", verbosity=0)
    user = User.objects.get(email="admin@example.com")
    assert user.is_superuser and user.is_staff
    assert authenticate(email="admin@example.com", password="a-long-enough-password-1") == user


def test_createsuperuser_has_no_username_option(db) -> None:
    with pytest.raises(Exception, match="unrecognized arguments: --username"):
        call_command("createsuperuser", "--username", "root", "--noinput")
