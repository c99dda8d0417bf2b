from typing import Any

from django.apps import AppConfig


def _cancel_build_tasks(sender: Any, build: Any, **kwargs: Any) -> list[str]:
    from tasks.services import build_tasks_cancel

    return build_tasks_cancel(build=build)


class TasksConfig(AppConfig):
    name = "tasks"
    verbose_name = "Tasks"

    def ready(self) -> None:
        # A build cancel with ``cascade`` cancels the build's running tasks; builds signals
        # instead of importing tasks (tasks depends on builds, never the reverse).
        from builds.services import build_cancelling

        build_cancelling.connect(_cancel_build_tasks, dispatch_uid="tasks.cancel_build_tasks")
