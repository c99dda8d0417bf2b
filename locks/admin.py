"""Lock console: who holds what, until when, at which fencing version; force-release.

Locks are never deleted here: deleting a row would restart its name's fencing ``version`` at 0
for the next holder, handing out a token that was already used. Force-release (through
``lock_force_release``, needing the change permission) keeps the row as a tombstone, so the next
grant continues at ``version + 1``.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from locks.models import Lock
from locks.services import lock_force_release


class LockStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("active", "Active"), ("expired", "Expired"), ("released", "Released")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Lock]) -> QuerySet[Lock]:
        now = timezone.now()
        if self.value() == "active":
            return queryset.filter(released_at__isnull=True, expires_at__gt=now)
        if self.value() == "expired":
            return queryset.filter(released_at__isnull=True, expires_at__lte=now)
        if self.value() == "released":
            return queryset.filter(released_at__isnull=False)
        return queryset


@admin.register(Lock)
class LockAdmin(admin.ModelAdmin):
    list_display = ["name", "state", "owner_id", "acquired_at", "expires_at", "version",
                    "environment"]
    list_filter = [LockStateFilter, "environment__workspace"]
    search_fields = ["name", "owner_id", "environment__slug", "environment__workspace__slug"]
    list_select_related = ["environment__workspace"]
    readonly_fields = ["environment", "name", "owner_id", "acquired_at", "expires_at", "version",
                       "released_at"]
    ordering = ["-acquired_at"]
    actions = ["force_release"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # leases are granted through the API only

    def has_delete_permission(self, request: HttpRequest, obj: Lock | None = None) -> bool:
        return False  # a deleted row would reset the name's fencing version; force-release

    @admin.display(description="state")
    def state(self, lock: Lock) -> str:
        if lock.released_at is not None:
            return "released"
        return "active" if lock.is_active(timezone.now()) else "expired"

    @admin.action(description="Force-release selected locks", permissions=["change"])
    def force_release(self, request: HttpRequest, queryset: QuerySet[Lock]) -> None:
        released = sum(lock_force_release(lock=lock) for lock in queryset)
        self.message_user(request, f"Released {released} lock(s).", messages.SUCCESS)
