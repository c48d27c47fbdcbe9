from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from conversations import services
from conversations.admin_scope import OrganizationScopedAdmin, request_membership
from conversations.models import (
    Channel,
    Contact,
    Conversation,
    ConversationEvent,
    Membership,
    Message,
    Organization,
    Project,
    Role,
    User,
)


class ScopedRelatedFilter(admin.RelatedFieldListFilter):
    """A list filter on a related object that offers only the viewer's organization's
    objects: the stock filter would list every organization's projects and agents."""

    def field_choices(self, field: Any, request: HttpRequest, model_admin: Any) -> list[Any]:
        member = request_membership(request)
        queryset = field.related_model._default_manager.all()
        if not request.user.is_superuser:  # type: ignore[union-attr]
            if member is None:
                return []
            queryset = queryset.filter(organization_id=member.organization_id)
        return [(obj.pk, str(obj)) for obj in queryset.order_by("pk")]


@admin.register(Organization)
class OrganizationAdmin(OrganizationScopedAdmin):
    org_path = "pk"
    list_display = ["name", "created_at"]
    search_fields = ["name"]


@admin.register(User)
class UserAdmin(OrganizationScopedAdmin):
    org_path = "membership__organization_id"
    # Sign-ins are the admin's: a supervisor could otherwise lock colleagues out.
    supervisor_may_change = False
    list_display = ["email", "name", "is_active", "is_staff"]
    search_fields = ["email", "name"]
    fields = ["email", "name", "is_active", "is_staff", "last_login", "date_joined"]
    readonly_fields = ["last_login", "date_joined"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Whether the user may sign in goes through ``user_access_update`` (in the admin's
        transaction of the whole change): turning it off ends their tokens, sessions and
        open docks."""
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data:
            services.user_access_update(user=obj, active=form.cleaned_data["is_active"])


MEMBER_SETTINGS = ("role", "max_open", "skills", "languages")


@admin.register(Membership)
class MembershipAdmin(OrganizationScopedAdmin):
    """Changes go through ``member_update`` so routing reconsiders the queue; supervisors
    may change capacity, skills, languages and projects, not roles."""

    list_display = [
        "user",
        "role",
        "presence_status",
        "open_count",
        "max_open",
        "skills",
        "languages",
    ]
    list_filter = ["role", "presence__status", ("projects", ScopedRelatedFilter)]
    search_fields = ["user__email", "user__name", "skills", "languages"]
    list_select_related = ["user", "presence"]
    filter_horizontal = ["projects"]

    @admin.display(description="presence", ordering="presence__status")
    def presence_status(self, member: Membership) -> str:
        presence = getattr(member, "presence", None)
        return presence.get_status_display() if presence else "Offline"

    @admin.display(description="open", ordering="open_conversations")
    def open_count(self, member: Membership) -> int:
        return member.open_conversations

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        member = request_membership(request)
        if request.user.is_superuser or (member and member.role == Role.ADMIN):  # type: ignore[union-attr]
            return ["organization", "user", "created_at", "last_assigned_at"] if obj else []
        return ["organization", "user", "role", "created_at", "last_assigned_at"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change:
            super().save_model(request, obj, form, change)
            return
        changes = {f: form.cleaned_data[f] for f in form.changed_data if f in MEMBER_SETTINGS}
        services.member_update(member=obj, **changes)


@admin.register(Project)
class ProjectAdmin(OrganizationScopedAdmin):
    # Set-up is the admin's, as in the API; supervisors read it.
    supervisor_may_change = False
    list_display = ["name", "created_at"]
    search_fields = ["name"]


@admin.register(Channel)
class ChannelAdmin(OrganizationScopedAdmin):
    supervisor_may_change = False
    list_display = ["display_phone_number", "phone_number_id", "project", "default_language"]
    list_filter = [("project", ScopedRelatedFilter)]
    search_fields = ["display_phone_number", "phone_number_id", "project__name"]
    readonly_fields = ["key"]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        # Secrets are written, never shown again.
        for secret in ("access_token", "app_secret"):
            if secret in form.base_fields:
                form.base_fields[secret].widget = forms.PasswordInput(render_value=False)
                form.base_fields[secret].required = obj is None
        return form

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            for secret in ("access_token", "app_secret"):
                if not form.cleaned_data.get(secret):
                    setattr(
                        obj,
                        secret,
                        form.initial.get(secret) or getattr(Channel.objects.get(pk=obj.pk), secret),
                    )
        super().save_model(request, obj, form, change)


@admin.register(Contact)
class ContactAdmin(OrganizationScopedAdmin):
    list_display = ["name", "wa_id", "user_id", "language", "created_at"]
    search_fields = ["name", "wa_id", "user_id"]
    list_filter = ["language"]


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    can_delete = False
    fields = ("sent_at", "direction", "type", "text", "status", "sender")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EventInline(admin.TabularInline):
    model = ConversationEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "kind", "rule", "actor", "from_agent", "to_agent", "note")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Conversation)
class ConversationAdmin(OrganizationScopedAdmin):
    """Threads are read-only here: changes go through the dock, the board or the API,
    which route and audit them."""

    list_display = [
        "id",
        "contact",
        "project",
        "status",
        "agent",
        "priority",
        "queued_at",
        "closed_at",
    ]
    list_filter = [
        "status",
        ("project", ScopedRelatedFilter),
        ("channel", ScopedRelatedFilter),
        ("agent", ScopedRelatedFilter),
        "language",
    ]
    search_fields = [
        "=id",
        "contact__name",
        "contact__wa_id",
        "contact__user_id",
        "agent__user__email",
        "outcome",
    ]
    list_select_related = ["contact", "project", "agent__user"]
    date_hierarchy = "created_at"
    inlines = [MessageInline, EventInline]
    supervisor_may_change = False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
