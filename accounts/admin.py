"""Operators' console for people: API users (from the identity provider) and staff."""

from __future__ import annotations

from typing import Any

from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from accounts.models import User
from workspaces.admin import MembershipAdminMixin, MembershipFormSet
from workspaces.models import Role, Workspace, WorkspaceMember


class UserCreateForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email", "display_name")


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class MembershipInline(admin.TabularInline):
    model = WorkspaceMember
    formset = MembershipFormSet  # keeps every workspace's last owner
    fk_name = "user"
    extra = 0
    fields = ["workspace", "role", "created_at"]
    readonly_fields = ["created_at"]
    autocomplete_fields = ["workspace"]
    verbose_name = "workspace membership"


@admin.register(User)
class UserAdmin(MembershipAdminMixin, DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreateForm
    ordering = ["-created_at"]
    list_display = ["email", "display_name", "external_id", "workspace_count", "is_staff",
                    "is_active", "created_at", "last_login"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["email", "display_name", "external_id", "=id"]
    readonly_fields = ["id", "email_verified", "created_at", "last_login"]
    inlines = [MembershipInline]
    fieldsets = (
        (None, {"fields": ("id", "email", "email_verified", "display_name", "external_id",
                           "password")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups",
                                    "user_permissions")}),
        ("Dates", {"fields": ("created_at", "last_login")}),
    )
    add_fieldsets = (
        (None, {
            "classes": ("wide",),
            "fields": ("email", "display_name", "password1", "password2"),
        }),
    )
    filter_horizontal = ("groups", "user_permissions")

    def get_inlines(self, request: HttpRequest, obj: User | None = None) -> list[type]:
        return self.inlines if obj is not None else []  # memberships come after creation

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).annotate(workspace_total=Count("memberships"))

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple[Any, ...]:
        """Deleting users who are the only owners of a shared workspace is refused (listed as
        protected): the workspace would be left without an owner, which the API never allows.
        Hand the owner role over first. (A personal workspace goes ownerless with its user.)"""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        leaving = {user.pk for user in objs}
        for workspace in Workspace.objects.filter(
            is_personal=False, memberships__user__in=leaving, memberships__role=Role.OWNER
        ).distinct():
            owners = set(workspace.memberships.filter(role=Role.OWNER)
                         .values_list("user_id", flat=True))
            if owners <= leaving:
                protected = [*protected, f"Workspace {workspace}: its last owner"]
        return deleted, counts, perms_needed, protected

    @admin.display(description="workspaces", ordering="workspace_total")
    def workspace_count(self, user: User) -> int:
        return user.workspace_total  # type: ignore[attr-defined]


@admin.register(AccessAttempt)
class LoginLockoutAdmin(admin.ModelAdmin):
    """Failed admin sign-ins counted by django-axes (``accounts/login_throttle.py``). Deleting a
    row lifts the lock it causes before the cool-off ends; nothing here can be edited."""

    list_display = ["username", "ip_address", "failures_since_start", "attempt_time",
                    "path_info"]
    search_fields = ["username", "ip_address"]
    ordering = ["-attempt_time"]
    fields = readonly_fields = ("username", "ip_address", "failures_since_start", "attempt_time",
                                "path_info", "user_agent")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AccessAttempt | None = None) -> bool:
        return False
