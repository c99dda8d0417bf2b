"""Lock routes (§4.13), served under /api/v1/. No trailing slash needed, never a redirect.

``lock_name`` and ``task_id`` are free strings without ``/``. The completion-status route comes
before the ``locks/<name>`` routes so it is never read as a lock name.
"""

from django.urls import re_path

from locks import limit_views, views

urlpatterns = [
    re_path(r"^locks/?$", views.LockListView.as_view(), name="lock-list"),
    re_path(r"^locks/tasks/(?P<task_id>[^/]+)/completion-status/?$",
            views.CompletionStatusView.as_view(), name="lock-completion-status"),
    re_path(r"^locks/(?P<lock_name>[^/]+)/acquire/?$", views.LockAcquireView.as_view(),
            name="lock-acquire"),
    re_path(r"^locks/(?P<lock_name>[^/]+)/renew/?$", views.LockRenewView.as_view(),
            name="lock-renew"),
    re_path(r"^locks/(?P<lock_name>[^/]+)/release/?$", views.LockReleaseView.as_view(),
            name="lock-release"),
    re_path(r"^locks/(?P<lock_name>[^/]+)/?$", views.LockDetailView.as_view(),
            name="lock-detail"),
    re_path(r"^concurrency-limits/?$", limit_views.ConcurrencyLimitListView.as_view(),
            name="concurrency-limit-list"),
    re_path(r"^concurrency-limits/(?P<key>[^/]+)/holders/?$",
            limit_views.ConcurrencyLimitHoldersView.as_view(), name="concurrency-limit-holders"),
    re_path(r"^concurrency-limits/(?P<key>[^/]+)/?$",
            limit_views.ConcurrencyLimitDetailView.as_view(), name="concurrency-limit-detail"),
]
