"""Task routes (contract §4.11). Search routes come first so ``search`` is never a task id."""

from django.urls import include, path, re_path

from tasks.views import TaskViewSet

TASK = r"^tasks/(?P<task_id>[^/]+)"

urlpatterns = [
    path("", include("tasks.search_urls")),
    re_path(r"^tasks/?$", TaskViewSet.as_view({"get": "list", "post": "create"}),
            name="task-list"),
    re_path(rf"{TASK}/?$", TaskViewSet.as_view({"get": "retrieve"}), name="task-detail"),
    re_path(rf"{TASK}/assets/?$", TaskViewSet.as_view({"get": "assets"}), name="task-assets"),
    re_path(rf"{TASK}/events/?$", TaskViewSet.as_view({"get": "events"}), name="task-events"),
    re_path(rf"{TASK}/metadata/?$", TaskViewSet.as_view({"get": "metadata"}),
            name="task-metadata"),
]
