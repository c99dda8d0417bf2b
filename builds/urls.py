"""Build routes (contract §4.10): no trailing slash required, never a redirect.

Path ids are captured as free strings and validated in the view, so a malformed ``build_id`` is
a 422 ``uuid_parsing`` rather than a 404. The task routes nested under a build
(``builds/{build_id}/tasks``, ``events``, ``graph`` and the task lifecycle) belong to the tasks
app (``tasks/urls.py``): tasks depend on builds, never the reverse.
"""

from django.urls import re_path

from builds.views import BuildViewSet

BUILD = r"^builds/(?P<build_id>[^/]+)"

urlpatterns = [
    re_path(r"^builds/?$", BuildViewSet.as_view({"get": "list", "post": "create"}),
            name="build-list"),
    re_path(r"^builds/bulk-cancel/?$", BuildViewSet.as_view({"post": "bulk_cancel"}),
            name="build-bulk-cancel"),
    re_path(rf"{BUILD}/?$", BuildViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
            name="build-detail"),
    re_path(rf"{BUILD}/complete/?$", BuildViewSet.as_view({"post": "complete"}),
            name="build-complete"),
    re_path(rf"{BUILD}/fail/?$", BuildViewSet.as_view({"post": "fail"}), name="build-fail"),
    re_path(rf"{BUILD}/cancel/?$", BuildViewSet.as_view({"post": "cancel"}),
            name="build-cancel"),
    re_path(rf"{BUILD}/exit-early/?$", BuildViewSet.as_view({"post": "exit_early"}),
            name="build-exit-early"),
    re_path(rf"{BUILD}/resume/?$", BuildViewSet.as_view({"post": "resume"}),
            name="build-resume"),
    re_path(rf"{BUILD}/scope/?$", BuildViewSet.as_view({"put": "scope"}), name="build-scope"),
    re_path(rf"{BUILD}/roots/?$", BuildViewSet.as_view({"post": "roots"}), name="build-roots"),
]
