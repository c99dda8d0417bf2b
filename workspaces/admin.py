"""Operators' console for tenancy: workspaces (members and environments inline), invites,
environments, target roots and API keys.

The console goes through the same services as the API, so it cannot break the rules the API
enforces: a workspace is created with its owner and default environment (``workspace_create``)
and keeps at least one environment (``environment_delete``); role changes and removals of
memberships keep the last owner (``member_update`` / ``member_remove``, checked again under the
workspace lock); API keys are created by ``api_key_create`` and revoked, never deleted; locks are
force-released, never deleted (``locks/admin.py``); and every action declares the permission it
needs, so a view-only staff user can look but not act.

A new API key is shown once, on the page that answers the "Save" (never stored, never cached, and
never put into a message: Django's default message storage is a signed, not encrypted, cookie).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models as db_models
from django.db.models import Count, Q, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.cache import add_never_cache_headers

from accounts.models import User
from stardag_site.domain_errors import NotFoundError
from workspaces.api_keys import api_key_create, api_key_revoke
from workspaces.invites import invite_cancel
from workspaces.models import (
    ApiKey,
    Environment,
    Invite,
    InviteStatus,
    Role,
    TargetRoot,
    Workspace,
    WorkspaceMember,
)
from workspaces.services import (
    environment_delete,
    member_remove,
    member_update,
    workspace_create,
)


def _owned_data_goes_along(deleted: tuple[Any, ...]) -> tuple[Any, ...]:
    """``get_deleted_objects`` result with ``perms_needed`` cleared: deleting a workspace or an
    environment deletes its data (builds, tasks, locks, API keys) with it, as the API does. Those
    models' admins refuse deleting single rows (read-only history, revoke, force-release), which
    Django would otherwise take as "no permission" to delete the environment at all."""
    deleted_objects, counts, _perms_needed, protected = deleted
    return deleted_objects, counts, set(), protected


def adopt(target: db_models.Model, created: db_models.Model) -> None:
    """Make the admin form's unsaved instance the row a service created, so that the admin's
    own steps after ``save_model`` (history entry, redirect) refer to it."""
    for field in target._meta.concrete_fields:
        setattr(target, field.attname, getattr(created, field.attname))
    target._state.adding = False
    target._state.db = created._state.db


# --- Memberships (inline on workspaces and on users) ------------------------------------------


class MembershipFormSet(BaseInlineFormSet):
    """Inline memberships that keep every workspace's last owner.

    ``clean`` locks the affected workspace rows (the admin runs the whole request in one
    transaction, so the lock lasts until the changes are saved) and refuses a submission after
    which a workspace that has an owner would have none. Moving an existing membership to another
    user or workspace is refused too: delete it and add a new one. Saving then goes through the
    services (``save_membership_formset``), which check the rule once more.
    """

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        before = {
            member.pk: member
            for member in WorkspaceMember.objects.filter(
                pk__in=[form.instance.pk for form in self.initial_forms if form.instance.pk]
            )
        }
        lost: dict[Any, set[Any]] = {}  # workspace id → users whose owner role goes away
        gained: dict[Any, set[Any]] = {}  # workspace id → users who are owners afterwards
        for form in self.forms:
            # Django's own test for "marked for deletion" (not in the stubs)
            deleted = self.can_delete and self._should_delete_form(form)  # type: ignore[attr-defined]
            original = before.get(form.instance.pk) if form.instance.pk else None
            if original is None and (deleted or not form.has_changed()):
                continue  # an empty or discarded extra form
            after = None if deleted else form.instance
            if original is not None and after is not None and (
                (original.workspace_id, original.user_id) != (after.workspace_id, after.user_id)
            ):
                raise ValidationError(
                    "A membership cannot be moved to another user or workspace; delete it and "
                    "add a new one."
                )
            if original is not None and original.role == Role.OWNER and (
                after is None or after.role != Role.OWNER
            ):
                lost.setdefault(original.workspace_id, set()).add(original.user_id)
            if after is not None and after.role == Role.OWNER:
                gained.setdefault(after.workspace_id, set()).add(after.user_id)
        if not lost:
            return
        for workspace in Workspace.objects.select_for_update().filter(pk__in=lost).order_by("pk"):
            owners = set(
                WorkspaceMember.objects.filter(workspace=workspace, role=Role.OWNER)
                .values_list("user_id", flat=True)
            )
            if owners and not ((owners - lost[workspace.pk]) | gained.get(workspace.pk, set())):
                raise ValidationError(f"Cannot remove the last owner of {workspace}.")


def save_membership_formset(formset: BaseInlineFormSet) -> None:
    """Apply a validated ``MembershipFormSet`` through the services: additions first, then role
    changes (promotions before demotions), then removals, so that a submission that hands the
    owner role over never passes through a moment without an owner."""
    formset.save(commit=False)
    for member in formset.new_objects:
        member.save()
    changes = [(member, member.role) for member, fields in formset.changed_objects
               if "role" in fields]
    changes.sort(key=lambda change: change[1] != Role.OWNER)
    for member, role in changes:
        member_update(actor=None, member=member, role=role)
    for member in formset.deleted_objects:
        member_remove(actor=None, member=member)


class MembershipAdminMixin:
    """For model admins with a ``WorkspaceMember`` inline: saves it through the services."""

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is WorkspaceMember:
            save_membership_formset(formset)
        else:
            super().save_formset(request, form, formset, change)  # type: ignore[misc]


class MemberInline(admin.TabularInline):
    model = WorkspaceMember
    formset = MembershipFormSet
    extra = 0
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]
    autocomplete_fields = ["user"]


class EnvironmentFormSet(BaseInlineFormSet):
    """A workspace's inline environments: it keeps at least one (the rule of
    ``environment_delete``), checked with the workspace row locked until the save."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors) or self.instance.pk is None:
            return
        Workspace.objects.select_for_update().filter(pk=self.instance.pk).first()
        kept = [form for form in self.forms
                if not (self.can_delete
                        and self._should_delete_form(form))  # type: ignore[attr-defined]
                and (form.instance.pk or form.has_changed())]
        if not kept:
            raise ValidationError("Cannot delete the last environment.")


