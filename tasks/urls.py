"""Task routes (contract §4.11). Search routes come first so ``search`` is never a task id.

The routes of tasks in a build (§4.10.1-§4.10.6, under ``builds/{build_id}/``) are here too:
the tasks app owns them and depends on the builds app, never the reverse.
"""

from django.urls import include, path, re_path

from builds.urls import BUILD
from tasks.build_views import BuildTaskViewSet
from tasks.views import TaskViewSet

TASK = r"^tasks/(?P<task_id>[^/]+)"
BUILD_TASK = BUILD + r"/tasks/(?P<task_id>[^/]+)"


def _lifecycle(action: str, method: str):
    return re_path(rf"{BUILD_TASK}/{action}/?$", BuildTaskViewSet.as_view({"post": method}),
                   name=f"build-task-{action}")


urlpatterns = [
    path("", include("tasks.search.urls")),
    re_path(r"^tasks/?$", TaskViewSet.as_view({"get": "list", "post": "create"}),
            name="task-list"),
    re_path(rf"{TASK}/?$", TaskViewSet.as_view({"get": "retrieve"}), name="task-detail"),
    re_path(rf"{TASK}/assets/?$", TaskViewSet.as_view({"get": "assets"}), name="task-assets"),
    re_path(rf"{TASK}/events/?$", TaskViewSet.as_view({"get": "events"}), name="task-events"),
    re_path(rf"{TASK}/metadata/?$", TaskViewSet.as_view({"get": "metadata"}),
            name="task-metadata"),
    re_path(rf"{BUILD}/tasks/?$", BuildTaskViewSet.as_view({"get": "tasks", "post": "register"}),
            name="build-tasks"),
    re_path(rf"{BUILD}/events/?$", BuildTaskViewSet.as_view({"get": "events"}),
            name="build-events"),
    re_path(rf"{BUILD}/graph/?$", BuildTaskViewSet.as_view({"get": "graph"}),
            name="build-graph"),
    re_path(rf"{BUILD_TASK}/assets/?$", BuildTaskViewSet.as_view({"post": "assets"}),
            name="build-task-assets"),
    _lifecycle("start", "start"),
    _lifecycle("complete", "complete"),
    _lifecycle("fail", "fail"),
    _lifecycle("suspend", "suspend"),
    _lifecycle("resume", "resume"),
    _lifecycle("cancel", "cancel"),
    _lifecycle("waiting-for-lock", "waiting_for_lock"),
]
