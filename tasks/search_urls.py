"""Task search routes (owned by the search helper); included before tasks/{task_id}."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
