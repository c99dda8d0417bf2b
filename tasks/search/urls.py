"""Task search routes (contract §4.12); ``tasks/urls.py`` includes them before
``tasks/{task_id}`` so "search" is never taken for a task id.
"""

from django.urls import re_path

from tasks.search import views as search_views

urlpatterns = [
    re_path(r"^tasks/search/?$", search_views.TaskSearchView.as_view(), name="task-search"),
    re_path(r"^tasks/search/keys/?$", search_views.TaskSearchKeysView.as_view(),
            name="task-search-keys"),
    re_path(r"^tasks/search/values/?$", search_views.TaskSearchValuesView.as_view(),
            name="task-search-values"),
    re_path(r"^tasks/search/columns/?$", search_views.TaskSearchColumnsView.as_view(),
            name="task-search-columns"),
]
