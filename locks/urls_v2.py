"""``/api/v2/concurrency-limits`` routes (SDK-WIRE 4.4)."""

from django.urls import re_path

from locks import views_v2

urlpatterns = [
    re_path(r"^concurrency-limits/?$", views_v2.ConcurrencyLimitsView.as_view(),
            name="v2-concurrency-limits"),
    re_path(r"^concurrency-limits/(?P<key>[^/]+)/?$", views_v2.ConcurrencyLimitView.as_view(),
            name="v2-concurrency-limit"),
]