class EnvironmentInline(admin.TabularInline):
    model = Environment
    formset = EnvironmentFormSet
    extra = 0
    fields = ["name", "slug", "description", "max_concurrent_locks", "created_at"]
    readonly_fields = ["created_at"]
    show_change_link = True


@admin.register(Workspace)
class WorkspaceAdmin(MembershipAdminMixin, admin.ModelAdmin):
    """Workspaces with their members and environments inline.

    "Add workspace" creates the workspace through ``workspace_create``, exactly like the API:
    the chosen owner becomes its first (owner) member and it gets its default environment. The
    owner is the add form's "Owner" field (the workspace's ``created_by``, as the API records the
    creator), which defaults to the operator who is signed in; choose another user to create a
    workspace on their behalf. The creator quota of the API does not apply to operators.
    Members and further environments are managed on the change page, once the workspace exists.
    """

    list_display = ["name", "slug", "is_personal", "created_by", "member_count",
                    "environment_count", "created_at"]
    list_filter = ["is_personal", "created_at"]
    search_fields = ["name", "slug", "created_by__email", "=id"]
    list_select_related = ["created_by"]
    readonly_fields = ["id", "created_at"]
    autocomplete_fields = ["created_by"]
    inlines = [MemberInline, EnvironmentInline]

    def get_fields(self, request: HttpRequest, obj: Workspace | None = None) -> Any:
        if obj is None:
            return ["name", "slug", "description", "created_by"]
        return super().get_fields(request, obj)

    def get_form(self, request: HttpRequest, obj: Workspace | None = None, change: bool = False,
                 **kwargs: Any) -> type[forms.ModelForm]:
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None:
            owner = form.base_fields["created_by"]
            owner.required = True
            owner.label = "Owner"
            owner.help_text = ("Becomes the workspace's first owner (defaults to you). The "
                               "default environment is created with the workspace.")
        return form

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"created_by": request.user.pk, **super().get_changeform_initial_data(request)}

    def get_inlines(self, request: HttpRequest, obj: Workspace | None = None) -> list[type]:
        return self.inlines if obj is not None else []  # the service creates the first rows

    def save_model(self, request: HttpRequest, obj: Workspace, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        created = workspace_create(
            user=form.cleaned_data["created_by"], name=obj.name, slug=obj.slug,
            description=obj.description, enforce_limit=False,
        )
        adopt(obj, created)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple[Any, ...]:
        return _owned_data_goes_along(super().get_deleted_objects(objs, request))

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not Environment:
            super().save_formset(request, form, formset, change)
            return
        formset.save(commit=False)
        for environment in [*formset.new_objects, *(e for e, _ in formset.changed_objects)]:
            environment.save()
        for environment in formset.deleted_objects:
            environment_delete(environment=environment)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Workspace]:
        return super().get_queryset(request).with_counts()  # type: ignore[attr-defined]

    @admin.display(description="members", ordering="member_count")
    def member_count(self, workspace: Workspace) -> int:
        return workspace.member_count  # type: ignore[attr-defined]

    @admin.display(description="environments", ordering="environment_count")
    def environment_count(self, workspace: Workspace) -> int:
        return workspace.environment_count  # type: ignore[attr-defined]


