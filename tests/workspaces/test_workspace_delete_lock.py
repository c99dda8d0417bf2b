"""Deleting a workspace and deleting one of its environments at the same moment (PostgreSQL).

``environment_delete`` locks the workspace row, then deletes the environment. ``workspace_delete``
used to delete the environments first and reach the workspace row last: the two took their
locks in opposite orders, and PostgreSQL aborted one of them as a deadlock (a 500, found by the
schemathesis run). Both now lock the workspace row first, so the second one waits.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from tests import factories
from tests.workspaces.test_member_role_recheck import _waiting_on_a_lock
from workspaces.models import Environment, Workspace
from workspaces.services import workspace_delete


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_workspace_delete_queues_behind_an_environment_delete_without_deadlock():
    workspace = factories.make_workspace(factories.make_user("owner@team.test"))
    extra = factories.make_environment(workspace, slug="extra")
    outcome: dict[str, object] = {}

    def delete_the_workspace() -> None:
        try:
            workspace_delete(workspace=Workspace.objects.get(pk=workspace.pk))
            outcome["result"] = "deleted"
        except Exception as error:  # reported to the main thread, asserted below
            outcome["result"] = repr(error)
        finally:
            connection.close()

    with transaction.atomic():  # what environment_delete does: the workspace row, then the row
        Workspace.objects.select_for_update().get(pk=workspace.pk)
        thread = threading.Thread(target=delete_the_workspace)
        thread.start()
        deadline = time.monotonic() + 20
        while _waiting_on_a_lock() == 0:
            assert time.monotonic() < deadline, "workspace_delete never queued on a lock"
            time.sleep(0.02)
        time.sleep(0.2)  # let it go as far as it can before it waits
        Environment.objects.filter(pk=extra.pk).delete()
    thread.join(timeout=30)
    assert outcome == {"result": "deleted"}
    assert not Workspace.objects.filter(pk=workspace.pk).exists()
    assert not Environment.objects.filter(workspace_id=workspace.pk).exists()
