"""Task routes (contract §4.11). Search routes come first so ``search`` is never a task id.

The routes of tasks in a build (§4.10.1-§4.10.6, under ``builds/{build_id}/``) are here too:
the tasks app owns them and depends on the builds app, never the reverse.
"""

from django.urls import include, path, re_path

from builds.urls import BUILD
from tasks.build_views import BuildTaskViewSet
from tasks.execution_views import BuildTaskExecutionViewSet
from tasks.views import TaskViewSet

TASK = r"^tasks/(?P<task_id>[^/]+)"
BUILD_TASK = BUILD + r"/tasks/(?P<task_id>[^/]+)"


def _lifecycle(action: str, method: str):
    return re_path(rf"{BUILD_TASK}/{action}/?$", BuildTaskViewSet.as_view({"post": method}),
                   name=f"build-task-{action}")


def _execution(pattern: str, method: str, action: str, name: str):
    return re_path(pattern, BuildTaskExecutionViewSet.as_view({method: action}), name=name)


urlpatterns = [
    # The SDK's calls for every task first (register, start, complete): Django tries patterns
    # in order, and these three are most of all requests. None overlaps a later pattern.
    re_path(rf"{BUILD}/tasks/?$", BuildTaskViewSet.as_view({"get": "tasks", "post": "register"}),
            name="build-tasks"),
    _lifecycle("start", "start"),
    _lifecycle("complete", "complete"),
    # Build-nested task operations of SDK ≥0.10 (SDK-WIRE §3.4 N2-N4, N6, N8, N11).
    _execution(rf"{BUILD}/tasks/bulk/?$", "post", "bulk_register", "build-tasks-bulk"),
    _execution(rf"{BUILD_TASK}/dependencies/?$", "post", "dependencies",
               "build-task-dependencies"),
    _execution(rf"{BUILD_TASK}/skip/?$", "post", "skip", "build-task-skip"),
    _execution(rf"{BUILD_TASK}/retry/?$", "post", "retry", "build-task-retry"),
    _execution(rf"{BUILD}/skip-blocked/?$", "post", "skip_blocked", "build-skip-blocked"),
    _execution(rf"{BUILD}/frontier/?$", "get", "frontier", "build-frontier"),
    path("", include("tasks.search.urls")),
    re_path(r"^tasks/?$", TaskViewSet.as_view({"get": "list", "post": "create"}),
            name="task-list"),
    re_path(rf"{TASK}/?$", TaskViewSet.as_view({"get": "retrieve"}), name="task-detail"),
    re_path(rf"{TASK}/assets/?$", TaskViewSet.as_view({"get": "assets"}), name="task-assets"),
    re_path(rf"{TASK}/artifacts/?$", TaskViewSet.as_view({"get": "artifacts"}),
            name="task-artifacts"),
    re_path(rf"{TASK}/events/?$", TaskViewSet.as_view({"get": "events"}), name="task-events"),
    re_path(rf"{TASK}/metadata/?$", TaskViewSet.as_view({"get": "metadata"}),
            name="task-metadata"),
    re_path(rf"{BUILD}/events/?$", BuildTaskViewSet.as_view({"get": "events"}),
            name="build-events"),
    re_path(rf"{BUILD}/graph/?$", BuildTaskViewSet.as_view({"get": "graph"}),
            name="build-graph"),
    re_path(rf"{BUILD_TASK}/assets/?$", BuildTaskViewSet.as_view({"post": "assets"}),
            name="build-task-assets"),
    # SDK ≥0.2 spelling of the same operation (SDK-WIRE N1).
    re_path(rf"{BUILD_TASK}/artifacts/?$", BuildTaskViewSet.as_view({"post": "assets"}),
            name="build-task-artifacts"),
    _lifecycle("fail", "fail"),
    _lifecycle("suspend", "suspend"),
    _lifecycle("resume", "resume"),
    _lifecycle("cancel", "cancel"),
    _lifecycle("waiting-for-lock", "waiting_for_lock"),
]