@admin.register(Invite)
class InviteAdmin(admin.ModelAdmin):
    list_display = ["email", "workspace", "role", "status", "invited_by", "created_at",
                    "accepted_at"]
    list_filter = ["status", "role"]
    search_fields = ["email", "workspace__slug", "workspace__name", "invited_by__email"]
    list_select_related = ["workspace", "invited_by"]
    readonly_fields = ["id", "created_at", "accepted_at"]
    autocomplete_fields = ["workspace", "invited_by"]
    actions = ["cancel_invites"]

    def get_readonly_fields(self, request: HttpRequest, obj: Invite | None = None) -> list[str]:
        if obj is None:
            return self.readonly_fields
        # Status changes only through the services: cancel here, accept/decline by the invitee
        # (accepting creates the membership; editing the field would not).
        return [*self.readonly_fields, "status"]

    @admin.action(description="Cancel selected pending invites", permissions=["change"])
    def cancel_invites(self, request: HttpRequest, queryset: QuerySet[Invite]) -> None:
        count = 0
        for invite in queryset.filter(status=InviteStatus.PENDING).select_related("workspace"):
            try:
                invite_cancel(workspace=invite.workspace, invite_id=invite.pk)
            except NotFoundError:
                continue  # answered or cancelled meanwhile
            count += 1
        self.message_user(request, f"Cancelled {count} invite(s).", messages.SUCCESS)


class TargetRootInline(admin.TabularInline):
    model = TargetRoot
    extra = 0
    fields = ["name", "uri_prefix", "created_at"]
    readonly_fields = ["created_at"]


@admin.register(Environment)
class EnvironmentAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "workspace", "max_concurrent_locks", "active_key_count",
                    "created_at"]
    list_filter = ["workspace__is_personal", "created_at"]
    search_fields = ["name", "slug", "workspace__slug", "workspace__name", "=id"]
    list_select_related = ["workspace"]
    readonly_fields = ["id", "owner_id", "created_at"]
    autocomplete_fields = ["workspace"]
    inlines = [TargetRootInline]

    def get_readonly_fields(self, request: HttpRequest,
                            obj: Environment | None = None) -> list[str]:
        if obj is None:
            return self.readonly_fields
        return [*self.readonly_fields, "workspace"]  # moving it could empty its workspace

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple[Any, ...]:
        """Deleting every environment of a workspace is refused (listed as protected), as
        ``environment_delete`` refuses the last one; the delete pages say why."""
        deleted, counts, perms_needed, protected = _owned_data_goes_along(
            super().get_deleted_objects(objs, request))
        chosen: dict[Any, set[Any]] = {}
        for environment in objs:
            chosen.setdefault(environment.workspace_id, set()).add(environment.pk)
        for workspace in Workspace.objects.filter(pk__in=chosen):
            if set(workspace.environments.values_list("pk", flat=True)) <= chosen[workspace.pk]:
                protected = [*protected, f"Workspace {workspace}: it keeps at least one "
                                         "environment"]
        return deleted, counts, perms_needed, protected

    def delete_model(self, request: HttpRequest, obj: Environment) -> None:
        environment_delete(environment=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Environment]) -> None:
        for environment in queryset:
            environment_delete(environment=environment)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Environment]:
        return super().get_queryset(request).annotate(
            active_keys=Count("api_keys", filter=Q(api_keys__revoked_at__isnull=True))
        )

    @admin.display(description="active API keys", ordering="active_keys")
    def active_key_count(self, environment: Environment) -> int:
        return environment.active_keys  # type: ignore[attr-defined]


@admin.register(TargetRoot)
class TargetRootAdmin(admin.ModelAdmin):
    list_display = ["name", "uri_prefix", "environment", "created_at"]
    search_fields = ["name", "uri_prefix", "environment__slug", "environment__workspace__slug"]
    list_filter = ["environment__workspace"]
    list_select_related = ["environment__workspace"]
    readonly_fields = ["id", "created_at"]
    autocomplete_fields = ["environment"]


class ApiKeyStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("active", "Active"), ("revoked", "Revoked")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> QuerySet[ApiKey]:
        if self.value() == "active":
            return queryset.active()  # type: ignore[attr-defined]
        if self.value() == "revoked":
            return queryset.revoked()  # type: ignore[attr-defined]
        return queryset


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Adding a key generates it (``api_key_create``) and answers with a page that shows the raw
    key once. Keys are revoked (the "Revoke" button on a key's page, or the list action), never
    deleted: a revoked key keeps its usage history."""

    list_display = ["name", "display_prefix", "environment", "created_by", "created_at",
                    "last_used_at", "is_active"]
    list_filter = [ApiKeyStateFilter, "environment__workspace"]
    search_fields = ["name", "key_prefix", "environment__slug", "environment__workspace__slug",
                     "created_by__email"]
    list_select_related = ["environment__workspace", "created_by"]
    autocomplete_fields = ["environment"]
    actions = ["revoke_keys"]
    readonly_fields = ["id", "key_prefix", "key_hash", "created_by", "created_at",
                       "last_used_at", "revoked_at"]
    change_form_template = "admin/workspaces/apikey/change_form.html"

    def get_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> Any:
        if obj is None:
            return ["environment", "name"]
        return ["id", "name", "environment", "key_prefix", "key_hash", "created_by",
                "created_at", "last_used_at", "revoked_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> list[str]:
        if obj is None:
            return []
        return [*self.readonly_fields, "environment"]

    def has_delete_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        return False  # revoke instead: deleting would erase the key's history

    @admin.display(description="prefix")
    def display_prefix(self, api_key: ApiKey) -> str:
        return f"sk_{api_key.key_prefix}…"

    @admin.display(description="active", boolean=True)
    def is_active(self, api_key: ApiKey) -> bool:
        return api_key.revoked_at is None

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        operator = request.user  # the admin only lets a signed-in staff user get here
        assert isinstance(operator, User)
        new_key = api_key_create(environment=obj.environment, name=obj.name,
                                 created_by=operator)
        adopt(obj, new_key.api_key)
        obj._raw_key = new_key.raw_key  # type: ignore[attr-defined]  # for response_add only

    def response_add(self, request: HttpRequest, obj: ApiKey,
                     post_url_continue: str | None = None) -> HttpResponse:
        """Show the new key on this response only: not in a message (the default message
        storage is a cookie anyone holding it can decode), not in the session, not cached."""
        raw_key = getattr(obj, "_raw_key", None)
        if raw_key is None:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "title": "API key created",
            "opts": self.opts,
            "api_key": obj,
            "raw_key": raw_key,
            "change_url": reverse("admin:workspaces_apikey_change", args=[obj.pk]),
            "changelist_url": reverse("admin:workspaces_apikey_changelist"),
            "add_url": reverse("admin:workspaces_apikey_add"),
        }
        response = TemplateResponse(request, "admin/workspaces/apikey/created.html", context)
        add_never_cache_headers(response)
        return response

    def get_urls(self) -> list[Any]:
        revoke = self.admin_site.admin_view(self.revoke_view)
        return [path("<path:object_id>/revoke/", revoke, name="workspaces_apikey_revoke"),
                *super().get_urls()]

    def revoke_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The key page's "Revoke" button: GET asks for confirmation, POST revokes. Needs the
        change permission, like the list action."""
        api_key = self.get_object(request, unquote(object_id))
        if api_key is None:
            raise Http404("API key not found")
        if not self.has_change_permission(request, api_key):
            raise PermissionDenied
        change_url = reverse("admin:workspaces_apikey_change", args=[api_key.pk])
        if request.method == "POST":
            if api_key.revoked_at is None:
                api_key_revoke(api_key=api_key)
                self.log_change(request, api_key, "Revoked the API key.")
                self.message_user(request, f"Revoked {api_key}.", messages.SUCCESS)
            return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": "Revoke API key?",
            "opts": self.opts,
            "api_key": api_key,
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/workspaces/apikey/revoke.html", context)

    @admin.action(description="Revoke selected API keys", permissions=["change"])
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        count = 0
        for api_key in queryset.filter(revoked_at__isnull=True):
            api_key_revoke(api_key=api_key)
            count += 1
        self.message_user(request, f"Revoked {count} API key(s).", messages.SUCCESS)
