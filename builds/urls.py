"""Build routes (contract §4.10): no trailing slash required, never a redirect.

Path ids are captured as free strings and validated in the view, so a malformed ``build_id`` is
a 422 ``uuid_parsing`` rather than a 404.
"""

from django.urls import re_path

from builds.task_views import BuildTaskViewSet
from builds.views import BuildViewSet

BUILD = r"^builds/(?P<build_id>[^/]+)"
TASK = BUILD + r"/tasks/(?P<task_id>[^/]+)"


def _lifecycle(action: str, method: str):
    return re_path(rf"{TASK}/{action}/?$", BuildTaskViewSet.as_view({"post": method}),
                   name=f"build-task-{action}")


urlpatterns = [
    re_path(r"^builds/?$", BuildViewSet.as_view({"get": "list", "post": "create"}),
            name="build-list"),
    re_path(rf"{BUILD}/?$", BuildViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
            name="build-detail"),
    re_path(rf"{BUILD}/complete/?$", BuildViewSet.as_view({"post": "complete"}),
            name="build-complete"),
    re_path(rf"{BUILD}/fail/?$", BuildViewSet.as_view({"post": "fail"}), name="build-fail"),
    re_path(rf"{BUILD}/cancel/?$", BuildViewSet.as_view({"post": "cancel"}),
            name="build-cancel"),
    re_path(rf"{BUILD}/exit-early/?$", BuildViewSet.as_view({"post": "exit_early"}),
            name="build-exit-early"),
    re_path(rf"{BUILD}/tasks/?$", BuildTaskViewSet.as_view({"get": "tasks", "post": "register"}),
            name="build-tasks"),
    re_path(rf"{BUILD}/events/?$", BuildTaskViewSet.as_view({"get": "events"}),
            name="build-events"),
    re_path(rf"{BUILD}/graph/?$", BuildTaskViewSet.as_view({"get": "graph"}),
            name="build-graph"),
    re_path(rf"{TASK}/assets/?$", BuildTaskViewSet.as_view({"post": "assets"}),
            name="build-task-assets"),
    _lifecycle("start", "start"),
    _lifecycle("complete", "complete"),
    _lifecycle("fail", "fail"),
    _lifecycle("suspend", "suspend"),
    _lifecycle("resume", "resume"),
    _lifecycle("cancel", "cancel"),
    _lifecycle("waiting-for-lock", "waiting_for_lock"),
]
